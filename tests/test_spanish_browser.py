"""The Spanish partner's pages in Debian's Chromium, checked with axe-core as
tests/test_accessibility.py checks every page: no critical or serious violation, and each
page says it is Spanish (``<html lang="es">``; a validated instrument shown in its own
English is marked ``lang="en"`` inside it, which axe's ``valid-lang`` rule reads).

A partner whose therapist set their language to Spanish, in a browser that asks for
Spanish, walks the intake page by page (the first page sent empty too, for its errors in
Spanish), a measures page (sent empty, then answered), the homework page and a check-in,
and a broken link's page. Skipped, with the reason, where Chromium, Playwright or the
axe-core install (``make browser-assets``) is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CHROMIUM, answer_every_question

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "browser_assets" / "node_modules" / "axe-core" / "axe.min.js"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
if not AXE.exists():
    pytest.skip(
        f"axe-core is not installed at {AXE.relative_to(ROOT)}: run `make browser-assets` "
        "(npm ci --prefix tests/browser_assets; needs Node.js and npm)",
        allow_module_level=True,
    )

from tests import factories  # noqa: E402 - after the skips

# What fails a page: axe-core's two highest impacts (as in tests/test_accessibility.py).
BLOCKING = ("critical", "serious")
_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')),
  }));
}"""
# The Spanish of the buttons the walk presses (the catalogue's, reconnect_clinic/translations).
NEXT = re.compile("Guardar y continuar|Enviar mis respuestas")
SEND = "Enviar mis respuestas"
SAVE_CHECK_IN = "Guardar registro"


def problems(page: Any, where: str) -> list[str]:
    """What is wrong with the page on screen: a language other than Spanish on its
    ``<html>``, and each critical or serious axe-core violation."""
    page.wait_for_load_state("load")
    found = []
    lang = page.evaluate("document.documentElement.getAttribute('lang')")
    if lang != "es":
        found.append(f'{where}: <html lang="{lang}">, not "es"')
    # What a click would unfold is checked too: every <details> opened.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.add_script_tag(path=str(AXE))
    for violation in page.evaluate(_RUN_AXE):
        if violation["impact"] in BLOCKING:
            nodes = "\n    ".join(violation["nodes"][:8])
            found.append(
                f"{where}: {violation['impact']} {violation['id']}: {violation['help']}\n"
                f"    {nodes}"
            )
    return found


@dataclass
class Walk:
    base: str
    checked: list[str] = field(default_factory=list)  # where, and the page's heading
    found: list[str] = field(default_factory=list)

    def check(self, page: Any, where: str) -> None:
        heading = page.locator("h1").first
        self.checked.append(f"{where}: {heading.inner_text() if heading.count() else None!r}")
        self.found += problems(page, where)


def _submit(page: Any, name: str | re.Pattern[str]) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).first.click()


def _case(app: Any) -> dict[str, Any]:
    """A Spanish-speaking partner (their therapist's setting) with an intake link, a
    measures link and a homework link with one assignment."""
    from reconnect_clinic.state import db_session

    with app.app_context():
        owner = factories.therapist(email="es-axe@example.org", name="Terapeuta Axe")
        couple = factories.couple(owner, label="Pareja axe", a="Alba", b="Bruno")
        couple.partner_a.language = "es"
        db_session().commit()
        factories.assignment(owner, couple, exercise="daily_check_in", assignee="both")
        ids = {
            "intake": factories.intake_link(owner, couple.partner_a),
            "measures": factories.measures_link(owner, couple.partner_a),
            "homework": factories.homework_link(owner, couple.partner_a),
        }
        db_session().remove()
    return ids


def _walk_intake(walk: Walk, page: Any, token: str) -> None:
    page.goto(f"{walk.base}/clinic/i/{token}")
    sent_empty = False
    for _ in range(20):
        if "/done" in page.url:
            break
        title = page.locator("h1").first.inner_text()
        walk.check(page, f"intake page {title!r}")
        if not sent_empty:
            sent_empty = True
            _submit(page, NEXT)
            assert page.locator(".error-summary").count(), "the first page took no answers"
            walk.check(page, f"intake page {title!r} sent empty")
        answer_every_question(page)
        for box in page.locator("textarea").all():
            box.fill("Escrito por la pareja en la comprobación de accesibilidad.")
        _submit(page, NEXT)
    assert "/done" in page.url, page.url
    walk.check(page, "intake done")


def _walk_measures(walk: Walk, page: Any, token: str) -> None:
    page.goto(f"{walk.base}/clinic/m/{token}")
    walk.check(page, "measures")
    _submit(page, SEND)
    walk.check(page, "measures sent empty")
    answer_every_question(page)
    _submit(page, SEND)
    assert "/done" in page.url, page.url
    walk.check(page, "measures done")


def _walk_homework(walk: Walk, page: Any, token: str) -> None:
    page.goto(f"{walk.base}/clinic/h/{token}")
    walk.check(page, "homework")
    _submit(page, SAVE_CHECK_IN)  # sent without an answer: the error beside the field
    walk.check(page, "homework check-in sent empty")
    page.goto(f"{walk.base}/clinic/h/{token}")
    page.get_by_label("Hecho", exact=True).first.check()
    page.locator("textarea[name=reflection]").first.fill("Lo hicimos esta semana.")
    _submit(page, SAVE_CHECK_IN)
    walk.check(page, "homework after a check-in")


@pytest.fixture(scope="module")
def spanish(server: tuple[str, Any]) -> Iterator[tuple[Walk, Any]]:
    """The walk, and a Spanish page left open for the check's own test."""
    base, app = server
    ids = _case(app)
    walk = Walk(base)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        # The clinic's CSP forbids inline script, and Playwright injects axe-core as one:
        # the check sets the CSP aside (it changes nothing that axe looks at). A phone
        # that asks for Spanish (Accept-Language), for the pages no setting reaches.
        context = browser.new_context(
            bypass_csp=True,
            locale="es-ES",
            viewport={"width": 390, "height": 844},
            is_mobile=True,
        )
        page = context.new_page()
        _walk_intake(walk, page, ids["intake"])
        _walk_measures(walk, page, ids["measures"])
        _walk_homework(walk, page, ids["homework"])
        page.goto(f"{base}/clinic/i/not-a-real-link")
        walk.check(page, "a broken link's page")
        spare = context.new_page()
        spare.goto(f"{base}/clinic/i/not-a-real-link")
        yield walk, spare
        context.close()
        browser.close()


def test_the_spanish_partner_pages_have_no_serious_axe_violation(spanish):
    walk, _ = spanish
    # Seven intake pages (one also with its errors) and done, three measures pages,
    # three homework pages and the broken link's.
    assert len(walk.checked) >= 15, walk.checked
    headings = "\n".join(walk.checked)
    for spanish_heading in ("Gracias", "Este enlace no funciona"):
        assert spanish_heading in headings, headings
    assert not walk.found, f"{len(walk.found)} problems:\n" + "\n".join(walk.found)


def test_the_check_fails_on_a_real_violation(spanish):
    """The check above can fail: an image without a text alternative (axe's
    ``image-alt``, critical) and a page that no longer says its language are caught."""
    _, page = spanish
    assert problems(page, "the broken link's page, untouched") == []
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"x.png\">')"
    )
    page.evaluate("document.documentElement.setAttribute('lang', 'en')")
    found = problems(page, "the broken link's page, spoiled")
    assert any("image-alt" in line for line in found), found
    assert any('<html lang="en">' in line for line in found), found
    rules = json.dumps(found)
    assert "critical image-alt" in rules, rules


def test_the_draft_saves_say_so_in_spanish_and_say_when_nothing_is_kept(server, spanish):
    """The intake's own draft saves (clinic.js) speak the page's language, and once the
    case is closed they say that what is typed is not kept (not "press a button")."""
    from reconnect_clinic.models import Couple
    from reconnect_clinic.state import db_session

    base, app = server
    with app.app_context():
        owner = factories.therapist(email="es-draft@example.org", name="Terapeuta Borrador")
        couple = factories.couple(owner, label="Pareja borrador", a="Carla", b="Dario")
        couple.partner_a.language = "es"
        db_session().commit()
        token = factories.intake_link(owner, couple.partner_a)
        couple_id = couple.id
        db_session().remove()
    status = ".autosave-status"
    # The walk's browser (one Playwright per module), in a context of its own where the
    # clinic's CSP is in force.
    context = spanish[1].context.browser.new_context(locale="es-ES")
    try:
        page = context.new_page()
        page.goto(f"{base}/clinic/i/{token}")
        box = page.locator("textarea").first
        box.fill("Un borrador escrito en el navegador.")
        page.wait_for_function(
            "s => document.querySelector(s).textContent === 'Borrador guardado.'",
            arg=status,
            timeout=15_000,
        )
        with app.app_context():
            db_session().get(Couple, couple_id).status = "closed"
            db_session().commit()
            db_session().remove()
        box.fill("Escrito después de cerrar el caso.")
        page.wait_for_function(
            "s => document.querySelector(s).textContent.startsWith("
            "'Este enlace ya no recibe respuestas')",
            arg=status,
            timeout=15_000,
        )
    finally:
        context.close()
