"""The idle warning and typing as activity (clinic.js) in Debian's Chromium, with the
page's clock run forward by Playwright. Skipped where Chromium is absent (the
``browser`` fixture of tests/conftest.py says why)."""

from __future__ import annotations

from tests import factories

TYPED = "They spoke about the move."


def _note_page(server, browser, email):
    base, app = server
    with app.app_context():
        owner = factories.therapist(email=email)
        couple = factories.couple(owner, label="Idle couple", a="Ida", b="Ivo")
        therapy = factories.therapy_session(owner, couple)
        url = f"{base}/clinic/couples/{couple.id}/sessions/{therapy.id}"
        therapy_id = therapy.id
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.clock.install()
    page.goto(f"{base}/clinic/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(url)
    page.therapy_session_id = therapy_id  # for the checks in the database
    return page


def test_the_warning_shows_before_the_idle_limit_and_stay_signed_in_pings(
    server,
    browser,
):
    page = _note_page(server, browser, "idle-warning@example.org")
    warning = page.locator("[data-idle-warning]")
    assert warning.is_hidden()
    page.clock.run_for("27:00")
    assert warning.is_hidden()  # three minutes left: not yet
    page.clock.run_for("01:30")
    assert warning.is_visible()  # 90 s left
    with page.expect_response("**/clinic/still-here") as answer:
        page.get_by_role("button", name="Stay signed in").click()
    assert answer.value.status == 204
    page.clock.run_for("00:06")
    assert warning.is_hidden()


def test_typing_counts_as_activity_at_most_once_a_minute(
    server,
    browser,
):
    page = _note_page(server, browser, "idle-typing@example.org")
    pings: list[str] = []

    def note_ping(request) -> None:
        if request.url.endswith("/clinic/still-here"):
            pings.append(request.url)

    page.on("request", note_ping)
    box = page.locator("textarea").first
    box.press_sequentially("ab")  # within a minute of the page load: no ping
    page.wait_for_timeout(300)
    assert pings == []
    page.clock.run_for("01:01")
    with page.expect_response("**/clinic/still-here") as answer:
        box.press_sequentially("c")
    assert answer.value.status == 204
    box.press_sequentially(TYPED)  # right after a ping: no other
    page.wait_for_timeout(300)
    assert len(pings) == 1
    # 27 minutes after that ping, but 28 after the page load: no warning yet.
    page.clock.run_for("27:00")
    assert page.locator("[data-idle-warning]").is_hidden()


def test_the_draft_saves_itself_and_save_draft_goes_on_from_it(
    server,
    browser,
):
    import sqlalchemy as sa

    from reconnect_clinic.models import SessionNote
    from reconnect_clinic.state import db_session

    _base, app = server
    page = _note_page(server, browser, "idle-autosave@example.org")
    box = page.locator("textarea").first
    box.press_sequentially(TYPED)
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/sessions/" in r.url
    ) as answer:
        page.clock.run_for("00:31")
    assert answer.value.status == 200
    assert answer.value.json() == {"saved": True, "version": 1}
    assert page.locator("input[name=version]").input_value() == "1"
    assert "Draft saved automatically" in page.locator(".note-autosave-status").inner_text()
    box.press_sequentially(" And more.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert "Draft saved." in page.locator(".flashes").inner_text()
    with app.app_context():
        note = (
            db_session()
            .scalars(
                sa.select(SessionNote).where(
                    SessionNote.therapy_session_id == page.therapy_session_id
                )
            )
            .one()
        )
        assert note.content["sections"]["data"] == f"{TYPED} And more."
        assert note.status == "draft"
