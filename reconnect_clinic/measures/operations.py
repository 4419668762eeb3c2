"""Measures through treatment: storing results, keeping each couple's schedule, making
the administrations it calls for and storing a partner's answers to one of them.

Operations flush; the view or CLI command commits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..models import (
    CaseStatus,
    ClientLink,
    Couple,
    LinkPurpose,
    MeasureAdministration,
    MeasureResult,
    MeasureSchedule,
    Partner,
    Therapist,
    TherapySession,
    utcnow,
)
from ..security.audit.log import record_event
from ..security.links.tokens import IssuedLink, issue_link
from ..state import config, db_session
from .instruments import INSTRUMENTS, instrument_version
from .schedule import Occasion, Plan, Window, occasions, to_send
from .scoring import score

PURPOSE = LinkPurpose.MEASURES.value

#: The measures a schedule may ask, in the order a form asks them.
SCHEDULABLE = ("csi16", "csi4", "phq9", "gad7")


def store_measure_result(result: MeasureResult, *, now: datetime | None = None) -> MeasureResult:
    """Keep one administration of a measure, and what it discloses (PHQ-9 item 9 above
    0 opens a self-harm risk for the partner, however long after the intake)."""
    from ..risk.operations import record_measure_disclosures

    session = db_session()
    if result.instrument_version is None:  # the intake's measures: asked in today's wording
        result.instrument_version = instrument_version(result.instrument)
    session.add(result)
    session.flush()
    record_measure_disclosures(result, now=now)
    return result


# --- the schedule ---------------------------------------------------------------------


class ScheduleError(ValueError):
    """A schedule that cannot be kept, said in words for the form."""


def schedule_for(couple: Couple) -> MeasureSchedule | None:
    return db_session().scalar(
        sa.select(MeasureSchedule).where(MeasureSchedule.couple_id == couple.id)
    )


def save_schedule(
    couple: Couple,
    therapist: Therapist,
    *,
    instruments: Sequence[str],
    cadence: str,
    every_weeks: int | None,
    starts_on: date,
    active: bool = True,
) -> MeasureSchedule:
    """Set (or change) the couple's schedule, audited. ``ScheduleError`` for a choice
    the schedule cannot hold."""
    chosen = [slug for slug in SCHEDULABLE if slug in set(instruments)]
    unknown = set(instruments) - set(SCHEDULABLE)
    if unknown or not chosen:
        raise ScheduleError("Choose at least one of the measures listed.")
    try:
        Plan(cadence, starts_on, every_weeks if cadence == "every_n_weeks" else None)
    except ValueError as error:
        raise ScheduleError(str(error)) from None
    schedule = schedule_for(couple)
    created = schedule is None
    if schedule is None:
        schedule = MeasureSchedule(couple_id=couple.id, created_by_id=therapist.id)
        db_session().add(schedule)
    schedule.instruments = ",".join(chosen)
    schedule.cadence = cadence
    schedule.every_weeks = every_weeks if cadence == "every_n_weeks" else None
    schedule.starts_on = starts_on
    schedule.active = active
    db_session().flush()
    record_event(
        "measures.schedule_set" if created else "measures.schedule_change",
        actor=therapist,
        record=schedule,
        couple_id=couple.id,
        detail={
            "instruments": schedule.instruments,
            "cadence": cadence,
            "every_weeks": schedule.every_weeks,
            "starts_on": starts_on.isoformat(),
            "active": active,
        },
    )
    return schedule


def plan_of(schedule: MeasureSchedule) -> Plan:
    return Plan(schedule.cadence, schedule.starts_on, schedule.every_weeks)


def window() -> Window:
    return Window(
        send_days_before=int(config("MEASURES_SEND_DAYS_BEFORE")),
        missed_after_days=int(config("MEASURES_MISSED_AFTER_DAYS")),
    )


def session_days(couple: Couple, partner: Partner) -> list[date]:
    """The days of the couple's sessions (held or booked) this partner attends."""
    rows = db_session().execute(
        sa.select(TherapySession.held_on, TherapySession.attendance).where(
            TherapySession.couple_id == couple.id, TherapySession.deleted_at.is_(None)
        )
    )
    return [day for day, attendance in rows if attendance in ("both", partner.role)]


def administrations(couple: Couple) -> list[MeasureAdministration]:
    return list(
        db_session().scalars(
            sa.select(MeasureAdministration)
            .where(MeasureAdministration.couple_id == couple.id)
            .order_by(MeasureAdministration.due_on, MeasureAdministration.created_at)
        )
    )


def partner_occasions(
    couple: Couple,
    schedule: MeasureSchedule,
    partner: Partner,
    today: date,
    made: Sequence[MeasureAdministration],
) -> list[Occasion]:
    """Each occasion of the schedule for ``partner``, with its state."""
    return occasions_for(schedule, partner, today, made, session_days(couple, partner))


def occasions_for(
    schedule: MeasureSchedule,
    partner: Partner,
    today: date,
    made: Sequence[MeasureAdministration],
    days: Sequence[date],
) -> list[Occasion]:
    """:func:`partner_occasions` from rows already loaded: the couple's administrations
    and the days of the sessions this partner attends (the dashboard loads them for
    every case at once)."""
    own = [a for a in made if a.partner_id == partner.id]
    return occasions(
        plan_of(schedule),
        session_days=list(days),
        today=today,
        window=window(),
        sent=[a.due_on for a in own if a.sent_at is not None],
        done=[a.due_on for a in own if a.completed_at is not None],
    )


# --- sending --------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """An administration made just now, and its link (the token exists only here)."""

    administration: MeasureAdministration
    partner: Partner
    issued: IssuedLink


def open_case(couple: Couple) -> bool:
    return (
        couple.deleted_at is None
        and couple.status != CaseStatus.CLOSED.value
        and couple.therapist.active
    )


def prepare_due(
    couple: Couple,
    *,
    today: date,
    by: Therapist | None = None,
    now: datetime | None = None,
) -> list[Prepared]:
    """Make the administrations the couple's schedule calls for now and not yet made,
    each with a new measures link (flushed). An administration is unique per partner
    and due date: one already made (by an earlier run, or one running at the same time)
    is skipped, so nothing is ever sent twice."""
    schedule = schedule_for(couple)
    if schedule is None or not schedule.active or not open_case(couple):
        return []
    now = now or utcnow()
    session = db_session()
    made = administrations(couple)
    prepared = []
    for partner in couple.partners:
        for due_on in to_send(partner_occasions(couple, schedule, partner, today, made)):
            if any(a.partner_id == partner.id and a.due_on == due_on for a in made):
                continue
            administration = MeasureAdministration(
                couple_id=couple.id,
                partner_id=partner.id,
                due_on=due_on,
                instruments=schedule.instruments,
            )
            try:
                with session.begin_nested():
                    session.add(administration)
            except IntegrityError:
                continue  # another run made it first
            issued = issue_link(
                partner,
                PURPOSE,
                created_by=by or couple.therapist,
                lifetime=timedelta(days=int(config("MEASURES_LINK_LIFETIME_DAYS"))),
                now=now,
            )
            administration.link_id = issued.link.id
            administration.sent_at = now
            administration.sent_via = "copy"
            session.flush()
            record_event(
                "measures.send",
                actor=by,
                record=administration,
                couple_id=couple.id,
                detail={"due_on": due_on.isoformat(), "instruments": schedule.instruments},
            )
            prepared.append(Prepared(administration, partner, issued))
    return prepared


def new_link_for(
    administration: MeasureAdministration, therapist: Therapist, *, now: datetime | None = None
) -> IssuedLink:
    """A new link to copy for an administration not yet answered (the old one stops
    working: one way in)."""
    now = now or utcnow()
    issued = issue_link(
        administration.partner,
        PURPOSE,
        created_by=therapist,
        lifetime=timedelta(days=int(config("MEASURES_LINK_LIFETIME_DAYS"))),
        now=now,
    )
    administration.link_id = issued.link.id
    administration.sent_at = administration.sent_at or now
    administration.sent_via = "copy"
    db_session().flush()
    record_event(
        "link.create",
        actor=therapist,
        record=issued.link,
        couple_id=administration.couple_id,
        detail={"administration": str(administration.id)},
    )
    return issued


def eligible_couples() -> list[Couple]:
    """Open cases with an active schedule, for ``send-measures``."""
    return list(
        db_session().scalars(
            sa.select(Couple)
            .join(MeasureSchedule, MeasureSchedule.couple_id == Couple.id)
            .where(
                MeasureSchedule.active.is_(True),
                Couple.deleted_at.is_(None),
                Couple.status != CaseStatus.CLOSED.value,
            )
            .order_by(Couple.created_at)
        )
    )


# --- a partner's answers --------------------------------------------------------------


class AlreadyAnswered(Exception):
    """The administration behind this link was answered already: nothing is stored."""


def administration_for_link(link: ClientLink) -> MeasureAdministration | None:
    return db_session().scalar(
        sa.select(MeasureAdministration).where(MeasureAdministration.link_id == link.id)
    )


def store_answers(
    link: ClientLink,
    administration: MeasureAdministration,
    answers: Mapping[str, Sequence[int]],
    *,
    now: datetime | None = None,
) -> list[MeasureResult]:
    """Score and keep one partner's answers to the administration's measures, each with
    its date, instrument version, items and link, and close the link (read-only from
    now on). The link's row is locked first and a second submission (a double click,
    two tabs) finds it used and raises ``AlreadyAnswered``: each answer is stored once.
    """
    now = now or utcnow()
    session = db_session()
    session.execute(sa.select(ClientLink.id).where(ClientLink.id == link.id).with_for_update())
    session.refresh(link)
    if link.used_at is not None or administration.completed_at is not None:
        raise AlreadyAnswered
    results = []
    for slug in administration.instrument_slugs:
        points = list(answers[slug])
        scored = score(slug, points)
        result = MeasureResult.from_score(
            scored,
            partner_id=link.partner_id,
            item_points=points,
            administered_at=now,
        )
        result.link_id = link.id
        result.instrument_version = instrument_version(slug)
        store_measure_result(result, now=now)
        results.append(result)
    link.used_at = now
    administration.completed_at = now
    session.flush()
    record_event(
        "measures.submit",
        actor=link,
        record=administration,
        couple_id=link.partner.couple_id,
        detail={"instruments": administration.instruments},
    )
    return results


def known(slug: str) -> bool:
    return slug in INSTRUMENTS
