"""Putting report contents together from the records: plain functions over loaded rows.

Each returns plain data for a template and never queries; the loaders in
``reports/service.py`` fetch what they need in a fixed number of queries.

What a report lists (partners, assignments, sessions) is copied out of the rows into
small frozen records here, rather than handed to the template as rows: a view commits
its audit line before it draws the report (a PDF takes a while), the commit expires every
row of the request, and a template reading an expired row queries for it again, one row
at a time.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .. import measures
from ..homework.schedule import Adherence, adherence
from ..measures.progress import Administered, ChangeLine, change_lines
from ..models import (
    Couple,
    HomeworkAssignment,
    MeasureResult,
    NoteStatus,
    Partner,
    SessionNote,
    TherapySession,
    person_name,
)
from ..notes.templates import RISK_LEVELS, NoteTemplate
from ..taxonomy import Taxonomy
from .charts import ChartBand, ChartSpec, Series

INSTRUMENTS = ("csi16", "phq9", "gad7")
#: Charted only when a partner answered it (it is asked by measures links, not the intake).
OPTIONAL_INSTRUMENTS = ("csi4",)


@dataclass(frozen=True)
class MeasureLine:
    instrument: str
    name: str
    partner: Partner
    total: int
    band: str
    administered_on: date


def latest_measures(
    results: Iterable[MeasureResult], partners: Sequence[Partner], as_of: date
) -> list[MeasureLine]:
    """Each partner's most recent score on each measure, given on or before ``as_of``."""
    by_id = {p.id: p for p in partners}
    latest: dict[tuple[str, str], MeasureResult] = {}
    for result in results:
        if result.deleted_at is not None or result.administered_at.date() > as_of:
            continue
        key = (str(result.partner_id), result.instrument)
        if key not in latest or result.administered_at > latest[key].administered_at:
            latest[key] = result
    lines = []
    for partner in partners:
        for slug in (*INSTRUMENTS, *OPTIONAL_INSTRUMENTS):
            shown = latest.get((str(partner.id), slug))
            if shown is not None and shown.partner_id in by_id:
                lines.append(
                    MeasureLine(
                        instrument=slug,
                        name=measures.get(slug).name,
                        partner=partner,
                        total=shown.total,
                        band=shown.band,
                        administered_on=shown.administered_at.date(),
                    )
                )
    return lines


@dataclass(frozen=True)
class CoupleHeading:
    """A case as a report's heading names it."""

    id: uuid.UUID
    label: str
    opened_on: date

    @classmethod
    def of(cls, couple: Couple) -> CoupleHeading:
        return cls(couple.id, couple.label, couple.opened_on)


@dataclass(frozen=True)
class PartnerName:
    """A partner as a report names them."""

    id: uuid.UUID
    role: str
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return person_name(self.first_name, self.last_name)

    @classmethod
    def of(cls, partner: Partner) -> PartnerName:
        return cls(partner.id, partner.role, partner.first_name, partner.last_name)


@dataclass(frozen=True)
class AssignmentSummary:
    """An assignment as a report lists it: what it was and when."""

    id: uuid.UUID
    title: str
    starts_on: date
    due_on: date
    closed_on: date | None

    @classmethod
    def of(cls, assignment: HomeworkAssignment) -> AssignmentSummary:
        return cls(
            assignment.id,
            assignment.title,
            assignment.starts_on,
            assignment.due_on,
            assignment.closed_on,
        )


@dataclass(frozen=True)
class HomeworkLine:
    assignment: AssignmentSummary
    progress: tuple[tuple[PartnerName, Adherence], ...]


def homework_lines(
    assignments: Iterable[HomeworkAssignment],
    partners: Sequence[Partner],
    as_of: date,
) -> list[HomeworkLine]:
    lines = []
    for assignment in assignments:
        progress = []
        for partner in partners:
            if not assignment.is_for(partner.role):
                continue
            days = [
                c.checked_in_on
                for c in assignment.check_ins
                if c.partner_id == partner.id
                and not c.late
                and c.deleted_at is None
                and c.checked_in_on <= as_of
            ]
            progress.append(
                (
                    PartnerName.of(partner),
                    adherence(
                        assignment.frequency,
                        assignment.times_per_week,
                        assignment.starts_on,
                        assignment.due_on,
                        days,
                        as_of,
                        assignment.closed_on
                        if assignment.closed_on and assignment.closed_on <= as_of
                        else None,
                    ),
                )
            )
        lines.append(HomeworkLine(AssignmentSummary.of(assignment), tuple(progress)))
    return lines


@dataclass(frozen=True)
class NoteState:
    """Where a session's note stands, for a list of sessions."""

    status: str
    signed_at: datetime | None

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED


@dataclass(frozen=True)
class SessionLine:
    """A session as a report lists it (its note's state, never its text)."""

    id: uuid.UUID
    held_on: date
    duration_minutes: int
    format: str
    attendance: str
    note: NoteState | None

    @classmethod
    def of(cls, therapy_session: TherapySession) -> SessionLine:
        note = therapy_session.note
        return cls(
            therapy_session.id,
            therapy_session.held_on,
            therapy_session.duration_minutes,
            therapy_session.format,
            therapy_session.attendance,
            NoteState(note.status, note.signed_at) if note is not None else None,
        )


@dataclass(frozen=True)
class SessionReport:
    therapy_session: TherapySession
    note: SessionNote | None
    template: NoteTemplate | None
    sections: list[tuple[str, str]]
    interventions: list[str]
    risk_level: str
    risk_notes: str
    reviewed: list[HomeworkLine]
    assigned: list[HomeworkLine]
    measures: list[MeasureLine]
    chart: ChartSpec
    fingerprint: str
    partners: Sequence[Partner] = field(default_factory=tuple)
    # The therapist's reason for "no current risk" while a risk was open (notes/rules.py).
    risk_none_reason: str = ""


def note_fields(note: SessionNote | None, template: NoteTemplate | None) -> list[tuple[str, str]]:
    if note is None or template is None:
        return []
    sections = note.content.get("sections", {})
    return [(s.heading, str(sections.get(s.key, ""))) for s in template.sections]


def fingerprint(record: dict[str, Any]) -> str:
    """SHA-256 of a record's content in a canonical form: the same record always gives
    the same value, and any change to what it says gives another."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def session_record(
    therapy_session: TherapySession, note: SessionNote | None, partners: Sequence[Partner]
) -> dict[str, Any]:
    """What a session report states, as plain data (the fingerprint is taken of this)."""
    return {
        "session": {
            "id": str(therapy_session.id),
            "held_on": therapy_session.held_on.isoformat(),
            "duration_minutes": therapy_session.duration_minutes,
            "format": therapy_session.format,
            "attendance": therapy_session.attendance,
        },
        "partners": [p.full_name for p in partners],
        "note": None
        if note is None
        else {
            "template": note.template,
            "content": note.content,
            "status": note.status,
            "signed_at": note.signed_at.isoformat() if note.signed_at else None,
            "signed_by": str(note.signed_by_id) if note.signed_by_id else None,
            "addenda": [
                {
                    "body": a.body,
                    "signed_by": str(a.signed_by_id),
                    "signed_at": a.signed_at.isoformat(),
                }
                for a in note.addenda
            ],
        },
    }


def measure_chart(
    results: Iterable[MeasureResult],
    partners: Sequence[Partner],
    instrument: str,
    bases: measures.Bases | None = None,
) -> ChartSpec:
    """Each partner's totals on ``instrument`` over time, against its cut-offs (data only:
    the report's template draws it)."""
    spec = measures.get(instrument)
    series = []
    for partner in partners:
        points = sorted(
            (r.administered_at.date(), float(r.total))
            for r in results
            if r.partner_id == partner.id and r.instrument == instrument and r.deleted_at is None
        )
        series.append(
            Series(
                label=f"{partner.first_name} ({partner.role.upper()})",
                role=partner.role,
                points=tuple(points),
            )
        )
    return ChartSpec(
        name=f"chart-{instrument}",
        series=tuple(series),
        y_max=spec.max_total,
        cutoffs=tuple(spec.chart_cutoffs),
        title=spec.title,
        bands=reliable_change_bands(instrument, partners, series, bases),
    )


def reliable_change_bands(
    instrument: str,
    partners: Sequence[Partner],
    series: Sequence[Series],
    bases: measures.Bases | None = None,
) -> tuple[ChartBand, ...]:
    """Each partner's reliable-change band around their first score: a later total
    inside it is not a reliable change (measures/change.py). None for a measure whose
    reliable change cannot be judged (the CSI, until its published figures are on
    record)."""
    if not measures.can_judge(instrument, bases):
        return ()
    basis = measures.basis_for(instrument, bases)
    name = measures.get(instrument).name
    bands = []
    for partner, line in zip(partners, series, strict=True):
        if not line.points:
            continue
        start, first = line.points[0]
        needed = measures.change(instrument, int(first), int(first), basis=basis).points_needed
        low, high = first - needed, first + needed
        bands.append(
            ChartBand(
                role=partner.role,
                start=start,
                low=low + 0.5,
                high=high - 0.5,
                label=(
                    f"{partner.first_name}'s reliable-change band on the {name}: from the "
                    f"first score of {first:g}, a total of {low:g} or less, or {high:g} or "
                    "more, is a reliable change"
                ),
            )
        )
    return tuple(bands)


def progress_charts(
    results: Sequence[MeasureResult],
    partners: Sequence[Partner],
    bases: measures.Bases | None = None,
) -> dict[str, ChartSpec]:
    """The progress report's charts: the intake's measures always, the CSI-4 when asked."""
    asked = {r.instrument for r in results if r.deleted_at is None}
    slugs = [*INSTRUMENTS, *(s for s in OPTIONAL_INSTRUMENTS if s in asked)]
    return {slug: measure_chart(results, partners, slug, bases) for slug in slugs}


def change_table(
    results: Sequence[MeasureResult],
    partners: Sequence[Partner],
    bases: measures.Bases | None = None,
) -> list[ChangeLine]:
    """First and latest score per partner and measure, the change and its meaning, and
    the dates of every administration (measures/progress.py)."""
    by_id = {p.id: p for p in partners}
    return change_lines(
        (
            Administered.of(by_id[r.partner_id], r)
            for r in results
            if r.deleted_at is None and r.partner_id in by_id
        ),
        bases,
    )


def assemble_session_report(
    taxonomy: Taxonomy,
    templates: dict[str, NoteTemplate],
    therapy_session: TherapySession,
    partners: Sequence[Partner],
    assignments: Sequence[HomeworkAssignment],
    results: Sequence[MeasureResult],
    bases: measures.Bases | None = None,
) -> SessionReport:
    note = therapy_session.note
    template = templates.get(note.template) if note is not None else None
    content = note.content if note is not None else {}
    as_of = therapy_session.held_on
    by_id = {str(a.id): a for a in assignments}

    def pick(ids: Iterable[str]) -> list[HomeworkAssignment]:
        return [by_id[i] for i in ids if i in by_id]

    steps = []
    for slug in content.get("interventions", []):
        try:
            steps.append(taxonomy.step(slug).title)
        except KeyError:
            steps.append(slug)  # a step retired since: keep what the note said
    risk = content.get("risk", {})
    return SessionReport(
        therapy_session=therapy_session,
        note=note,
        template=template,
        sections=note_fields(note, template),
        interventions=steps,
        risk_level=dict(RISK_LEVELS).get(risk.get("level", ""), "Not recorded"),
        risk_notes=str(risk.get("notes", "")),
        reviewed=homework_lines(pick(content.get("homework_reviewed", [])), partners, as_of),
        assigned=homework_lines(pick(content.get("homework_assigned", [])), partners, as_of),
        measures=latest_measures(results, partners, as_of),
        chart=measure_chart(
            [r for r in results if r.administered_at.date() <= as_of], partners, "csi16", bases
        ),
        fingerprint=fingerprint(session_record(therapy_session, note, partners)),
        partners=partners,
        risk_none_reason=str(risk.get("none_reason", "")),
    )


def created_stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


@dataclass(frozen=True)
class RatingLine:
    """One rated session of the progress report: each partner's 0-10 rating (None: not
    rated) and its split-alliance marks (ratings/alliance.py), as plain data."""

    held_on: date
    a: float | None
    b: float | None
    split: bool
    fell: tuple[str, ...]  # the roles whose rating fell from their session before

    @property
    def flagged(self) -> bool:
        return self.split or bool(self.fell)


def rating_lines(rows: Iterable[Any], as_of: date) -> list[RatingLine]:
    """The rated sessions up to ``as_of`` from ``ratings.queries.CoupleRatings.rated_rows``."""
    return [
        RatingLine(
            held_on=row.therapy_session.held_on,
            a=row.scores["a"],
            b=row.scores["b"],
            split=row.split,
            fell=tuple(role for role in ("a", "b") if row.dropped(role)),
        )
        for row in rows
        if row.therapy_session.held_on <= as_of
    ]
