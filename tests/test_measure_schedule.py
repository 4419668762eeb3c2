"""Which administrations a schedule calls for (pure, at every boundary), the therapist's
schedule form, and ``flask clinic send-measures``: idempotent, email when SMTP is set
up, else the links listed to copy; missed administrations visible."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reconnect_clinic.measures.operations import prepare_due, save_schedule
from reconnect_clinic.measures.schedule import (
    OccasionState,
    Plan,
    Window,
    closes_on,
    due_dates,
    missed,
    occasions,
    to_send,
)
from reconnect_clinic.models import ClientLink, MeasureAdministration, MeasureSchedule
from reconnect_clinic.state import db_session
from tests.helpers import csrf_from, login
from tests.test_email import smtp  # noqa: F401 - the fixture

START = date(2026, 3, 2)


def _today() -> date:
    return date.today()  # noqa: DTZ011 - the practice's own day, as the views use


WINDOW = Window(send_days_before=2, missed_after_days=7)


# --- pure: due dates ------------------------------------------------------------------


def test_once_is_due_on_its_start_only():
    plan = Plan("once", START)
    assert due_dates(plan, session_days=[], until=START + timedelta(days=100)) == [START]


def test_nothing_is_due_before_the_start():
    plan = Plan("once", START)
    assert due_dates(plan, session_days=[], until=START - timedelta(days=1)) == []


def test_every_n_weeks_counts_from_the_start_inclusive():
    plan = Plan("every_n_weeks", START, every_weeks=2)
    until = START + timedelta(weeks=4)
    assert due_dates(plan, session_days=[], until=until) == [
        START,
        START + timedelta(weeks=2),
        START + timedelta(weeks=4),
    ]
    assert due_dates(plan, session_days=[], until=until - timedelta(days=1))[-1] == (
        START + timedelta(weeks=2)
    )


def test_before_every_session_takes_session_days_from_the_start():
    plan = Plan("before_every_session", START)
    days = [START - timedelta(days=1), START, START + timedelta(days=7), START + timedelta(days=7)]
    assert due_dates(plan, session_days=days, until=START + timedelta(days=7)) == [
        START,
        START + timedelta(days=7),
    ]


@pytest.mark.parametrize("weeks", [None, 0, 53])
def test_every_n_weeks_needs_n_from_1_to_52(weeks):
    with pytest.raises(ValueError, match="between 1 and 52"):
        Plan("every_n_weeks", START, every_weeks=weeks)


@pytest.mark.parametrize("weeks", [1, 52])
def test_every_n_weeks_accepts_1_and_52(weeks):
    assert Plan("every_n_weeks", START, every_weeks=weeks).every_weeks == weeks


def test_an_unknown_cadence_is_refused():
    with pytest.raises(ValueError, match="unknown cadence"):
        Plan("monthly", START)


# --- pure: states ---------------------------------------------------------------------


def _state(plan: Plan, today: date, **kwargs) -> OccasionState:
    found = occasions(
        plan, session_days=kwargs.pop("days", []), today=today, window=WINDOW, **kwargs
    )
    return found[0].state


def test_sending_opens_send_days_before_the_due_date():
    plan = Plan("once", START)
    assert _state(plan, START - timedelta(days=2)) is OccasionState.DUE
    three_before = occasions(plan, session_days=[], today=START - timedelta(days=3), window=WINDOW)
    assert three_before == []  # beyond the horizon: not even upcoming yet


def test_an_occasion_inside_the_horizon_but_not_sendable_is_upcoming():
    plan = Plan("once", START)
    window = Window(send_days_before=0, missed_after_days=7)
    found = occasions(plan, session_days=[], today=START - timedelta(days=1), window=window)
    assert found == []
    wide = Window(send_days_before=5, missed_after_days=7)
    assert (
        occasions(plan, session_days=[], today=START - timedelta(days=5), window=wide)[0].state
        is OccasionState.DUE
    )


def test_missed_after_the_window_closes_for_weeks_and_once():
    plan = Plan("once", START)
    assert closes_on(plan, START, WINDOW) == START + timedelta(days=7)
    assert _state(plan, START + timedelta(days=7)) is OccasionState.DUE
    assert _state(plan, START + timedelta(days=8)) is OccasionState.MISSED


def test_before_a_session_is_missed_the_day_after_the_session():
    plan = Plan("before_every_session", START)
    assert _state(plan, START, days=[START]) is OccasionState.DUE
    assert _state(plan, START + timedelta(days=1), days=[START]) is OccasionState.MISSED


def test_sent_and_done_states():
    plan = Plan("once", START)
    assert _state(plan, START, sent=[START]) is OccasionState.SENT
    assert _state(plan, START + timedelta(days=30), sent=[START], done=[START]) is (
        OccasionState.DONE
    )
    assert _state(plan, START + timedelta(days=8), sent=[START]) is OccasionState.MISSED


def test_to_send_and_missed_pick_their_states():
    plan = Plan("every_n_weeks", START, every_weeks=1)
    today = START + timedelta(weeks=2)
    found = occasions(plan, session_days=[], today=today, window=WINDOW, sent=[START])
    assert missed(found) == [START]
    # Weeks 1 and 2 are both still in their window: only the latest is sent.
    assert [o.state for o in found[1:]] == [OccasionState.DUE, OccasionState.DUE]
    assert to_send(found) == [START + timedelta(weeks=2)]


def test_nothing_to_send_when_nothing_is_due():
    plan = Plan("once", START)
    found = occasions(plan, session_days=[], today=START, window=WINDOW, sent=[START])
    assert to_send(found) == []


# --- operations and the command -------------------------------------------------------


def _run(cli, *args):
    return cli.invoke(args=["clinic", *args])


@pytest.fixture
def public_url(app):
    app.config["RECONNECT_CLINIC_PUBLIC_URL"] = "https://clinic.example.org"
    yield
    app.config["RECONNECT_CLINIC_PUBLIC_URL"] = None


def _scheduled(make, **kwargs):
    owner = make.therapist()
    couple = make.couple(owner)
    save_schedule(
        couple,
        owner,
        instruments=kwargs.get("instruments", ["csi4", "phq9"]),
        cadence=kwargs.get("cadence", "once"),
        every_weeks=kwargs.get("every_weeks"),
        starts_on=kwargs.get("starts_on", _today()),
    )
    db_session().commit()
    return owner, couple


def test_send_measures_lists_links_to_copy_and_never_sends_twice(app, make, cli, public_url):
    _scheduled(make)
    first = _run(cli, "send-measures")
    assert first.exit_code == 0, first.output
    assert first.output.count("https://clinic.example.org/clinic/m/") == 2
    assert "Measures links made: 2." in first.output
    again = _run(cli, "send-measures")
    assert again.exit_code == 0, again.output
    assert "https://" not in again.output
    assert "Measures links made: 0." in again.output
    assert db_session().scalar(sa.select(sa.func.count(MeasureAdministration.id))) == 2
    assert (
        db_session().scalar(
            sa.select(sa.func.count(ClientLink.id)).where(ClientLink.purpose == "measures")
        )
        == 2
    )


def test_send_measures_emails_when_smtp_is_set_up(app, make, cli, public_url, smtp):  # noqa: F811
    _, couple = _scheduled(make)
    result = _run(cli, "send-measures")
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 2
    recipients = sorted(to[0] for to, _ in smtp.messages)
    assert recipients == sorted(p.email for p in couple.partners)
    assert "/clinic/m/" in smtp.messages[0][1]
    assert "https://" not in result.output  # emailed: nothing to copy
    assert set(db_session().scalars(sa.select(MeasureAdministration.sent_via))) == {"email"}
    _run(cli, "send-measures")
    assert len(smtp.messages) == 2


def test_send_measures_needs_the_public_address(app, make, cli):
    _scheduled(make)
    result = _run(cli, "send-measures")
    assert result.exit_code != 0
    assert "RECONNECT_CLINIC_PUBLIC_URL" in result.output


def test_a_closed_case_gets_no_links(app, make, cli, public_url):
    _, couple = _scheduled(make)
    couple.status = "closed"
    db_session().commit()
    result = _run(cli, "send-measures")
    assert "Measures links made: 0." in result.output


def test_an_inactive_schedule_sends_nothing(app, make):
    _, couple = _scheduled(make)
    db_session().scalar(sa.select(MeasureSchedule)).active = False
    db_session().commit()
    assert prepare_due(couple, today=_today()) == []


def test_a_partner_not_attending_a_session_is_not_asked_before_it(app, make):
    owner, couple = _scheduled(make, cadence="before_every_session")
    session = make.therapy_session(owner, couple, held_on=_today() + timedelta(days=1))
    session.attendance = "a"
    db_session().commit()
    made = prepare_due(couple, today=_today())
    assert [m.partner.role for m in made] == ["a"]


# --- the therapist's pages ------------------------------------------------------------


def test_the_schedule_form_saves_and_shows_errors_beside_fields(app, make, client):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/measures/schedule"
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_from(page.text)
    bad = client.post(
        url,
        data={"csrf_token": token, "cadence": "every_n_weeks", "starts_on": "2026-03-02"},
    )
    assert bad.status_code == 200
    assert 'id="instruments-error"' in bad.text
    no_n = client.post(
        url,
        data={
            "csrf_token": token,
            "instruments": ["phq9"],
            "cadence": "every_n_weeks",
            "starts_on": "2026-03-02",
        },
    )
    assert 'id="every_weeks-error"' in no_n.text
    assert db_session().scalar(sa.select(MeasureSchedule)) is None
    good = client.post(
        url,
        data={
            "csrf_token": token,
            "instruments": ["csi4", "gad7"],
            "cadence": "every_n_weeks",
            "every_weeks": "3",
            "starts_on": "2026-03-02",
            "active": "y",
        },
    )
    assert good.status_code == 303
    schedule = db_session().scalar(sa.select(MeasureSchedule))
    assert schedule.instrument_slugs == ("csi4", "gad7")
    assert schedule.every_weeks == 3


def test_send_now_shows_the_links_once_and_a_missed_one_is_marked(app, make, client):
    owner, couple = _scheduled(
        make, cadence="every_n_weeks", every_weeks=1, starts_on=_today() - timedelta(days=14)
    )
    login(client, owner.email)
    detail = client.get(f"/clinic/couples/{couple.id}")
    assert "MISSED" in detail.text  # the first week's measures were never sent
    token = csrf_from(detail.text)
    sent = client.post(f"/clinic/couples/{couple.id}/measures/send", data={"csrf_token": token})
    assert sent.status_code == 303
    shown = client.get(sent.headers["Location"])
    assert shown.text.count("/clinic/m/") == 2
    assert client.get(sent.headers["Location"]).status_code == 302  # not shown again
    administration = (
        db_session()
        .scalars(sa.select(MeasureAdministration).where(MeasureAdministration.due_on == _today()))
        .first()
    )
    relink = client.post(
        f"/clinic/couples/{couple.id}/measures/{administration.id}/link",
        data={"csrf_token": token},
    )
    assert relink.status_code == 303
    assert client.get(relink.headers["Location"]).text.count("/clinic/m/") == 1
