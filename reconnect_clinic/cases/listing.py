"""The therapist's list of cases (the dashboard): one query of the columns shown, built
once per process, and a plain function that turns its rows into lines.

The dashboard is the page a therapist opens most. Loading each case and its partners as
ORM objects cost about as much as the rest of the request together (two queries, and
every column of 120 rows converted). The list needs nine columns of one row per case:
the two partners are joined by role, so each case is one row, and the statement, built
with the therapist as a bind parameter, is constructed once rather than per request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..models import CaseStatus, Couple, Partner, PartnerRole, Therapist, person_name
from ..risk.core import RiskLevel
from ..security.access import VIEWER_PARAMETER, sees_all_cases, visible_couples_criteria
from ..state import db_session

STATUS_FILTERS = ("open", "closed", "all")


@dataclass(frozen=True)
class CaseLine:
    """One case as the dashboard lists it."""

    id: uuid.UUID
    label: str
    status: str
    opened_on: date
    closed_on: date | None
    partner_names: tuple[str, ...]
    # The most urgent open risk of either partner (risk/queries.py), None when none.
    risk_level: RiskLevel | None = None


@cache
def caseload_statement(*, sees_all: bool, shown: str) -> sa.Select[Any]:
    """The columns the dashboard shows, one row per case, for the cases a therapist may see
    (the therapist is the bind parameter ``VIEWER_PARAMETER``), filtered by ``shown`` (one
    of :data:`STATUS_FILTERS`), in the list's order. Built once per argument pair."""
    if shown not in STATUS_FILTERS:
        raise ValueError(f"unknown filter {shown!r}")
    partner_a, partner_b = aliased(Partner), aliased(Partner)
    query = (
        sa.select(
            Couple.id,
            Couple.label,
            Couple.status,
            Couple.opened_on,
            Couple.closed_on,
            partner_a.first_name,
            partner_a.last_name,
            partner_b.first_name,
            partner_b.last_name,
        )
        .where(*visible_couples_criteria(sees_all=sees_all))
        # Outer joins: a case is listed even if a partner row were missing.
        .outerjoin(
            partner_a,
            sa.and_(partner_a.couple_id == Couple.id, partner_a.role == PartnerRole.A.value),
        )
        .outerjoin(
            partner_b,
            sa.and_(partner_b.couple_id == Couple.id, partner_b.role == PartnerRole.B.value),
        )
        .order_by(Couple.label, Couple.id)
    )
    if shown == "open":
        query = query.where(Couple.status != CaseStatus.CLOSED.value)
    elif shown == "closed":
        query = query.where(Couple.status == CaseStatus.CLOSED.value)
    return query


def case_lines(rows: Iterable[Sequence[Any]]) -> list[CaseLine]:
    """Turn the rows of :func:`caseload_statement` into lines."""
    lines = []
    for case_id, label, status, opened_on, closed_on, first_a, last_a, first_b, last_b in rows:
        names = tuple(
            person_name(first, last)
            for first, last in ((first_a, last_a), (first_b, last_b))
            if first is not None
        )
        lines.append(CaseLine(case_id, label, status, opened_on, closed_on, names))
    return lines


def order_by_attention(
    lines: Sequence[CaseLine], open_levels: Mapping[uuid.UUID, RiskLevel]
) -> list[CaseLine]:
    """The lines with their risk marker, cases with an open risk first (high before
    concern), each group in the list's own order: what needs the therapist comes first."""
    marked = [replace(line, risk_level=open_levels.get(line.id)) for line in lines]
    return sorted(marked, key=lambda line: -(line.risk_level or 0))


def caseload(therapist: Therapist, shown: str) -> list[CaseLine]:
    """The cases ``therapist`` may see, filtered by ``shown``, as the dashboard lists them."""
    statement = caseload_statement(sees_all=sees_all_cases(therapist), shown=shown)
    return case_lines(db_session().execute(statement, {VIEWER_PARAMETER: therapist.id}))
