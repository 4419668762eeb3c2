"""Adherence counts only what is due so far, and reads as a therapist would expect: a
ratio only once something is due, never "0 of 0" or "1 of 0"; before then, when the first
check-in is due. Pure functions (homework/schedule.py), at their boundaries; then the pages
that show it (the caseload, the progress and session reports)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reconnect_clinic.homework.schedule import (
    adherence,
    adherence_text,
    expected_check_ins,
    first_due_on,
)
from tests.helpers import login

START = date(2026, 11, 2)  # a Monday
END = START + timedelta(days=13)  # two weeks
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("frequency", "per_week", "first"),
    [
        ("once", None, END),
        ("daily", None, START),
        ("weekly", 7, START),
        ("weekly", 3, START + 2 * DAY),  # ceil(7 / 3) = 3 days in
        ("weekly", 2, START + 3 * DAY),
        ("weekly", 1, START + 6 * DAY),
    ],
)
def test_first_due_on(frequency, per_week, first):
    assert first_due_on(frequency, per_week, START, END) == first


@pytest.mark.parametrize("frequency, per_week", [("once", None), ("daily", None), ("weekly", 3)])
def test_nothing_owed_the_day_before_the_first_is_due(frequency, per_week):
    first = first_due_on(frequency, per_week, START, END)
    assert expected_check_ins(frequency, per_week, START, END, first - DAY) == 0


@pytest.mark.parametrize("frequency, per_week", [("once", None), ("daily", None), ("weekly", 3)])
def test_one_owed_on_the_day_the_first_is_due(frequency, per_week):
    first = first_due_on(frequency, per_week, START, END)
    assert expected_check_ins(frequency, per_week, START, END, first) == 1


def test_a_weekly_span_shorter_than_a_week_owes_one_by_its_end():
    short_end = START + 2 * DAY
    assert first_due_on("weekly", 1, START, short_end) == short_end
    assert expected_check_ins("weekly", 1, START, short_end, short_end - DAY) == 0
    assert expected_check_ins("weekly", 1, START, short_end, short_end) == 1


@pytest.mark.parametrize(
    ("frequency", "per_week", "total"), [("once", None, 1), ("daily", None, 14), ("weekly", 3, 6)]
)
def test_nothing_more_is_owed_after_the_end(frequency, per_week, total):
    assert expected_check_ins(frequency, per_week, START, END, END) == total
    assert expected_check_ins(frequency, per_week, START, END, END + 30 * DAY) == total


def _text(frequency, per_week, made_on, as_of, closed_on=None) -> str:
    return adherence(frequency, per_week, START, END, made_on, as_of, closed_on).text


def test_before_the_start_it_says_when_the_first_check_in_is_due():
    assert _text("daily", None, [], START - 3 * DAY) == "first check-in due 2026-11-02"


def test_a_one_off_not_yet_due_says_when():
    assert _text("once", None, [], START + DAY) == "first check-in due 2026-11-15"


def test_an_early_check_in_on_a_one_off_is_not_a_ratio():
    assert _text("once", None, [START], START) == "1 check-in early; first check-in due 2026-11-15"


def test_an_early_check_in_on_weekly_work_is_not_a_ratio():
    # The report's "1 of 0": weekly once, checked in on day one.
    assert _text("weekly", 1, [START], START) == "1 check-in early; first check-in due 2026-11-08"


def test_on_the_due_day_it_is_a_ratio():
    assert _text("once", None, [], END) == "0 of 1 due"


def test_daily_on_its_first_day():
    assert _text("daily", None, [START], START) == "1 of 1 due"


def test_after_the_end_the_ratio_covers_the_whole_span():
    assert _text("daily", None, [START, START + DAY], END + 5 * DAY) == "2 of 14 due"


def test_check_ins_beyond_those_due_count_as_ahead():
    made = [START, START + DAY, START + 2 * DAY]
    assert _text("weekly", 3, made, START + 2 * DAY) == "1 of 1 due, 2 ahead"


def test_closed_before_anything_was_due():
    assert _text("once", None, [], START + 5 * DAY, closed_on=START + 2 * DAY) == "none were due"


def test_closed_before_anything_was_due_with_a_check_in():
    text = _text("once", None, [START], START + 5 * DAY, closed_on=START + 2 * DAY)
    assert text == "1 check-in; none were due"


def test_first_due_is_only_known_while_nothing_is_due():
    assert adherence("daily", None, START, END, [], START - DAY).first_due == START
    assert adherence("daily", None, START, END, [], START).first_due is None


def test_adherence_text_is_the_property():
    progress = adherence("weekly", 2, START, END, [], START)
    assert adherence_text(progress) == progress.text


@pytest.mark.parametrize(
    ("frequency", "per_week"), [("once", None), ("daily", None), ("weekly", 1), ("weekly", 5)]
)
def test_never_a_ratio_over_nothing(frequency, per_week):
    for offset in range(-2, 20):
        as_of = START + offset * DAY
        for made in ([], [START], [START, START + DAY]):
            text = adherence(frequency, per_week, START, END, made, as_of).text
            assert " of 0" not in text, (frequency, per_week, as_of, made)


# --- the pages that show it -----------------------------------------------------------------


def _weekly_not_yet_due(make):
    """A therapist, and a couple given weekly homework today (once a week, for two
    weeks): nothing is due before day seven. With a session today whose signed note
    assigns it."""
    owner = make.therapist()
    couple = make.couple(owner, label="Not yet due")
    today = date.today()  # noqa: DTZ011 - the pages count as of today
    given = make.assignment(owner, couple, frequency="weekly", times_per_week=1, days=13)
    therapy = make.therapy_session(owner, couple, held_on=today)
    make.signed_note(owner, therapy, homework_assigned=(str(given.id),))
    first = first_due_on("weekly", 1, today, today + 13 * DAY)
    return owner, couple, therapy, f"first check-in due {first.isoformat()}"


@pytest.mark.parametrize("page", ["caseload", "progress report", "session report"])
def test_pages_say_when_homework_is_first_due_not_0_of_0(client, make, page):
    owner, couple, therapy, first_due = _weekly_not_yet_due(make)
    login(client, owner.email)
    url = {
        "caseload": "/clinic/homework",
        "progress report": f"/clinic/couples/{couple.id}/progress-report",
        "session report": f"/clinic/couples/{couple.id}/sessions/{therapy.id}/report",
    }[page]
    shown = client.get(url)
    assert shown.status_code == 200
    assert first_due in shown.text
    assert "0 of 0" not in shown.text
