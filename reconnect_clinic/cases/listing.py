"""The therapist's list of cases (the dashboard): one query of the columns shown, and a
plain function that turns its rows into lines.

The dashboard is the page a therapist opens most. Loading each case and its partners as
ORM objects cost about as much as the rest of the request together (two queries, and
every column of 120 rows converted); the list needs seven columns, read in one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..models import CaseStatus, Couple, Partner, Therapist
from ..security.access import visible_couples

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


def caseload_query(therapist: Therapist, shown: str) -> sa.Select[Any]:
    """The columns the dashboard shows, for the cases ``therapist`` may see, filtered by
    ``shown`` (one of :data:`STATUS_FILTERS`), a row per partner, in the list's order."""
    query = (
        visible_couples(therapist)
        .with_only_columns(
            Couple.id,
            Couple.label,
            Couple.status,
            Couple.opened_on,
            Couple.closed_on,
            Partner.first_name,
            Partner.last_name,
        )
        .select_from(Couple)
        .outerjoin(Partner, Partner.couple_id == Couple.id)
        .order_by(Couple.label, Couple.id, Partner.role)
    )
    if shown == "open":
        query = query.where(Couple.status != CaseStatus.CLOSED.value)
    elif shown == "closed":
        query = query.where(Couple.status == CaseStatus.CLOSED.value)
    return query


def case_lines(rows: Iterable[Sequence[Any]]) -> list[CaseLine]:
    """Group the rows of :func:`caseload_query` (consecutive per case) into lines."""
    lines: list[CaseLine] = []
    names: list[str] = []
    current: Sequence[Any] | None = None

    def close() -> None:
        if current is not None:
            case_id, label, status, opened_on, closed_on = current[:5]
            lines.append(CaseLine(case_id, label, status, opened_on, closed_on, tuple(names)))

    for row in rows:
        if current is None or row[0] != current[0]:
            close()
            current, names = row, []
        first_name, last_name = row[5], row[6]
        if first_name is not None:  # a case always has two partners; the join is outer
            names.append(f"{first_name} {last_name or ''}".strip())
    close()
    return lines
