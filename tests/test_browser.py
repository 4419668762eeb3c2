"""End to end in a real browser: Debian's Chromium driven by Playwright, against the
standalone app served on localhost. Skipped, with the reason, where Chromium is absent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from reconnect_clinic.demo import db as demo_db
from tests import factories
from tests.helpers import CHROMIUM, fill_pages, tab_to

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium); "
        ".ci/run installs it",
        allow_module_level=True,
    )


def test_a_practice_day_in_the_browser(server, browser, shots):
    base, app = server
    with app.app_context():
        owner = factories.therapist(email="browser@example.org")
        couple = factories.couple(owner, label="Browser couple", a="Ana", b="Ben")
        couple_id = couple.id

    # The therapist signs in and makes both intake links.
    desk = browser.new_context(viewport={"width": 1200, "height": 900})
    therapist = desk.new_page()
    shots.append(therapist)
    therapist.goto(f"{base}/clinic/login")
    therapist.fill("#email", "browser@example.org")
    therapist.fill("#password", factories.PASSWORD)
    therapist.locator("main").get_by_role("button", name="Sign in").click()
    therapist.get_by_role("link", name="Browser couple").click()
    links = []
    for _ in range(2):
        therapist.locator("#intake form").filter(
            has=therapist.get_by_role("button", name="Make an intake link")
        ).nth(0).get_by_role("button").click()
        links.append(therapist.input_value("#client-link"))
        therapist.goto(f"{base}/clinic/couples/{couple_id}")
    assert links[0] != links[1]

    # Partner A on a phone: two pages, then the tab is closed half-way.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    ana = phone.new_page()
    shots.append(ana)
    ana.goto(links[0])
    assert "Step 1 of 7" in ana.content()
    fill_pages(ana, 2)
    phone.close()
    # She opens her link again in a fresh browser and finishes where she stopped.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    ana = phone.new_page()
    shots.append(ana)
    ana.goto(links[0])
    assert "Step 3 of 7" in ana.content()
    fill_pages(ana, 5)
    assert "Thank you" in ana.content()

    # Partner B on a desktop, the first page by keyboard alone.
    ben = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    shots.append(ben)
    ben.goto(links[1])
    for name in ("relationship_length", "living_together", "children", "earlier_therapy"):
        tab_to(ben, name)
        ben.keyboard.press("Space")  # choose the focused option
    tab_to(ben, "reasons")
    ben.keyboard.type("Typed with the keyboard only")
    tab_to(ben, "action")  # the first button: "Save and continue"
    with ben.expect_navigation():
        ben.keyboard.press("Enter")
    assert "Step 2 of 7" in ben.content()
    fill_pages(ben, 6)
    assert "Thank you" in ben.content()

    # The therapist sees both partners side by side, and assigns homework.
    therapist.goto(f"{base}/clinic/couples/{couple_id}")
    assert "Signs and causes, side by side" in therapist.content()
    assert "Typed with the keyboard only" in therapist.content()
    therapist.get_by_role("link", name="Assign homework").click()
    # Nothing is preselected, and Ana's safety answers hold joint work back (issue #14).
    therapist.select_option("#exercise", "library:three_feeling_notes")
    therapist.get_by_role("button", name="Assign").click()
    assert "assigned" in therapist.content()
    therapist.locator("#homework form.partner").nth(0).get_by_role("button").click()
    homework_link = therapist.input_value("#client-link")

    # Partner A checks in through her homework link.
    ana.goto(homework_link)
    ana.get_by_label("Done").first.check()
    ana.fill("textarea[name=reflection]", "It went well")
    ana.get_by_role("button", name="Save check-in").first.click()
    assert "Check-in saved" in ana.content()

    # The therapist writes and signs a note, then downloads the session report.
    therapist.goto(f"{base}/clinic/couples/{couple_id}")
    therapist.get_by_role("link", name="New session").click()
    therapist.get_by_role("button", name="Create session and write the note").click()
    therapist.fill("textarea[name=section_data]", "Both described feeling closer this week.")
    # The risk level has no default, and signing asks for a confirmation (issue #14).
    therapist.get_by_label("Moderate").check()
    therapist.get_by_label("I have read this note").check()
    therapist.get_by_role("button", name="Save and sign").click()
    assert "Note signed" in therapist.content()
    report_url = therapist.get_by_role("link", name="Session report (PDF)").get_attribute("href")
    response = therapist.request.get(f"{base}{report_url}")
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Both described feeling closer this week." in " ".join(text.split())
    assert "Ana" in text
    assert "Ben" in text

    # The progress report's preview draws its charts under the clinic's strict CSP: the
    # browser refuses nothing (a refusal is reported on the console).
    refused = []
    therapist.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    therapist.goto(f"{base}/clinic/couples/{couple_id}/progress-report")
    assert therapist.locator(".report-preview svg").count() == 3  # CSI-16, PHQ-9, GAD-7
    assert refused == []


@pytest.mark.parametrize("live", ["https"], indirect=True)
def test_signing_in_and_saving_a_note_over_https(live, browser, shots):
    """gunicorn serving TLS (a certificate made for the test, which the browser is told
    to accept): the browser sends its own Referer, as the pages' policy allows, and
    Flask-WTF's strict HTTPS referrer check lets the therapist's forms through."""
    server, app = live
    with app.app_context():
        owner = factories.therapist(email="tls@example.org")
        couple = factories.couple(owner, label="TLS couple")
        therapy = factories.therapy_session(owner, couple)
        note_path = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
        therapy_id = therapy.id
        demo_db.session.remove()
    server.start()
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    shots.append(page)
    page.goto(f"{server.url}/clinic/login")
    assert page.url.startswith("https://")
    page.fill("#email", "tls@example.org")
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign in").click()
    assert "Please try again" not in page.content()
    assert page.url == f"{server.url}/clinic/"
    page.goto(f"{server.url}{note_path}")
    page.fill("textarea[name=section_data]", "Typed over HTTPS in a real browser.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert "Draft saved." in page.content()
    context.close()
    with app.app_context():
        from reconnect_clinic.models import SessionNote

        note = demo_db.session.scalar(
            sa.select(SessionNote).where(SessionNote.therapy_session_id == therapy_id)
        )
        assert note.content["sections"]["data"] == "Typed over HTTPS in a real browser."
        demo_db.session.remove()


def test_a_text_limit_is_counted_and_nothing_typed_is_cut(server, browser, shots):
    """The addendum's 20,000-character limit: clinic.js counts as the therapist types,
    announces the characters left only near the limit, and a longer text stays whole in
    the field (no maxlength), to be refused by the server with the text kept."""
    base, app = server
    with app.app_context():
        owner = factories.therapist(email="counter@example.org")
        couple = factories.couple(owner, label="Counter couple")
        therapy = factories.therapy_session(owner, couple)
        factories.signed_note(owner, therapy)
        path = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
        demo_db.session.remove()
    page = browser.new_context().new_page()
    shots.append(page)
    page.goto(f"{base}/clinic/login")
    page.fill("#email", "counter@example.org")
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign in").click()
    page.goto(f"{base}{path}")
    counter = page.locator("#body-limit")
    live = page.locator("#body-limit + [aria-live=polite]")
    assert counter.text_content() == "0 of 20,000 characters"
    page.fill("#body", "a" * 1234)
    assert counter.text_content() == "1,234 of 20,000 characters"
    page.wait_for_timeout(1300)
    assert live.text_content() == ""
    page.fill("#body", "a" * 19990)
    playwright_api.expect(live).to_have_text("10 characters left")  # after the pause
    page.fill("#body", "a" * 20005)
    assert counter.text_content() == "20,005 of 20,000 characters: 5 too many"
    assert page.evaluate("document.querySelector('#body').value.length") == 20005
    with page.expect_navigation():
        page.get_by_role("button", name="Sign and add addendum").click()
    assert page.locator("#body-error").text_content() == (
        "Field cannot be longer than 20000 characters."
    )
    assert page.input_value("#body") == "a" * 20005
