"""What the therapist sees of homework: adherence per partner, overdue items, the
reflections feed. Pure: built from rows already loaded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ..models import HomeworkAssignment, HomeworkCheckIn, Partner
from .schedule import Adherence, adherence


@dataclass(frozen=True)
class PartnerProgress:
    partner: Partner
    adherence: Adherence
    last_completion: str | None


@dataclass(frozen=True)
class AssignmentRow:
    assignment: HomeworkAssignment
    progress: tuple[PartnerProgress, ...]

    @property
    def overdue(self) -> bool:
        return any(p.adherence.overdue for p in self.progress)

    @property
    def joint_complete(self) -> bool:
        """A joint exercise is complete when both partners have checked in."""
        return bool(self.progress) and all(p.adherence.made > 0 for p in self.progress)


@dataclass(frozen=True)
class Reflection:
    check_in: HomeworkCheckIn
    assignment: HomeworkAssignment
    partner: Partner


def assignment_rows(
    assignments: Iterable[HomeworkAssignment],
    partners: Sequence[Partner],
    as_of: date,
) -> list[AssignmentRow]:
    rows = []
    for assignment in assignments:
        progress = []
        for partner in partners:
            if not assignment.is_for(partner.role):
                continue
            mine = [
                c
                for c in assignment.check_ins
                if c.partner_id == partner.id and not c.late and c.deleted_at is None
            ]
            progress.append(
                PartnerProgress(
                    partner=partner,
                    adherence=adherence(
                        assignment.frequency,
                        assignment.times_per_week,
                        assignment.starts_on,
                        assignment.due_on,
                        [c.checked_in_on for c in mine],
                        as_of,
                        assignment.closed_on,
                    ),
                    last_completion=mine[-1].completion if mine else None,
                )
            )
        rows.append(AssignmentRow(assignment=assignment, progress=tuple(progress)))
    return rows


def reflections(
    assignments: Iterable[HomeworkAssignment], partners: Sequence[Partner]
) -> list[Reflection]:
    """Every written reflection, newest first, for the therapist (shared or private)."""
    by_id = {p.id: p for p in partners}
    feed = [
        Reflection(check_in=c, assignment=a, partner=by_id[c.partner_id])
        for a in assignments
        for c in a.check_ins
        if c.reflection and c.deleted_at is None and c.partner_id in by_id
    ]
    return sorted(feed, key=lambda r: r.check_in.created_at, reverse=True)


def csv_rows(rows: Iterable[AssignmentRow], couple_label: str) -> list[list[str]]:
    """Adherence as spreadsheet rows, one per assignment and partner."""
    out = []
    for row in rows:
        for progress in row.progress:
            a = progress.adherence
            out.append(
                [
                    couple_label,
                    row.assignment.title,
                    row.assignment.healing_step,
                    progress.partner.full_name,
                    row.assignment.starts_on.isoformat(),
                    row.assignment.due_on.isoformat(),
                    row.assignment.frequency,
                    str(a.made),
                    str(a.expected),
                    "" if a.percent is None else str(a.percent),
                    a.last_check_in.isoformat() if a.last_check_in else "",
                    "yes" if a.overdue else "no",
                    "closed" if row.assignment.closed_on else "open",
                ]
            )
    return out


CSV_HEADER = [
    "case",
    "exercise",
    "healing step",
    "partner",
    "starts",
    "due",
    "frequency",
    "check-ins made",
    "check-ins due",
    "adherence %",
    "last check-in",
    "overdue",
    "status",
]


def spreadsheet_safe(value: str) -> str:
    """Stop a cell that starts like a formula from running in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
