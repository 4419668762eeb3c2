"""Loading a couple's homework, for the pages and reports that show it."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import selectinload

from ..models import Couple, HomeworkAssignment
from ..state import db_session


def couple_assignments(couple: Couple) -> list[HomeworkAssignment]:
    """The couple's assignments not deleted, newest first, their check-ins loaded."""
    return list(
        db_session().scalars(
            sa.select(HomeworkAssignment)
            .where(
                HomeworkAssignment.couple_id == couple.id, HomeworkAssignment.deleted_at.is_(None)
            )
            .options(selectinload(HomeworkAssignment.check_ins))
            .order_by(HomeworkAssignment.starts_on.desc(), HomeworkAssignment.created_at.desc())
        )
    )


def assignment_or_404(couple: Couple, assignment_id: uuid.UUID) -> HomeworkAssignment:
    """The couple's assignment (not deleted), or 404."""
    assignment = db_session().get(HomeworkAssignment, assignment_id)
    if assignment is None or assignment.couple_id != couple.id or assignment.deleted_at:
        abort(404)
    return assignment
