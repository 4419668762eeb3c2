"""End to end in a real browser: Debian's Chromium driven by Playwright, against the
standalone app served on localhost. Skipped, with the reason, where Chromium is absent."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from werkzeug.serving import make_server

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from tests import factories
from tests.helpers import TEST_KEYS

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium); "
        ".ci/run installs it",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[tuple[str, object]]:
    url = databases.create()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "SQLALCHEMY_DATABASE_URI": url,
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
        },
        instance_path=str(tmp_path_factory.mktemp("browser-instance")),
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()
    with app.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def shots(request) -> Iterator[list]:
    """Pages to photograph if the test fails (saved under test-artifacts/)."""
    pages: list = []
    yield pages
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(pages):
            with contextlib.suppress(Exception):  # a closed page has nothing left to show
                page.screenshot(
                    path=str(ARTIFACTS / f"{request.node.name}-{index}.png"), full_page=True
                )


def answer_every_question(page) -> None:
    """Choose an option in every radio group on the page and tick consent boxes."""
    groups = page.locator("fieldset.question")
    for index in range(groups.count()):
        group = groups.nth(index)
        options = group.locator("input[type=radio]")
        options.nth(min(1, options.count() - 1)).check()
    for box in page.locator("input[type=checkbox][name=agree]").all():
        box.check()
    if page.locator("#signature").count():
        page.fill("#signature", "Browser Partner")


def tab_to(page, name: str, limit: int = 60) -> None:
    """Press Tab until the control named ``name`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def fill_pages(page, count: int) -> None:
    for _ in range(count):
        answer_every_question(page)
        if page.locator("#hopes").count():
            page.fill("#hopes", "Typed in a real browser")
        with page.expect_navigation():
            page.get_by_role("button", name="Save and continue").or_(
                page.get_by_role("button", name="Submit my answers")
            ).click()


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
