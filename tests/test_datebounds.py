"""The bounds on the dates therapists type (reconnect_clinic/datebounds.py), without a
request; the forms that use them are tested in their own feature's tests."""

from __future__ import annotations

from datetime import date, timedelta

from reconnect_clinic.datebounds import (
    case_opened_problem,
    homework_span_problem,
    homework_start_problem,
    session_date_problem,
)

TODAY = date(2026, 12, 1)


def test_a_session_is_at_most_a_year_ahead_and_ten_years_back():
    assert session_date_problem(TODAY, TODAY) is None
    assert session_date_problem(date(2027, 12, 1), TODAY) is None
    assert "at most a year ahead" in session_date_problem(date(2099, 1, 1), TODAY)
    assert session_date_problem(date(2016, 12, 1), TODAY) is None
    assert "at most 10 years back" in session_date_problem(date(2016, 11, 30), TODAY)
    assert "1 December 2016" in session_date_problem(date(1, 1, 1), TODAY)


def test_ten_years_back_from_a_leap_day():
    assert session_date_problem(date(2014, 2, 28), date(2024, 2, 29)) is None
    assert session_date_problem(date(2014, 2, 27), date(2024, 2, 29)) is not None


def test_a_case_opens_between_1950_and_today():
    assert case_opened_problem(TODAY, TODAY) is None
    assert case_opened_problem(date(1950, 1, 1), TODAY) is None
    assert case_opened_problem(TODAY + timedelta(days=1), TODAY) == (
        "A case cannot open on a future date."
    )
    assert "before 1950" in case_opened_problem(date(1, 1, 1), TODAY)


def test_homework_starts_within_a_year_and_runs_at_most_a_year():
    assert homework_start_problem(TODAY - timedelta(days=365), TODAY) is None
    assert "a year back" in homework_start_problem(date(1900, 1, 1), TODAY)
    assert "a year ahead" in homework_start_problem(date(9999, 12, 31), TODAY)
    assert homework_span_problem(TODAY, TODAY) is None
    assert homework_span_problem(TODAY, TODAY + timedelta(days=365)) is None
    assert "at most a year" in homework_span_problem(TODAY, date(9999, 12, 31))
    assert "before the start" in homework_span_problem(TODAY, TODAY - timedelta(days=1))
    assert homework_span_problem(date(9999, 12, 30), date(9999, 12, 31)) is None
