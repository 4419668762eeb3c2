"""The dates a person could mean: bounds for the dates therapists type into forms.

Each function takes the date typed and the therapist's today and returns the message to
show beside the field, or None when the date is plausible. They are pure, so the forms
call them and the tests call them without a request.

Why these bounds:

* A session may be booked up to a year ahead (a practice rarely plans further) and
  recorded up to ten years back: notes are sometimes typed up late from paper, and ten
  years covers the record-keeping periods most professional bodies set. The case's opened
  date is not used as the lower bound: it is an approximate, editable date, and tying the
  two would make a session's details fail to save after the case's date was moved.
* A case cannot open in the future, nor before 1950: no couple in therapy today began
  their treatment earlier, and a date such as 0001-01-01 is a slip of the keyboard.
* Homework runs for at most a year from its start, and starts no more than a year back
  (an assignment recorded late) nor a year ahead.
"""

from __future__ import annotations

from datetime import date, timedelta

YEAR = timedelta(days=366)  # a leap day never makes "a year ahead" fail
SESSION_YEARS_BACK = 10
EARLIEST_CASE = date(1950, 1, 1)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def session_date_problem(held_on: date, today: date) -> str | None:
    if held_on > today + YEAR:
        return "A session can be at most a year ahead: please check the year."
    earliest = _years_before(today, SESSION_YEARS_BACK)
    if held_on < earliest:
        return (
            f"A session can be at most {SESSION_YEARS_BACK} years back (not before "
            f"{_long(earliest)}): please check the year."
        )
    return None


def case_opened_problem(opened_on: date, today: date) -> str | None:
    if opened_on > today:
        return "A case cannot open on a future date."
    if opened_on < EARLIEST_CASE:
        return f"A case cannot open before {EARLIEST_CASE.year}: please check the year."
    return None


def homework_start_problem(starts_on: date, today: date) -> str | None:
    if starts_on < today - YEAR:
        return "Homework can start at most a year back: please check the year."
    if starts_on > today + YEAR:
        return "Homework can start at most a year ahead: please check the year."
    return None


def homework_span_problem(starts_on: date, due_on: date) -> str | None:
    if due_on < starts_on:
        return "The due date cannot be before the start date."
    # A difference, not starts_on + YEAR: that overflows for a start in year 9999.
    if due_on - starts_on > YEAR:
        return "Homework can run for at most a year: please choose an earlier due date."
    return None
