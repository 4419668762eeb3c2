"""When homework is due, adherence, and the calendar file (in the partner's language):
pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from reconnect_clinic import i18n
from reconnect_clinic.homework.schedule import (
    adherence,
    calendar_description,
    calendar_file,
    calendar_summary,
    expected_check_ins,
    scheduled_days,
)

START = date(2026, 11, 2)  # a Monday
DUE = START + timedelta(days=13)  # two weeks


@pytest.mark.parametrize(
    ("frequency", "per_week", "as_of", "expected"),
    [
        ("once", None, START, 0),
        ("once", None, DUE - timedelta(days=1), 0),
        ("once", None, DUE, 1),
        ("once", None, DUE + timedelta(days=30), 1),
        ("daily", None, START - timedelta(days=1), 0),
        ("daily", None, START, 1),
        ("daily", None, START + timedelta(days=4), 5),
        ("daily", None, DUE + timedelta(days=5), 14),
        ("weekly", 3, START, 0),
        ("weekly", 3, START + timedelta(days=6), 3),
        ("weekly", 3, DUE, 6),
        ("weekly", 7, START + timedelta(days=2), 3),
        ("weekly", 1, START + timedelta(days=6), 1),
    ],
)
def test_expected_check_ins(frequency, per_week, as_of, expected):
    assert expected_check_ins(frequency, per_week, START, DUE, as_of) == expected


def test_expected_check_ins_refuses_nonsense():
    with pytest.raises(ValueError, match="times_per_week"):
        expected_check_ins("weekly", None, START, DUE, DUE)
    with pytest.raises(ValueError, match="unknown frequency"):
        expected_check_ins("hourly", None, START, DUE, DUE)


def test_adherence_counts_and_caps():
    days = [START + timedelta(days=n) for n in range(3)]
    result = adherence("daily", None, START, DUE, days, START + timedelta(days=5))
    assert (result.made, result.expected, result.percent) == (3, 6, 50)
    assert result.last_check_in == days[-1]
    assert not result.overdue
    over = adherence("once", None, START, DUE, days, DUE)
    assert over.percent == 100  # more check-ins than due never reads above 100%


def test_overdue_only_after_the_due_date_and_while_open():
    late = DUE + timedelta(days=1)
    assert adherence("once", None, START, DUE, [], late).overdue
    assert not adherence("once", None, START, DUE, [], DUE).overdue
    assert not adherence("once", None, START, DUE, [DUE], late).overdue
    assert not adherence("once", None, START, DUE, [], late, closed_on=DUE).overdue
    assert adherence("daily", None, START, DUE, [START], late).overdue


def test_nothing_is_due_before_the_start():
    result = adherence("daily", None, START, DUE, [], START - timedelta(days=3))
    assert result.expected == 0
    assert result.percent is None
    assert not result.overdue


@pytest.mark.parametrize(
    ("frequency", "per_week", "count"), [("once", None, 1), ("daily", None, 14), ("weekly", 3, 6)]
)
def test_scheduled_days(frequency, per_week, count):
    days = scheduled_days(frequency, per_week, START, DUE)
    assert len(days) == count
    assert all(START <= day <= DUE for day in days)


# --- the calendar's words, in the partner's language -----------------------------------------


def test_the_calendar_speaks_english_outside_a_partners_page():
    assert calendar_summary("individual") == "Time for yourself"
    assert calendar_summary("together") == "Time together"
    assert calendar_summary("something else") == "Time for yourself"
    assert calendar_description(12) == "About 12 minutes."


def test_the_calendar_speaks_the_language_the_clinic_writes_in(app):
    with app.test_request_context("/"), i18n.language("es"):
        assert calendar_summary("individual") == "Tiempo para usted"
        assert calendar_summary("together") == "Tiempo juntos"
        assert calendar_description(12) == "Unos 12 minutos."
        body = calendar_file(
            uid_base="x",
            summary=calendar_summary("together"),
            frequency="once",
            times_per_week=None,
            starts_on=START,
            due_on=DUE,
            duration_minutes=12,
            created=datetime(2026, 11, 1, tzinfo=UTC),
            language="es",
        )
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    (alarm,) = event.walk("VALARM")
    for text, expected in (
        (event["SUMMARY"], "Tiempo juntos"),
        (event["DESCRIPTION"], "Unos 12 minutos."),
        (alarm["DESCRIPTION"], "Tiempo juntos"),
    ):
        assert str(text) == expected
        assert text.params["LANGUAGE"] == "es"


def test_a_calendar_without_a_language_says_none():
    body = calendar_file(
        uid_base="x",
        summary="Time together",
        frequency="once",
        times_per_week=None,
        starts_on=START,
        due_on=DUE,
        duration_minutes=12,
        created=datetime(2026, 11, 1, tzinfo=UTC),
    )
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert "LANGUAGE" not in event["SUMMARY"].params
    assert str(event["DESCRIPTION"]) == "About 12 minutes."
