"""Reading a couple's measures: results opened into progress lines, the schedule's
occasions with their states, and the dashboard's facts (missed administrations,
reliable improvement not yet celebrated)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..cases.listing import CaseLine
from ..models import (
    AuditEvent,
    Couple,
    MeasureAdministration,
    MeasureResult,
    MeasureSchedule,
    Partner,
    TherapySession,
)
from ..state import config, db_session
from .change import ReliabilityBasis, bases_from_setting
from .instruments import PRIVATE_TO_PARTNER, get
from .operations import (
    administrations,
    occasions_for,
    open_case,
    partner_occasions,
    schedule_for,
)
from .progress import Administered, ChangeLine, change_lines
from .schedule import OccasionState

CADENCE_WORDS = {
    "before_every_session": "before every session",
    "every_n_weeks": "every {n} weeks",
    "once": "once",
}


def cadence_words(schedule: MeasureSchedule) -> str:
    words = CADENCE_WORDS[schedule.cadence]
    if schedule.cadence == "every_n_weeks" and schedule.every_weeks == 1:
        return "every week"
    return words.format(n=schedule.every_weeks)


def results_of(partners: Sequence[Partner]) -> list[tuple[Partner, MeasureResult]]:
    by_id = {p.id: p for p in partners}
    rows = db_session().scalars(
        sa.select(MeasureResult)
        .where(MeasureResult.partner_id.in_(list(by_id)), MeasureResult.deleted_at.is_(None))
        .order_by(MeasureResult.administered_at)
    )
    return [(by_id[r.partner_id], r) for r in rows]


def csi_bases() -> dict[str, ReliabilityBasis]:
    """The practice's CSI reliability figures (``RECONNECT_CLINIC_CSI_RELIABILITY``,
    checked at start-up by ``init_app``)."""
    return bases_from_setting(config("CSI_RELIABILITY"))


def couple_change_lines(couple: Couple) -> list[ChangeLine]:
    """First and latest score per partner and measure, with the change in words (opens
    each result's sealed total)."""
    return change_lines(
        (Administered.of(partner, result) for partner, result in results_of(couple.partners)),
        csi_bases(),
    )


@dataclass(frozen=True)
class OccasionRow:
    partner: Partner
    due_on: date
    state: str
    administration: MeasureAdministration | None


@dataclass(frozen=True)
class MeasuresSection:
    """What the couple's page shows under "Measures"."""

    schedule: MeasureSchedule | None
    cadence: str
    instrument_names: tuple[str, ...]
    rows: tuple[OccasionRow, ...]
    lines: tuple[ChangeLine, ...]
    can_send: bool
    open_case: bool
    improvements: tuple[ChangeLine, ...] = field(default=())

    @property
    def missed(self) -> tuple[OccasionRow, ...]:
        return tuple(r for r in self.rows if r.state == OccasionState.MISSED.value)


def measures_section(couple: Couple, today: date) -> MeasuresSection:
    schedule = schedule_for(couple)
    made = administrations(couple)
    rows: list[OccasionRow] = []
    if schedule is not None:
        for partner in couple.partners:
            for occasion in partner_occasions(couple, schedule, partner, today, made):
                found = next(
                    (a for a in made if a.partner_id == partner.id and a.due_on == occasion.due_on),
                    None,
                )
                rows.append(OccasionRow(partner, occasion.due_on, occasion.state.value, found))
    rows.sort(key=lambda r: (r.due_on, r.partner.role))
    lines = couple_change_lines(couple)
    return MeasuresSection(
        schedule=schedule,
        cadence=cadence_words(schedule) if schedule is not None else "",
        instrument_names=tuple(get(s).name for s in schedule.instrument_slugs)
        if schedule is not None
        else (),
        rows=tuple(rows),
        lines=tuple(lines),
        can_send=schedule is not None
        and schedule.active
        and open_case(couple)
        and any(r.state == OccasionState.DUE.value for r in rows),
        open_case=open_case(couple),
        improvements=tuple(line for line in lines if line.reliable_improvement),
    )


def celebration_lines(couple: Couple) -> list[ChangeLine]:
    return [line for line in couple_change_lines(couple) if line.reliable_improvement]


def celebration_message(couple: Couple, lines: Sequence[ChangeLine]) -> str:
    """A short message for the couple, in clients' words (the seed's fifteenth step:
    notice and celebrate the progress made together). No scores, no diagnoses: the
    therapist reads and changes it before anything is sent."""
    names = " and ".join(p.first_name for p in couple.partners)
    practice = config("PRACTICE_NAME")
    # Both partners read it: a change in one partner's private wellbeing measures
    # (PHQ-9, GAD-7) is never told, nor whose change it is; only the relationship's.
    shared = [line for line in lines if line.slug not in PRIVATE_TO_PARTNER]
    if not shared:
        noticed = "the work you have both been putting in"
    else:
        noticed = (
            "a real change in how things have been between you, in the questionnaires "
            "you have been filling in"
        )
    return (
        f"Dear {names},\n\n"
        f"I wanted to take a moment to mark something: I have noticed {noticed}. "
        "Change like this does not happen by chance. It comes from the time and care you "
        "have been giving each other, the conversations that were not easy, and the small "
        "moments of turning towards each other.\n\n"
        "It is worth celebrating together, in whatever way feels right for the two of "
        "you: a walk, a meal, or simply telling each other what you have noticed "
        "changing. Progress is rarely a straight line, and there may be harder weeks "
        "ahead; what you have built so far is still yours.\n\n"
        f"With warm wishes,\n{practice}"
    )


@dataclass(frozen=True)
class DashboardMeasures:
    missed: int = 0
    improvements: tuple[str, ...] = ()


def dashboard_measures(
    couple_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, DashboardMeasures]:
    """Per open case with measures: how many administrations were missed, and which
    partners' measures show reliable improvement since the couple was last sent a
    celebration (each as "Sam: PHQ-9").

    The same statements however many cases, and whichever have measures
    (tests/test_query_counts.py): the schedules, the results of partners in a case with
    a repeated measure, the administrations and session days of scheduled cases, and the
    cases with either, with their partners and therapist and the last celebration sent.
    A case with neither has nothing to show, so it is not loaded (on a dashboard of 40
    cases without measures this statement's loading was most of the page's time)."""
    facts: dict[uuid.UUID, DashboardMeasures] = {}
    if not couple_ids:
        return facts
    ids = list(couple_ids)
    session = db_session()
    schedules = {
        s.couple_id: s
        for s in session.scalars(
            sa.select(MeasureSchedule).where(MeasureSchedule.couple_id.in_(ids))
        )
    }
    scheduled = list(schedules)
    repeated = (
        sa.select(Partner.couple_id)
        .join(MeasureResult, MeasureResult.partner_id == Partner.id)
        .where(Partner.couple_id.in_(ids), MeasureResult.deleted_at.is_(None))
        .group_by(Partner.couple_id)
        .having(sa.func.count(MeasureResult.id) > 1)
    )
    results: dict[uuid.UUID, list[MeasureResult]] = {}
    concerned = set(scheduled)
    for couple_id, result in session.execute(
        sa.select(Partner.couple_id, MeasureResult)
        .join(Partner, MeasureResult.partner_id == Partner.id)
        .where(Partner.couple_id.in_(repeated), MeasureResult.deleted_at.is_(None))
        .order_by(MeasureResult.administered_at)
    ):
        results.setdefault(result.partner_id, []).append(result)
        concerned.add(couple_id)
    concerned_ids = sorted(concerned)
    made: dict[uuid.UUID, list[MeasureAdministration]] = {}
    sessions: dict[uuid.UUID, list[tuple[date, str]]] = {}
    for administration in session.scalars(
        sa.select(MeasureAdministration)
        .where(MeasureAdministration.couple_id.in_(scheduled))
        .order_by(MeasureAdministration.due_on, MeasureAdministration.created_at)
    ):
        made.setdefault(administration.couple_id, []).append(administration)
    for couple_id, held_on, attendance in session.execute(
        sa.select(
            TherapySession.couple_id, TherapySession.held_on, TherapySession.attendance
        ).where(TherapySession.couple_id.in_(scheduled), TherapySession.deleted_at.is_(None))
    ):
        sessions.setdefault(couple_id, []).append((held_on, attendance))
    # Joined, not select-in: one statement, also when no case is concerned (select-in
    # loading skips its statements for no rows, and the count would depend on it).
    couples = (
        session.scalars(
            sa.select(Couple)
            .where(Couple.id.in_(concerned_ids))
            .options(joinedload(Couple.partners), joinedload(Couple.therapist))
        )
        .unique()
        .all()
    )
    celebrated: dict[uuid.UUID, datetime] = {
        couple_id: at
        for couple_id, at in session.execute(
            sa.select(AuditEvent.couple_id, sa.func.max(AuditEvent.occurred_at))
            .where(
                AuditEvent.action == "measures.celebrate", AuditEvent.couple_id.in_(concerned_ids)
            )
            .group_by(AuditEvent.couple_id)
        )
        if couple_id is not None
    }
    bases = csi_bases()
    for couple in couples:
        if not open_case(couple):
            continue
        missed = 0
        schedule = schedules.get(couple.id)
        if schedule is not None:
            days = sessions.get(couple.id, [])
            missed = sum(
                1
                for partner in couple.partners
                for occasion in occasions_for(
                    schedule,
                    partner,
                    today,
                    made.get(couple.id, []),
                    [day for day, attendance in days if attendance in ("both", partner.role)],
                )
                if occasion.state == OccasionState.MISSED
            )
        since = celebrated.get(couple.id)
        improvements = tuple(
            f"{line.partner_name}: {line.name}"
            for line in change_lines(
                (
                    Administered.of(partner, result)
                    for partner in couple.partners
                    for result in results.get(partner.id, [])
                ),
                bases,
            )
            if line.reliable_improvement and (since is None or line.latest_at > since)
        )
        if missed or improvements:
            facts[couple.id] = DashboardMeasures(missed=missed, improvements=improvements)
    return facts


def measures_section_rows(couple: Couple, today: date) -> list[OccasionState]:
    schedule = schedule_for(couple)
    if schedule is None:
        return []
    made = administrations(couple)
    return [
        occasion.state
        for partner in couple.partners
        for occasion in partner_occasions(couple, schedule, partner, today, made)
    ]


def with_measures(
    lines: Sequence[CaseLine], facts: Mapping[uuid.UUID, DashboardMeasures]
) -> list[CaseLine]:
    """The dashboard's lines with each case's measures facts on its to-do."""
    return [
        replace(
            line,
            todo=replace(
                line.todo,
                missed_measures=facts[line.id].missed,
                improvements=facts[line.id].improvements,
            ),
        )
        if line.id in facts
        else line
        for line in lines
    ]
