"""Who may see which case. Every query for a couple goes through here.

The decision itself is a plain function over plain values, so it is tested without a
request; the query helpers apply it and answer 404 (never 403) so that another
therapist cannot even learn that a case exists.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import selectinload

from ..models import Couple
from ..state import config, db_session

if TYPE_CHECKING:
    from ..models import Therapist


def may_access_couple(
    *,
    therapist_id: uuid.UUID,
    therapist_is_admin: bool,
    couple_therapist_id: uuid.UUID,
    admins_see_all: bool,
) -> bool:
    """A therapist sees their own cases; an admin sees all of them only when the practice
    has said so in config."""
    if therapist_id == couple_therapist_id:
        return True
    return therapist_is_admin and admins_see_all


#: The bind parameter of :func:`visible_couples_criteria`: the viewing therapist's id.
VIEWER_PARAMETER = "viewer_therapist_id"


def sees_all_cases(therapist: Therapist) -> bool:
    """Whether ``therapist`` sees every case of the practice (see :func:`may_access_couple`)."""
    return bool(therapist.is_admin and config("ADMINS_SEE_ALL_CASES"))


def visible_couples_criteria(*, sees_all: bool) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``Couple`` for the cases a therapist may see, soft-deleted ones
    left out. The therapist is the bind parameter :data:`VIEWER_PARAMETER`, so that a
    statement built on them once serves every therapist (the dashboard's does)."""
    criteria: list[sa.ColumnElement[bool]] = [Couple.deleted_at.is_(None)]
    if not sees_all:
        criteria.append(Couple.therapist_id == sa.bindparam(VIEWER_PARAMETER, type_=sa.Uuid))
    return criteria


def visible_couples(therapist: Therapist) -> sa.Select[Couple]:
    """A query for the cases ``therapist`` may see, soft-deleted ones left out."""
    criteria = visible_couples_criteria(sees_all=sees_all_cases(therapist))
    return sa.select(Couple).where(*criteria).params({VIEWER_PARAMETER: therapist.id})


def couple_or_404(couple_id: uuid.UUID, therapist: Therapist) -> Couple:
    """The couple with ``couple_id`` if ``therapist`` may see it; otherwise 404."""
    couple = db_session().scalar(
        sa.select(Couple)
        .where(Couple.id == couple_id, Couple.deleted_at.is_(None))
        .options(selectinload(Couple.partners))
    )
    if couple is None or not may_access_couple(
        therapist_id=therapist.id,
        therapist_is_admin=therapist.is_admin,
        couple_therapist_id=couple.therapist_id,
        admins_see_all=config("ADMINS_SEE_ALL_CASES"),
    ):
        abort(404)
    return couple
