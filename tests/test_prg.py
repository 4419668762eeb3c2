"""Post/redirect/get: a partner's page that was saved answers with a redirect to a page
that can be read again, so Back or reload never asks to send the form again. In the test
client for every partner post, and end to end in Debian's Chromium for the intake's final
submit (skipped, with the reason, where Chromium is absent)."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.helpers import PartnerBrowser, fill_pages, link_ref_from

REDIRECTS = (302, 303)


def _partner(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    return owner, couple, PartnerBrowser(app, make.intake_link(owner, couple.partner_a))


@pytest.mark.parametrize("action", ["next", "back", "save"])
def test_every_intake_button_that_saves_answers_with_a_redirect(make, app, action):
    _, _, partner = _partner(app, make)
    partner.post("about", make.intake_answers()["about"])
    sent = partner.post("signs", make.intake_answers()["signs"], action=action)
    assert sent.status_code in REDIRECTS
    assert partner.client.get(sent.headers["Location"]).status_code == 200


def test_the_final_submit_redirects_to_the_done_page(make, app):
    _, _, partner = _partner(app, make)
    last = partner.fill(make.intake_answers())
    assert last.status_code in REDIRECTS
    assert last.headers["Location"].endswith("/done")


def test_the_pages_before_the_done_page_lead_to_it_once_submitted(make, app):
    _, _, partner = _partner(app, make)
    partner.fill(make.intake_answers())
    for page in ("consent", "about", ""):
        assert partner.get(page).headers["Location"].endswith("/done"), page


def test_a_page_sent_with_errors_is_drawn_again_by_a_get_with_its_errors(make, app):
    _, _, partner = _partner(app, make)
    sent = partner.post("about", {"reasons": "Typed, one answer missing"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"{partner.base}/about"
    drawn = partner.client.get(sent.headers["Location"]).text
    assert "Please choose an answer." in drawn
    assert "Typed, one answer missing" in drawn


def test_the_errors_are_shown_once(make, app):
    _, _, partner = _partner(app, make)
    partner.post("about", {"reasons": "Typed, one answer missing"})
    partner.get("about")
    assert "Please choose an answer." not in partner.get("about").text


def test_the_session_carries_the_messages_not_the_answers(make, app):
    _, _, partner = _partner(app, make)
    partner.post("about", {"reasons": "Typed, one answer missing"})
    with partner.client.session_transaction() as session:
        carried = str(dict(session))
    assert "Please choose an answer." in carried
    assert "Typed, one answer missing" not in carried


def test_a_check_in_answers_with_a_redirect_to_the_homework_page(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple, exercise="daily_check_in", frequency="daily")
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = partner.get().text
    key = re.search(r'name="client_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"completion": "done", "client_key": key, "link_ref": link_ref_from(page)}
    sent = partner.client.post(f"{partner.base}/{assignment.id}/check-in", data=data)
    assert sent.status_code in REDIRECTS
    assert sent.headers["Location"].split("#")[0] == partner.start


# --- in a real browser ------------------------------------------------------------------


def _link(app, email: str) -> str:
    with app.app_context():
        owner = factories.therapist(email=email)
        couple = factories.couple(owner, label="Back button couple")
        return factories.intake_link(owner, couple.partner_a)


def _back_from_done(base, browser, token, *, error_on_the_last_page: bool):
    page = browser.new_context().new_page()
    sent: list[tuple[str, str]] = []
    page.on("request", lambda r: sent.append((r.method, r.url)))
    page.goto(f"{base}/clinic/i/{token}")
    fill_pages(page, 6)
    if error_on_the_last_page:  # the consent page sent unsigned: shown again, with errors
        with page.expect_navigation():
            page.get_by_role("button", name="Submit my answers").click()
        assert page.locator(".error, .field-error, [aria-invalid=true]").count() > 0
    fill_pages(page, 1)
    assert "Thank you" in page.content()
    done_url = page.url
    posts_before = sum(1 for method, _ in sent if method == "POST")
    response = page.go_back()
    return page, response, done_url, posts_before, sent


def test_back_after_submitting_shows_the_done_page(server, browser):
    base, app = server
    token = _link(app, "prg-back@example.org")
    page, response, done_url, posts_before, sent = _back_from_done(
        base, browser, token, error_on_the_last_page=False
    )
    assert sum(1 for method, _ in sent if method == "POST") == posts_before  # nothing resent
    assert response is not None
    assert response.request.method == "GET"
    assert page.url == done_url
    assert "Thank you" in page.content()


def test_back_after_an_error_on_the_last_page_resends_nothing(server, browser):
    base, app = server
    token = _link(app, "prg-back-error@example.org")
    page, response, _, posts_before, sent = _back_from_done(
        base, browser, token, error_on_the_last_page=True
    )
    assert sum(1 for method, _ in sent if method == "POST") == posts_before
    assert response is not None
    assert response.request.method == "GET"
    assert "Thank you" in page.content()
