"""A partner's page left open past the idle limit: the page says it timed out for their
privacy (not "this link does not work"), keeps what it carried as a draft when the post
provably comes from the same link session, never shows an answer, and the partner
carries on by opening their link again."""

from __future__ import annotations

import re
import time
import types

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import HomeworkCheckIn, IntakePage, IntakeResponse
from reconnect_clinic.security.links import session as link_session
from reconnect_clinic.security.links.views import duration_words
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, link_ref_from

TIMED_OUT = "This page timed out"
KEPT = "was kept too, as a draft"
LOST = "could not be kept this time"


class Clock:
    """The link sessions' clock (``time.time`` in link_session), moved on by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def wait(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(link_session, "time", types.SimpleNamespace(time=fake.time))
    return fake


def _idle(app) -> int:
    return app.config["RECONNECT_CLINIC_LINK_IDLE_TIMEOUT"]


def _pages() -> list[IntakePage]:
    return list(db_session().scalars(sa.select(IntakePage)))


def _open_page(app, make, page: str = "about"):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    partner = PartnerBrowser(app, token)
    ref = link_ref_from(partner.get(page).text)
    return partner, ref, token


def _send(partner, page: str, ref: str, action: str = "next", **values: str):
    return partner.client.post(
        f"{partner.base}/{page}", data={**values, "link_ref": ref, "action": action}
    )


def test_save_and_continue_past_the_idle_limit_keeps_the_page_as_a_draft(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    sent = _send(partner, "about", ref, hopes="Typed before the coffee break")
    assert sent.status_code == 303
    (saved,) = _pages()
    assert saved.values["hopes"] == "Typed before the coffee break"


def test_the_kept_draft_does_not_move_the_partner_on(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    _send(partner, "about", ref, hopes="Typed before the coffee break")
    response = db_session().scalars(sa.select(IntakeResponse)).one()
    assert response.current_page == "about"


def test_the_answer_is_a_redirect_to_a_page_that_says_it_timed_out(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    sent = _send(partner, "about", ref, hopes="Typed before the coffee break")
    shown = partner.client.get(sent.headers["Location"], follow_redirects=True)
    assert TIMED_OUT in shown.text
    assert KEPT in shown.text
    assert "Nothing you already saved is lost" in shown.text
    assert "open the link your therapist sent you again" in shown.text.lower()


def test_the_timed_out_page_shows_no_answer(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    _send(partner, "about", ref, hopes="Typed before the coffee break")
    for page in ("about", "signs", ""):
        shown = partner.get(page, follow_redirects=True).text
        assert TIMED_OUT in shown, page
        assert "Typed before the coffee break" not in shown, page
        assert 'name="link_ref"' not in shown, page


def test_reopening_the_link_brings_the_draft_back(make, app, clock):
    partner, ref, token = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    _send(partner, "about", ref, hopes="Typed before the coffee break")
    reopened = partner.client.get(f"/clinic/i/{token}", follow_redirects=True)
    assert "Typed before the coffee break" in reopened.text


def test_an_idle_page_view_says_it_timed_out(make, app, clock):
    partner, _, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    shown = partner.get("about")
    assert shown.status_code == 200
    assert TIMED_OUT in shown.text
    assert "This link does not work" not in shown.text


def test_the_page_says_when_it_closes(make, app):
    partner, _, _ = _open_page(app, make)
    limit = duration_words(app.config["RECONNECT_CLINIC_LINK_IDLE_TIMEOUT"])
    assert f"this page closes after {limit} without activity" in partner.get("about").text


def test_reading_pages_counts_as_activity(make, app, clock):
    partner, _, _ = _open_page(app, make)
    for _ in range(3):
        clock.wait(_idle(app) - 60)
        assert 'name="link_ref"' in partner.get("about").text


def test_the_final_page_past_the_idle_limit_is_kept_not_submitted(make, app, clock):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers()
    consent = answers.pop("consent")
    partner.fill(answers)
    ref = link_ref_from(partner.get("consent").text)
    clock.wait(_idle(app) + 60)
    assert _send(partner, "consent", ref, **consent).status_code == 303
    assert db_session().scalars(sa.select(IntakeResponse)).one().status == "draft"


def test_an_autosave_past_the_idle_limit_is_refused_and_keeps_nothing(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    assert _send(partner, "about", ref, "autosave", hopes="typed").status_code == 409
    assert _pages() == []


def test_a_browser_that_no_longer_holds_the_link_keeps_nothing(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    partner.client.get("/clinic/leave")  # "Exit this page": someone else may be here now
    clock.wait(_idle(app) + 60)
    sent = _send(partner, "about", ref, hopes="typed by whoever found the page")
    assert sent.status_code == 303
    assert _pages() == []
    assert LOST in partner.get("about").text


def test_a_page_from_an_earlier_link_session_keeps_nothing(make, app, clock):
    partner, ref, token = _open_page(app, make)
    partner.client.get("/clinic/leave")
    partner.client.get(f"/clinic/i/{token}")  # a new link session, in the same browser
    clock.wait(_idle(app) + 60)
    _send(partner, "about", ref, hopes="from the page before the exit")
    assert _pages() == []


def test_a_page_older_than_the_form_lifetime_keeps_nothing(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(app.config["RECONNECT_CLINIC_FORM_LIFETIME"] + 60)
    sent = _send(partner, "about", ref, hopes="typed long ago")
    assert sent.status_code == 303
    assert _pages() == []
    assert LOST in partner.get("about").text


def _stay_active_for(partner, clock, app, seconds: float) -> None:
    """Keep the link session live (a page read now and then) while ``seconds`` pass."""
    step = _idle(app) - 60
    while seconds > 0:
        clock.wait(min(step, seconds))
        seconds -= step
        assert 'name="link_ref"' in partner.get("signs").text


def test_an_old_page_of_the_live_link_session_is_still_saved(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    _stay_active_for(partner, clock, app, app.config["RECONNECT_CLINIC_FORM_LIFETIME"] + 60)
    sent = _send(partner, "about", ref, "save", hopes="an old tab, same session")
    assert sent.headers["Location"].endswith("/about")
    assert _pages()[0].values["hopes"] == "an old tab, same session"


def test_an_old_page_of_an_earlier_link_session_is_refused_and_the_session_stays(make, app, clock):
    partner, ref, token = _open_page(app, make)
    partner.client.get("/clinic/leave")
    partner.client.get(f"/clinic/i/{token}")  # a new link session
    _stay_active_for(partner, clock, app, app.config["RECONNECT_CLINIC_FORM_LIFETIME"] + 60)
    sent = _send(partner, "about", ref, "save", hopes="from a page a day old")
    assert sent.status_code == 303
    assert _pages() == []
    shown = partner.client.get(sent.headers["Location"], follow_redirects=True).text
    assert "open for too long to be saved" in shown
    assert 'name="link_ref"' in shown  # still in: the live session was left alone


def test_a_forged_reference_still_gets_the_plain_page(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) + 60)
    sent = _send(partner, "about", ref[:-2] + "xx", hopes="from another site")
    assert sent.status_code == 404
    assert "This link does not work" in sent.text
    assert _pages() == []


def test_within_the_idle_limit_a_post_is_ordinary(make, app, clock):
    partner, ref, _ = _open_page(app, make)
    clock.wait(_idle(app) - 60)
    sent = _send(partner, "about", ref, "save", hopes="still here")
    assert sent.headers["Location"].endswith("/about")
    assert 'name="link_ref"' in partner.get("about").text


def _homework(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple, exercise="daily_check_in", frequency="daily")
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = partner.get().text
    key = re.search(r'name="client_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "completion": "done",
        "helpfulness": "4",
        "client_key": key,
        "reflection": "We talked on the balcony",
        "link_ref": link_ref_from(page),
    }
    return partner, assignment, data


def test_a_check_in_past_the_idle_limit_is_saved(make, app, clock):
    partner, assignment, data = _homework(app, make)
    clock.wait(_idle(app) + 60)
    sent = partner.client.post(f"{partner.base}/{assignment.id}/check-in", data=data)
    assert sent.status_code == 303
    (check_in,) = db_session().scalars(sa.select(HomeworkCheckIn))
    assert check_in.reflection == "We talked on the balcony"


def test_after_a_late_check_in_the_homework_page_shows_nothing(make, app, clock):
    partner, assignment, data = _homework(app, make)
    clock.wait(_idle(app) + 60)
    sent = partner.client.post(f"{partner.base}/{assignment.id}/check-in", data=data)
    shown = partner.client.get(sent.headers["Location"]).text
    assert TIMED_OUT in shown
    assert KEPT in shown
    assert assignment.title not in shown
    assert "We talked on the balcony" not in shown


def test_an_invalid_check_in_past_the_idle_limit_shows_nothing_and_keeps_nothing(make, app, clock):
    partner, assignment, data = _homework(app, make)
    clock.wait(_idle(app) + 60)
    data["completion"] = "not a choice"
    sent = partner.client.post(f"{partner.base}/{assignment.id}/check-in", data=data)
    assert sent.status_code == 303
    assert db_session().scalars(sa.select(HomeworkCheckIn)).all() == []
    assert LOST in partner.client.get(sent.headers["Location"]).text


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(7200, "2 hours"), (3600, "1 hour"), (5400, "90 minutes"), (60, "1 minute"), (0, "1 minute")],
)
def test_duration_words(seconds, words):
    assert duration_words(seconds) == words
