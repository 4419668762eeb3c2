"""The homework files: the adherence CSVs (human labels beside the codes, no formulas)
and a partner's .ics (one repeating event with a reminder, naming nothing clinical)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from dateutil.rrule import rrulestr

from reconnect_clinic.homework.schedule import (
    calendar_file,
    frequency_label,
    recurrence,
    scheduled_days,
)
from reconnect_clinic.homework.summary import CSV_HEADER, slug_words, spreadsheet_safe
from reconnect_clinic.taxonomy import load as load_taxonomy
from tests.helpers import PartnerBrowser, login

START = date(2026, 11, 5)  # a Thursday
DUE = START + timedelta(days=20)
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


# --- CSV --------------------------------------------------------------------------------


def _step_title(slug: str) -> str:
    return load_taxonomy().step(slug).title


def _csv(client, url: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(client.get(url).text)))


def _one_row(client, make, **assignment):
    owner = make.therapist()
    couple = make.couple(owner)
    make.assignment(owner, couple, assignee="both", **assignment)
    login(client, owner.email)
    return _csv(client, f"/clinic/couples/{couple.id}/homework.csv")[0]


def test_the_header_names_every_column(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    text = client.get(f"/clinic/couples/{couple.id}/homework.csv").text
    assert next(csv.reader(io.StringIO(text))) == CSV_HEADER


def test_the_healing_step_has_its_title_beside_its_code(client, make):
    row = _one_row(client, make, exercise="daily_check_in")
    assert row["healing step code"] == "improve_communication"
    assert row["healing step"] == _step_title("improve_communication")


def test_how_often_is_in_words_beside_its_code(client, make):
    row = _one_row(client, make, exercise="daily_check_in", frequency="weekly", times_per_week=3)
    assert row["frequency code"] == "weekly"
    assert row["how often"] == "3 times a week"
    assert row["times a week"] == "3"


def test_adherence_is_in_words_too(client, make):
    row = _one_row(client, make, exercise="daily_check_in", frequency="once")
    due = (date.today() + timedelta(days=7)).isoformat()  # noqa: DTZ011 - the factory's
    assert row["adherence"] == f"first check-in due {due}"
    assert row["check-ins due so far"] == "0"


def test_the_caseload_csv_has_the_same_columns(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    make.assignment(owner, couple, exercise="daily_check_in")
    login(client, owner.email)
    (first, *_) = _csv(client, "/clinic/homework.csv")
    assert list(first) == CSV_HEADER
    assert first["healing step"] == _step_title("improve_communication")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_like_a_formula_is_defused(start):
    assert spreadsheet_safe(f"{start}SUM(A1)") == f"'{start}SUM(A1)"


def test_an_ordinary_cell_is_left_alone():
    assert spreadsheet_safe("Lighthouse Keepers") == "Lighthouse Keepers"


def test_a_formula_in_a_case_label_reaches_the_csv_defused(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="@SUM(1+1)")
    make.assignment(owner, couple)
    login(client, owner.email)
    row = _csv(client, f"/clinic/couples/{couple.id}/homework.csv")[0]
    assert row["case"] == "'@SUM(1+1)"


@pytest.mark.parametrize(
    ("frequency", "per_week", "words"),
    [
        ("once", None, "once"),
        ("daily", None, "daily"),
        ("weekly", 1, "once a week"),
        ("weekly", 2, "twice a week"),
        ("weekly", 5, "5 times a week"),
    ],
)
def test_frequency_label(frequency, per_week, words):
    assert frequency_label(frequency, per_week) == words


def test_slug_words_for_a_step_no_longer_named():
    assert slug_words("develop_empathy_and_compassion") == "Develop empathy and compassion"


# --- .ics -------------------------------------------------------------------------------


def _event(frequency: str, per_week: int | None = None, summary: str = "Time for yourself"):
    body = calendar_file(
        uid_base="abc",
        summary=summary,
        frequency=frequency,
        times_per_week=per_week,
        starts_on=START,
        due_on=DUE,
        duration_minutes=10,
        created=CREATED,
    )
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    return event


def _occurrences(event) -> list[date]:
    start = event.decoded("dtstart")
    if "RRULE" not in event:
        return [start]
    rule = rrulestr(
        event["RRULE"].to_ical().decode(), dtstart=datetime.combine(start, datetime.min.time())
    )
    return [moment.date() for moment in rule]


@pytest.mark.parametrize(
    ("frequency", "per_week"),
    [("daily", None), ("weekly", 1), ("weekly", 2), ("weekly", 3), ("weekly", 4), ("weekly", 7)],
)
def test_the_event_repeats_on_exactly_the_planned_days(frequency, per_week):
    event = _event(frequency, per_week)
    assert _occurrences(event) == scheduled_days(frequency, per_week, START, DUE)


def test_a_daily_event_repeats_daily_until_the_due_date():
    rule = _event("daily")["RRULE"]
    assert rule["FREQ"] == ["DAILY"]
    assert rule["UNTIL"] == [DUE]


def test_a_weekly_event_names_its_weekdays():
    rule = _event("weekly", 2)["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["BYDAY"] == ["TH", "SU"]  # the start's weekday, then three days on


def test_homework_done_once_is_one_event_on_the_due_date_without_a_rule():
    event = _event("once")
    assert "RRULE" not in event
    assert event.decoded("dtstart") == DUE


@pytest.mark.parametrize("frequency, per_week", [("once", None), ("daily", None), ("weekly", 3)])
def test_every_event_has_a_display_reminder(frequency, per_week):
    (alarm,) = _event(frequency, per_week).walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(hours=9)  # 09:00 on the day


def test_the_reminder_says_only_the_neutral_title():
    (alarm,) = _event("daily", summary="Time together").walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Time together"


def test_the_event_is_all_day_and_does_not_block_time():
    event = _event("daily")
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(days=1)
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_recurrence_refuses_an_unknown_frequency():
    with pytest.raises(ValueError, match="unknown frequency"):
        recurrence("hourly", None, START, DUE)


def test_the_downloaded_calendar_names_nothing_clinical(make, app):
    owner = make.therapist()
    couple = make.couple(owner, label="Lighthouse Keepers", a="Alexandrina", b="Bartholomew")
    assignment = make.assignment(owner, couple, frequency="weekly", times_per_week=3, days=13)
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    text = partner.get(f"{assignment.id}.ics").text
    for secret in ("Lighthouse Keepers", "Alexandrina", "Bartholomew", assignment.title):
        assert secret not in text, secret
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Time together"
    assert str(event["DESCRIPTION"]).startswith("About ")


def test_the_downloaded_calendar_repeats_as_the_homework_is_planned(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple, frequency="weekly", times_per_week=3, days=13)
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    (event,) = icalendar.Calendar.from_ical(partner.get(f"{assignment.id}.ics").data).walk("VEVENT")
    planned = scheduled_days("weekly", 3, assignment.starts_on, assignment.due_on)
    assert _occurrences(event) == planned


def test_the_homework_page_says_what_the_calendar_entry_is_called(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    make.assignment(owner, couple, exercise="daily_check_in", frequency="daily")
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    assert "titled only “Time together”" in partner.get().text
