"""When homework is due, how much of it was done, and its calendar: pure functions (the
calendar's few words are in the partner's language, i18n.py, as their pages are)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar

from .. import i18n
from ..i18n import N_

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
        owed = math.floor(days * times_per_week / 7)
        # A span shorter than one turn of the week still owes one by its due date.
        return max(owed, 1) if as_of >= due_on else owed
    raise ValueError(f"unknown frequency {frequency!r}")


def first_due_on(frequency: str, times_per_week: int | None, starts_on: date, due_on: date) -> date:
    """The day the first check-in falls due (the first day :func:`expected_check_ins`
    counts one): the due date for once, the start for daily, and for weekly N the day a
    week's share reaches one (``ceil(7 / N)`` days in), or the due date if sooner."""
    if frequency == "once":
        return due_on
    if frequency == "daily":
        return starts_on
    if frequency == "weekly":
        if not times_per_week:
            raise ValueError("weekly homework needs times_per_week")
        return min(starts_on + timedelta(days=math.ceil(7 / times_per_week) - 1), due_on)
    raise ValueError(f"unknown frequency {frequency!r}")


def frequency_label(frequency: str, times_per_week: int | None) -> str:
    """How often, in words: "once", "daily", "once a week", "twice a week", "3 times a week"."""
    if frequency == "weekly":
        count = times_per_week or 1
        return {1: "once a week", 2: "twice a week"}.get(count, f"{count} times a week")
    return {"once": "once", "daily": "daily"}.get(frequency, frequency)


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
    expected: int  # due so far (by today, or by the day the assignment was closed)
    last_check_in: date | None
    overdue: bool
    # While nothing is due yet: the day the first check-in falls due (None once one is
    # due, or when the assignment was closed before any was).
    first_due: date | None = None

    @property
    def percent(self) -> int | None:
        if self.expected == 0:
            return None
        return min(100, round(100 * self.made / self.expected))

    @property
    def text(self) -> str:
        """What the therapist reads: a ratio only once something is due ("2 of 3 due"),
        never "0 of 0" or "1 of 0"; before then when the first check-in is due."""
        return adherence_text(self)


def _check_ins(count: int) -> str:
    return f"{count} check-in{'' if count == 1 else 's'}"


def adherence_text(progress: Adherence) -> str:
    """See :attr:`Adherence.text`. Check-ins beyond those due count as "ahead"."""
    made, expected = progress.made, progress.expected
    if expected == 0:
        if progress.first_due is not None:
            due = f"first check-in due {progress.first_due.isoformat()}"
            return f"{_check_ins(made)} early; {due}" if made else due
        return f"{_check_ins(made)}; none were due" if made else "none were due"
    if made > expected:
        return f"{expected} of {expected} due, {made - expected} ahead"
    return f"{made} of {expected} due"


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
    first = first_due_on(frequency, times_per_week, starts_on, due_on)
    return Adherence(
        made=made,
        expected=expected,
        last_check_in=days[-1] if days else None,
        overdue=overdue,
        first_due=first if expected == 0 and (closed_on is None or first <= closed_on) else None,
    )


# A calendar entry is read by whoever sees the partner's phone, and calendars are often
# synced to outside services or shared with a household: the entries name nothing
# clinical (no exercise, no therapist, no practice, no note), only a neutral reminder.
# In English here, and marked for the catalogue: each is shown in the partner's language.
CALENDAR_SUMMARY = {"individual": N_("Time for yourself"), "together": N_("Time together")}
CALENDAR_PRODID = "-//reminders//EN"
CALENDAR_UID_DOMAIN = "reminders.invalid"


def calendar_summary(mode: str, language: str | None = None) -> str:
    """The neutral title of a calendar entry for an exercise done in ``mode``, in
    ``language``, or else in the language the clinic writes in now (the partner's, on
    their own pages and files)."""
    title = CALENDAR_SUMMARY.get(mode, CALENDAR_SUMMARY["individual"])
    return i18n.gettext(title) if language is None else i18n.translator(language)(title)


_DESCRIPTION = N_("About %(minutes)s minutes.")


def calendar_description(duration_minutes: int, language: str | None = None) -> str:
    """The entry's only other words: how long it takes, in the same language."""
    if language is None:
        return i18n.gettext(_DESCRIPTION, minutes=duration_minutes)
    return i18n.translator(language)(_DESCRIPTION) % {"minutes": duration_minutes}


# The reminder goes off at this time on each planned day (an all-day event starts at
# midnight, local time, so the alarm's trigger is counted from there).
CALENDAR_REMINDER_AFTER_MIDNIGHT = timedelta(hours=9)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Recurrence:
    """When a calendar's one event happens: its first day, and how it repeats (the
    ``RRULE``'s parts; None for homework done once)."""

    first_day: date
    rule: dict[str, object] | None


def recurrence(
    frequency: str, times_per_week: int | None, starts_on: date, due_on: date
) -> Recurrence:
    """The event that repeats on exactly :func:`scheduled_days`: once on the due date;
    daily from the start; weekly on the weekdays the week's sessions fall on. Each
    repeats until the due date (``UNTIL``, a date as the event is all-day)."""
    if frequency == "once":
        return Recurrence(first_day=due_on, rule=None)
    if frequency == "daily":
        return Recurrence(first_day=starts_on, rule={"freq": "daily", "until": due_on})
    if frequency == "weekly":
        offsets = WEEKDAY_SPREAD[times_per_week or 1]
        days = sorted({(starts_on.weekday() + offset) % 7 for offset in offsets})
        return Recurrence(
            first_day=starts_on,
            rule={"freq": "weekly", "byday": [_WEEKDAYS[d] for d in days], "until": due_on},
        )
    raise ValueError(f"unknown frequency {frequency!r}")


def calendar_file(
    *,
    uid_base: str,
    summary: str,
    frequency: str,
    times_per_week: int | None,
    starts_on: date,
    due_on: date,
    duration_minutes: int,
    created: datetime,
    language: str | None = None,
) -> bytes:
    """An .ics file with one all-day event that repeats as the homework is planned (see
    :func:`recurrence`), with a reminder (a ``DISPLAY`` alarm) on each of its days.

    The event and its reminder carry the neutral ``summary`` (see
    :func:`calendar_summary`) and a length only: never the exercise's title, a
    therapist's note, names, scores or reflections. ``language`` (the partner's, BCP 47)
    is given on those texts (RFC 5545's ``LANGUAGE`` parameter) so a calendar program
    knows what language they are in.
    """
    when = recurrence(frequency, times_per_week, starts_on, due_on)
    calendar = icalendar.Calendar()
    calendar.add("prodid", CALENDAR_PRODID)
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"{uid_base}@{CALENDAR_UID_DOMAIN}")
    event.add("dtstamp", created)
    event.add("dtstart", when.first_day)
    event.add("dtend", when.first_day + timedelta(days=1))
    if when.rule is not None:
        event.add("rrule", when.rule)
    said_in = {"language": language} if language else {}
    event.add("summary", summary, parameters=said_in)
    event.add("description", calendar_description(duration_minutes, language), parameters=said_in)
    event.add("transp", "TRANSPARENT")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary, parameters=said_in)
    alarm.add("trigger", CALENDAR_REMINDER_AFTER_MIDNIGHT)
    event.add_component(alarm)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()  # unannotated in icalendar
    return ical
