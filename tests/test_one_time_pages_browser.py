"""A private link made in Debian's Chromium, then Reload, Back and Forward: no second
link is made, the first one still works, and the page does not show it again. Skipped
where Chromium is absent (the ``browser`` fixture of tests/conftest.py says why)."""

from __future__ import annotations

import sqlalchemy as sa

from reconnect_clinic.models import ClientLink
from reconnect_clinic.security.links.tokens import LinkState, find_link, state_of
from reconnect_clinic.state import db_session
from tests import factories


def test_reload_back_and_forward_never_make_a_second_link(
    server,
    browser,
    shots,
):
    base, app = server
    with app.app_context():
        owner = factories.therapist(email="one-time@example.org")
        couple = factories.couple(owner, label="Once couple", a="Orla", b="Oisin")
        couple_page = f"{base}/clinic/couples/{couple.id}"
        db_session().remove()
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    shots.append(page)
    page.goto(f"{base}/clinic/login")
    page.fill("#email", "one-time@example.org")
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(couple_page)
    with page.expect_navigation():
        page.locator("#intake form").filter(
            has=page.get_by_role("button", name="Make an intake link")
        ).nth(0).get_by_role("button").click()
    url = page.input_value("#client-link")
    assert page.url.endswith("/links/created")

    page.reload()  # a GET of the page again: the link is not shown twice
    assert page.locator("#client-link").count() == 0
    assert "That link was shown once" in page.content()
    page.go_back()  # past the post, to the couple's page, with no resubmit prompt
    page.go_forward()
    assert page.locator("#client-link").count() == 0

    with app.app_context():
        links = db_session().scalars(sa.select(ClientLink)).all()
        token = url.rsplit("/", 1)[1]
        opened = find_link(token, "intake")
        assert len(links) == 1
        assert opened is not None
        assert state_of(opened) is LinkState.USABLE
        db_session().remove()
