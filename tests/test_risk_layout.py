"""The risk panel and the answer lists read cleanly at phone and desktop widths, in a real
browser (Debian's Chromium through Playwright): no column of text narrower than 120 px,
and nothing wider than the screen. Skipped where Chromium is absent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconnect_clinic.intake.content import page_slugs
from reconnect_clinic.intake.operations import response_for_link, save_page, submit_intake
from reconnect_clinic.risk import RiskKind, RiskStatus
from reconnect_clinic.risk.operations import AssessmentDetails, assess
from reconnect_clinic.security.links.tokens import issue_link
from reconnect_clinic.state import db_session, get_state
from tests import factories

WIDTHS = (320, 390, 1280)
NARROWEST = 120  # px: a column of text any narrower reads one word (or letter) a line
LONG = (
    "He goes through my phone at night and I have stopped telling my sister where I am. "
    "Please call the office number first-and-never-my-mobile-which-he-answers-himself."
)

# Every visible block of text under ``root``, as [tag, class, width, text]. Closed
# <details> are opened first, so their content is measured too.
MEASURE = """(root) => {
  const scope = document.querySelector(root);
  if (!scope) return null;
  scope.querySelectorAll('details').forEach((d) => { d.open = true; });
  const blocks = scope.querySelectorAll('h2, h3, p, li, dt, dd, label, legend, summary');
  return Array.from(blocks)
    .filter((el) => el.getClientRects().length && el.textContent.trim())
    .map((el) => [el.tagName, el.className, el.getBoundingClientRect().width,
                  el.textContent.trim().slice(0, 40)]);
}"""
# Whatever under ``root`` reaches past the right edge of the screen.
OVERFLOW = """(root) => Array.from(document.querySelectorAll(root + ', ' + root + ' *'))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map((el) => [el.tagName, el.className, el.textContent.trim().slice(0, 40)])"""


def _submitted(owner, partner, answers) -> str:
    """Submit ``answers`` through a new link; returns that link's token."""
    taxonomy = get_state().taxonomy
    issued = issue_link(partner, "intake", created_by=owner, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    for slug in page_slugs(taxonomy):
        save_page(response, slug, answers[slug], complete=True, next_page=None)
    submit_intake(response, issued.link, taxonomy, consent_name=partner.full_name)
    db_session().commit()
    return issued.token


@pytest.fixture(scope="module")
def scene(server):
    """A couple with risks for both partners (one acknowledged with a plan, one a draft's),
    long answers, and partner B's own link (for the partner's answers page)."""
    base, app = server
    with app.app_context():
        owner = factories.therapist(email="layout@example.org")
        couple = factories.couple(owner, label="Layout couple", a="Ana", b="Ben")
        a_answers = factories.intake_answers(safety="yes", measure_pick="last", text=LONG)
        a_answers["safety"]["safety_note"] = LONG
        _submitted(owner, couple.partner_a, a_answers)
        assess(
            couple.partner_a,
            owner,
            AssessmentDetails(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, plan=LONG),
        )
        db_session().commit()
        b_answers = factories.intake_answers(frequency="1", text=LONG)
        b_answers["wellbeing"]["phq9_9"] = "1"
        token = _submitted(owner, couple.partner_b, b_answers)
        ids = couple.id
    return base, ids, token


def _signed_in(browser, base, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/clinic/login")
    page.fill("#email", "layout@example.org")
    page.fill("#password", factories.PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/clinic/")
    return context, page


def _check(page, root: str, width: int) -> None:
    blocks = page.evaluate(MEASURE, root)
    assert blocks, f"nothing measured under {root} at {width} px"
    narrow = [b for b in blocks if b[2] < NARROWEST]
    assert narrow == [], f"at {width} px, text columns under {NARROWEST} px: {narrow[:5]}"
    assert page.evaluate(OVERFLOW, root) == [], f"wider than the screen at {width} px"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_risk_panel_reads_at_every_width(scene, browser, shots, width):
    base, couple_id, _ = scene
    context, page = _signed_in(browser, base, width)
    shots.append(page)
    page.goto(f"{base}/clinic/couples/{couple_id}")
    assert "Needs your attention" in page.content()
    # A: safety (acknowledged) and self-harm; B: self-harm and a safety note.
    assert page.locator("#risks .risk-card").count() == 4
    _check(page, "#risks", width)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_therapists_answer_list_reads_at_every_width(scene, browser, shots, width):
    base, couple_id, _ = scene
    context, page = _signed_in(browser, base, width)
    shots.append(page)
    page.goto(f"{base}/clinic/couples/{couple_id}/partners/a/intake")
    assert page.locator("dl.answer-list").count() >= 5
    _check(page, "main", width)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_partners_own_answers_read_at_every_width(scene, browser, shots, width):
    base, _, token = scene
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    shots.append(page)
    page.goto(f"{base}/clinic/i/{token}")
    assert "Thank you" in page.content()
    assert page.locator("dl.answer-list").count() >= 3
    _check(page, "main", width)
    context.close()
