"""When homework is due, how much of it was done, and its calendar: pure functions."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar

WEEKDAY_SPREAD = {  # which weekdays (0 = the start day's weekday) N sessions a week fall on
    1: (0,),
    2: (0, 3),
    3: (0, 2, 4),
    4: (0, 2, 4, 6),
    5: (0, 1, 3, 4, 6),
    6: (0, 1, 2, 3, 4, 5),
    7: (0, 1, 2, 3, 4, 5, 6),
}


def expected_check_ins(
    frequency: str,
    times_per_week: int | None,
    starts_on: date,
    due_on: date,
    as_of: date,
) -> int:
    """How many check-ins one partner owes by ``as_of``.

    Once: one, owed from the due date. Daily: one per day from the start to the earlier
    of ``as_of`` and the due date. Weekly N: N per full week, and a proportional share
    of a week in progress, rounded down, so nobody is overdue for a day not yet reached.
    """
    if as_of < starts_on:
        return 0
    end = min(as_of, due_on)
    days = (end - starts_on).days + 1
    if frequency == "once":
        return 1 if as_of >= due_on else 0
    if frequency == "daily":
        return days
    if frequency == "weekly":
        if not times_per_week:
            raise ValueError("weekly homework needs times_per_week")
        return math.floor(days * times_per_week / 7)
    raise ValueError(f"unknown frequency {frequency!r}")


def scheduled_days(
    frequency: str, times_per_week: int | None, starts_on: date, due_on: date
) -> list[date]:
    """The days the exercise is planned for, for a calendar."""
    if frequency == "once":
        return [due_on]
    days = [starts_on + timedelta(days=n) for n in range((due_on - starts_on).days + 1)]
    if frequency == "daily":
        return days
    offsets = WEEKDAY_SPREAD[times_per_week or 1]
    return [day for day in days if (day - starts_on).days % 7 in offsets]


@dataclass(frozen=True)
class Adherence:
    made: int  # check-ins counted (late ones are not)
    expected: int
    last_check_in: date | None
    overdue: bool

    @property
    def percent(self) -> int | None:
        if self.expected == 0:
            return None
        return min(100, round(100 * self.made / self.expected))


def adherence(
    frequency: str,
    times_per_week: int | None,
    starts_on: date,
    due_on: date,
    check_in_days: Iterable[date],
    as_of: date,
    closed_on: date | None = None,
) -> Adherence:
    """Check-ins made against those due, for one partner and one assignment."""
    days = sorted(check_in_days)
    horizon = min(as_of, closed_on) if closed_on else as_of
    expected = expected_check_ins(frequency, times_per_week, starts_on, due_on, horizon)
    made = len(days)
    overdue = closed_on is None and as_of > due_on and made < max(expected, 1)
    return Adherence(
        made=made,
        expected=expected,
        last_check_in=days[-1] if days else None,
        overdue=overdue,
    )


# A calendar entry is read by whoever sees the partner's phone, and calendars are often
# synced to outside services or shared with a household: the entries name nothing
# clinical (no exercise, no therapist, no practice, no note), only a neutral reminder.
CALENDAR_SUMMARY = {"individual": "Time for yourself", "together": "Time together"}
CALENDAR_PRODID = "-//reminders//EN"
CALENDAR_UID_DOMAIN = "reminders.invalid"


def calendar_summary(mode: str) -> str:
    """The neutral title of a calendar entry for an exercise done in ``mode``."""
    return CALENDAR_SUMMARY.get(mode, CALENDAR_SUMMARY["individual"])


def calendar_file(
    *,
    uid_base: str,
    summary: str,
    days: Iterable[date],
    duration_minutes: int,
    created: datetime,
) -> bytes:
    """An .ics file with one all-day event per planned day.

    Each event carries the neutral ``summary`` (see :func:`calendar_summary`) and a
    length only: never the exercise's title, a therapist's note, names, scores or
    reflections.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", CALENDAR_PRODID)
    calendar.add("version", "2.0")
    for day in days:
        event = icalendar.Event()
        event.add("uid", f"{uid_base}-{day.isoformat()}@{CALENDAR_UID_DOMAIN}")
        event.add("dtstamp", created)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", summary)
        event.add("description", f"About {duration_minutes} minutes.")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
