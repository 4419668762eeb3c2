"""The partner's side of risk in a real browser (Debian's Chromium, headless): saved
safety answers never come back on screen, through a reload or the Back button, and
"Exit this page" leaves for a neutral site that Back does not lead away from."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from tests import factories
from tests.helpers import TEST_KEYS

NOTE = "He reads my messages every night"


def _serve(app) -> tuple[str, object]:
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{http.server_port}", http


@pytest.fixture(scope="module")
def sites(databases, tmp_path_factory) -> Iterator[tuple[str, str, object]]:
    """The clinic, and a neutral site of its own (another origin) for the quick exit."""
    neutral_app = Response("<title>Weather</title><p>Sunny</p>", mimetype="text/html")
    neutral_base, neutral_http = _serve(neutral_app)
    neutral = neutral_base.replace("127.0.0.1", "localhost") + "/"
    url = databases.create()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "SECRET_KEY": "browser-safety-tests",
            "SQLALCHEMY_DATABASE_URI": url,
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
            "RECONNECT_CLINIC_QUICK_EXIT_URL": neutral,
        },
        instance_path=str(tmp_path_factory.mktemp("browser-safety-instance")),
    )
    base, http = _serve(app)
    yield base + "/", neutral, app
    http.shutdown()
    neutral_http.shutdown()
    with app.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


def _link(app) -> str:
    with app.app_context():
        owner = factories.therapist()
        couple = factories.couple(owner)
        return factories.intake_link(owner, couple.partner_a)


def _assert_nothing_shown(page) -> None:
    assert page.locator("input[type=radio]:checked").count() == 0
    assert NOTE not in page.content()
    if page.locator("#safety_note").count():
        assert page.input_value("#safety_note") == ""


def test_saved_safety_answers_never_come_back_on_screen(sites, browser, shots):
    base, _, app = sites
    token = _link(app)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    shots.append(page)
    page.goto(f"{base}clinic/i/{token}")
    with page.expect_navigation():
        page.get_by_role("link", name="A few more questions").click()
    assert page.title().startswith("A few more questions")
    page.check("#safety_afraid-1")
    page.check("#safety_weapon-1")
    page.fill("#safety_note", NOTE)
    with page.expect_navigation():
        page.get_by_role("button", name="Save and finish later").click()
    # Support is offered at once, and nothing just answered is on the screen.
    assert page.locator("#support-title").is_visible()
    assert "National Domestic Violence Hotline" in page.content()
    _assert_nothing_shown(page)
    page.reload()
    _assert_nothing_shown(page)
    # Every other question answered, then on to the last page and back again.
    # The rest answered "No"; the two answered before are left blank, which keeps them.
    for group in page.locator("fieldset.question").all():
        if group.get_attribute("id") not in ("safety_afraid", "safety_weapon"):
            group.locator("input[type=radio]").nth(0).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
    assert "Consent and signature" in page.title()
    steps = 0
    while page.go_back() is not None and page.url.startswith(base) and steps < 6:
        steps += 1
        _assert_nothing_shown(page)
    assert steps >= 2
    with app.app_context():
        from reconnect_clinic.models import IntakePage
        from reconnect_clinic.state import db_session

        (saved,) = db_session().query(IntakePage).filter_by(page="safety").all()
        assert saved.values["safety_afraid"] == "yes"
        assert saved.values["safety_weapon"] == "yes"
        assert saved.values["safety_note"] == NOTE
        assert saved.complete


def test_quick_exit_leaves_and_back_does_not_return(sites, browser, shots):
    base, neutral, app = sites
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    shots.append(page)
    page.goto(f"{base}clinic/i/{_link(app)}")
    exit_button = page.get_by_role("link", name="Exit this page")
    assert exit_button.is_visible()
    page.mouse.wheel(0, 2000)  # it stays in view while the partner scrolls
    box = exit_button.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < 100
    exit_button.click()
    page.wait_for_url(neutral)
    page.go_back()
    assert not page.url.startswith(base)


def test_esc_twice_leaves_and_earlier_pages_show_nothing(sites, browser, shots):
    base, neutral, app = sites
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    shots.append(page)
    page.goto(f"{base}clinic/i/{_link(app)}")
    page.check("#relationship_length-0")
    page.fill("#hopes", "Words typed on the first page")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(neutral)
    # The page left is gone from the history; the one before it is the clinic's, but
    # this browser's link was forgotten on the way out: only the plain page comes back.
    page.go_back()
    assert page.url.startswith(base)
    assert "This link does not work" in page.content()
    assert "Words typed on the first page" not in page.content()
    assert page.locator("form.intake-form").count() == 0


def test_quick_exit_works_without_javascript(sites, browser, shots):
    base, neutral, app = sites
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    shots.append(page)
    page.goto(f"{base}clinic/i/{_link(app)}")
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(neutral)
    page.go_back()
    assert "This link does not work" in page.content()
