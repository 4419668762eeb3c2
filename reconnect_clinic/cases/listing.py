"""The therapist's list of cases (the dashboard): one query of the columns shown, built
once per process, and a plain function that turns its rows into lines.

Each line also says what the case needs from the therapist (``attention.py``): its
counts are correlated subqueries of the same query, and overdue homework is one more
grouped statement, so the dashboard's statement count stays fixed however many cases
there are.

The dashboard is the page a therapist opens most. Loading each case and its partners as
ORM objects cost about as much as the rest of the request together (two queries, and
every column of 120 rows converted). The list needs nine columns of one row per case:
the two partners are joined by role, so each case is one row, and the statement, built
with the therapist as a bind parameter, is constructed once rather than per request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..models import CaseStatus, Couple, Partner, PartnerRole, Therapist, person_name
from ..risk.core import RiskLevel
from ..security.access import VIEWER_PARAMETER, sees_all_cases, visible_couples_criteria
from ..state import db_session
from .attention import (
    TODAY_PARAMETER,
    ToDo,
    overdue_counts,
    overdue_statement,
    todo_columns,
    todo_from_row,
)

#: Which cases the statements select, by status.
STATUS_FILTERS = ("open", "closed", "all")
#: The dashboard's filters: the status filters, and the open cases that need the
#: therapist ("attention"), which the statements select as "open".
DASHBOARD_FILTERS = ("open", "attention", "closed", "all")
FILTER_LABELS = {
    "open": "Open cases",
    "attention": "Needs attention",
    "closed": "Closed cases",
    "all": "All cases",
}


def status_filter(shown: str) -> str:
    """The status filter (one of :data:`STATUS_FILTERS`) that dashboard filter ``shown``
    (one of :data:`DASHBOARD_FILTERS`) selects its cases from."""
    if shown not in DASHBOARD_FILTERS:
        raise ValueError(f"unknown filter {shown!r}")
    return "open" if shown == "attention" else shown


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
    # What else needs the therapist, and the next session (attention.py).
    todo: ToDo = field(default_factory=ToDo)

    @property
    def needs_attention(self) -> bool:
        """Whether anything waits for the therapist: an open risk or a to-do item."""
        return self.risk_level is not None or self.todo.needs_attention


@cache
def status_criteria(*, sees_all: bool, shown: str) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``Couple`` for the cases a therapist may see (the bind parameter
    ``VIEWER_PARAMETER``) with status filter ``shown`` (one of :data:`STATUS_FILTERS`)."""
    if shown not in STATUS_FILTERS:
        raise ValueError(f"unknown filter {shown!r}")
    criteria = visible_couples_criteria(sees_all=sees_all)
    if shown == "open":
        criteria.append(Couple.status != CaseStatus.CLOSED.value)
    elif shown == "closed":
        criteria.append(Couple.status == CaseStatus.CLOSED.value)
    return criteria


@cache
def caseload_statement(*, sees_all: bool, shown: str) -> sa.Select[Any]:
    """The columns the dashboard shows, one row per case, for the cases a therapist may see
    (the therapist is the bind parameter ``VIEWER_PARAMETER``), filtered by ``shown`` (one
    of :data:`STATUS_FILTERS`), in the list's order, with the case's to-do facts
    (``attention.todo_columns``; the day is the bind parameter ``TODAY_PARAMETER``).
    Built once per argument pair."""
    criteria = status_criteria(sees_all=sees_all, shown=shown)
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
            *todo_columns(),
        )
        .where(*criteria)
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
    return query


@cache
def caseload_overdue_statement(*, sees_all: bool, shown: str) -> sa.Select[Any]:
    """Overdue homework candidates (``attention.overdue_statement``) of the cases
    :func:`caseload_statement` lists, leaving out closed cases: homework is no longer
    owed once the couple's work has ended. Built once per argument pair."""
    criteria = status_criteria(sees_all=sees_all, shown=shown)
    return overdue_statement([*criteria, Couple.status != CaseStatus.CLOSED.value])


def case_lines(
    rows: Iterable[Sequence[Any]], overdue: Mapping[uuid.UUID, int] | None = None
) -> list[CaseLine]:
    """Turn the rows of :func:`caseload_statement` into lines, with each case's count of
    overdue homework from ``overdue`` (:func:`attention.overdue_counts`)."""
    overdue = overdue or {}
    lines = []
    for row in rows:
        case_id, label, status, opened_on, closed_on, first_a, last_a, first_b, last_b = row[:9]
        names = tuple(
            person_name(first, last)
            for first, last in ((first_a, last_a), (first_b, last_b))
            if first is not None
        )
        todo = todo_from_row(*row[9:14], overdue_homework=overdue.get(case_id, 0))
        lines.append(CaseLine(case_id, label, status, opened_on, closed_on, names, todo=todo))
    return lines


def order_by_attention(
    lines: Sequence[CaseLine], open_levels: Mapping[uuid.UUID, RiskLevel]
) -> list[CaseLine]:
    """The lines with their risk marker, what needs the therapist first: cases with an
    open risk (high before concern), then by their most urgent to-do item (an unread
    intake, an unsigned note, overdue homework, new reflections), then the cases that
    need nothing; each group in the list's own order."""
    marked = [replace(line, risk_level=open_levels.get(line.id)) for line in lines]
    return sorted(marked, key=lambda line: (-(line.risk_level or 0), line.todo.urgency))


def needing_attention(lines: Iterable[CaseLine]) -> list[CaseLine]:
    """The lines whose case needs the therapist (the dashboard's "attention" filter)."""
    return [line for line in lines if line.needs_attention]


def caseload(therapist: Therapist, shown: str, today: date) -> list[CaseLine]:
    """The cases ``therapist`` may see, filtered by ``shown`` (one of
    :data:`STATUS_FILTERS`), as the dashboard lists them, with their to-do facts as of
    ``today``: two statements, however many cases."""
    sees_all = sees_all_cases(therapist)
    parameters = {VIEWER_PARAMETER: therapist.id, TODAY_PARAMETER: today}
    session = db_session()
    rows = session.execute(caseload_statement(sees_all=sees_all, shown=shown), parameters).all()
    if not rows:
        return []
    overdue = session.execute(
        caseload_overdue_statement(sees_all=sees_all, shown=shown), parameters
    )
    return case_lines(rows, overdue_counts(overdue, today))
