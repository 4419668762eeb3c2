"""What the therapist sees of homework: adherence per partner, overdue items, the
reflections feed. Pure: built from rows already loaded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ..models import HomeworkAssignment, HomeworkCheckIn, Partner
from .schedule import Adherence, adherence, frequency_label


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


def csv_rows(
    rows: Iterable[AssignmentRow],
    couple_label: str,
    step_titles: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """Adherence as spreadsheet rows, one per assignment and partner, in the order of
    :data:`CSV_HEADER`: a human label beside each code (the codes stay, for machines).
    ``step_titles`` names the healing steps ({slug: title}, from the taxonomy)."""
    titles = step_titles or {}
    out = []
    for row in rows:
        assignment = row.assignment
        for progress in row.progress:
            a = progress.adherence
            out.append(
                [
                    couple_label,
                    assignment.title,
                    titles.get(assignment.healing_step) or slug_words(assignment.healing_step),
                    assignment.healing_step,
                    progress.partner.full_name,
                    assignment.starts_on.isoformat(),
                    assignment.due_on.isoformat(),
                    frequency_label(assignment.frequency, assignment.times_per_week),
                    assignment.frequency,
                    str(assignment.times_per_week or ""),
                    str(a.made),
                    str(a.expected),
                    "" if a.percent is None else str(a.percent),
                    a.text,
                    a.last_check_in.isoformat() if a.last_check_in else "",
                    "yes" if a.overdue else "no",
                    "closed" if assignment.closed_on else "open",
                ]
            )
    return out


CSV_HEADER = [
    "case",
    "exercise",
    "healing step",
    "healing step code",
    "partner",
    "starts",
    "due",
    "how often",
    "frequency code",
    "times a week",
    "check-ins made",
    "check-ins due so far",
    "adherence %",
    "adherence",
    "last check-in",
    "overdue",
    "status",
]


def slug_words(slug: str) -> str:
    """A code as words, for a step the taxonomy no longer names:
    ``develop_empathy_and_compassion`` -> "Develop empathy and compassion"."""
    words = slug.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def spreadsheet_safe(value: str) -> str:
    """Stop a cell that starts like a formula from running in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
