"""Which administrations a couple's schedule of measures calls for, and which of them are
due, sent, done or missed: pure functions of the schedule, the session dates and today.

A schedule asks the chosen measures before every session, every N weeks from its start,
or once. Each occasion has a due date (the session's day, or the week's); a link may go
out ``send_days_before`` days ahead of it, and the occasion counts as *missed* once its
window has closed without the partner's answers: for a session, when the session day
has passed (answers given afterwards no longer say how things stood before it); for the
other cadences, ``missed_after_days`` days after the due date.

No request, no database: ``measures.operations`` reads the rows and calls these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

BEFORE_EVERY_SESSION: Final = "before_every_session"
EVERY_N_WEEKS: Final = "every_n_weeks"
ONCE: Final = "once"
CADENCES: Final = (BEFORE_EVERY_SESSION, EVERY_N_WEEKS, ONCE)


class OccasionState(StrEnum):
    UPCOMING = "upcoming"  # not yet time to send
    DUE = "due"  # time to send, not sent yet
    SENT = "sent"  # sent, not answered, window still open
    DONE = "done"  # answered
    MISSED = "missed"  # window closed without an answer


@dataclass(frozen=True, slots=True)
class Plan:
    """A schedule as the pure functions see it (``models.MeasureSchedule`` in clear)."""

    cadence: str
    starts_on: date
    every_weeks: int | None = None

    def __post_init__(self) -> None:
        if self.cadence not in CADENCES:
            raise ValueError(f"unknown cadence {self.cadence!r}; known: {', '.join(CADENCES)}")
        if self.cadence == EVERY_N_WEEKS and (
            self.every_weeks is None or not 1 <= self.every_weeks <= 52
        ):
            raise ValueError("every N weeks needs N between 1 and 52")


@dataclass(frozen=True, slots=True)
class Window:
    """When the measures for one due date may be sent, and when they count as missed."""

    send_days_before: int
    missed_after_days: int


@dataclass(frozen=True, slots=True)
class Occasion:
    due_on: date
    state: OccasionState


def due_dates(plan: Plan, *, session_days: Iterable[date], until: date) -> list[date]:
    """Every due date of ``plan`` from its start up to and including ``until``, in order.

    ``session_days`` are the days of the couple's sessions (held or booked); only those
    on or after the schedule's start count.
    """
    if until < plan.starts_on:
        return []
    if plan.cadence == ONCE:
        return [plan.starts_on]
    if plan.cadence == BEFORE_EVERY_SESSION:
        return sorted({day for day in session_days if plan.starts_on <= day <= until})
    step = timedelta(weeks=plan.every_weeks or 1)
    days = []
    day = plan.starts_on
    while day <= until:
        days.append(day)
        day += step
    return days


def closes_on(plan: Plan, due_on: date, window: Window) -> date:
    """The last day on which the measures for ``due_on`` still count as on time."""
    if plan.cadence == BEFORE_EVERY_SESSION:
        return due_on
    return due_on + timedelta(days=window.missed_after_days)


def occasions(
    plan: Plan,
    *,
    session_days: Iterable[date],
    today: date,
    window: Window,
    sent: Iterable[date] = (),
    done: Iterable[date] = (),
) -> list[Occasion]:
    """Each occasion of ``plan`` until ``today + send_days_before`` with its state.

    ``sent`` and ``done`` are the due dates for which a link went out and for which the
    answers came back (for one partner).
    """
    sent_days, done_days = set(sent), set(done)
    horizon = today + timedelta(days=window.send_days_before)
    result = []
    for due_on in due_dates(plan, session_days=session_days, until=horizon):
        if due_on in done_days:
            state = OccasionState.DONE
        elif today > closes_on(plan, due_on, window):
            state = OccasionState.MISSED
        elif due_on in sent_days:
            state = OccasionState.SENT
        elif today >= due_on - timedelta(days=window.send_days_before):
            state = OccasionState.DUE
        else:
            state = OccasionState.UPCOMING
        result.append(Occasion(due_on, state))
    return result


def to_send(found: Sequence[Occasion]) -> list[date]:
    """The due date whose link should go out now: the latest one due and not yet sent,
    if any. An earlier one still in its window is not sent as well: a partner gets one
    link at a time (a new measures link revokes the one before), and answers given now
    say how things stand now, so the earlier occasion is left to count as missed."""
    due = [occasion.due_on for occasion in found if occasion.state is OccasionState.DUE]
    return due[-1:]


def missed(found: Sequence[Occasion]) -> list[date]:
    return [occasion.due_on for occasion in found if occasion.state is OccasionState.MISSED]
