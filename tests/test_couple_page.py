"""The couple's page in sections (overview, intake and profile, homework, sessions and
notes, reports, record) that a nav at the top reaches in one click; an open risk before
them all; scores coloured calm to severe along each instrument's own direction, with the
level in words and a mark beside the colour; and no sideways scrolling at 320 px."""

from __future__ import annotations

import colorsys
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reconnect_clinic import measures
from reconnect_clinic.homework.operations import CheckInDetails, record_check_in
from reconnect_clinic.intake.content import page_slugs
from reconnect_clinic.intake.operations import response_for_link, save_page, submit_intake
from reconnect_clinic.intake.scoring import couple_profile
from reconnect_clinic.measures.severity import (
    CONCERN_DIRECTION,
    Direction,
    Severity,
    band_level,
    concern_level,
    concern_scale_text,
    direction,
    measure_level,
)
from reconnect_clinic.models import IntakeResponse
from reconnect_clinic.risk import RiskKind, RiskStatus
from reconnect_clinic.risk.operations import AssessmentDetails, assess
from reconnect_clinic.security.links.tokens import issue_link
from reconnect_clinic.state import db_session, get_state
from tests import factories
from tests.helpers import login

CSS = Path(__file__).resolve().parent.parent / "reconnect_clinic" / "static" / "clinic.css"
TODAY = date.today()  # noqa: DTZ011
LONG = (
    "We stopped talking after the move and I do not know how to start again; "
    "every-evening-ends-in-the-same-argument-about-the-same-thing."
)
SECTIONS = {
    "overview": "Overview",
    "intake": "Intake and profile",
    "homework": "Homework",
    "sessions": "Sessions and notes",
    "reports": "Reports",
    "record": "Record",
}


# --- a full case ------------------------------------------------------------------------


def _submitted(owner, partner, answers) -> None:
    taxonomy = get_state().taxonomy
    issued = issue_link(partner, "intake", created_by=owner, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    for slug in page_slugs(taxonomy):
        save_page(response, slug, answers[slug], complete=True, next_page=None)
    submit_intake(response, issued.link, taxonomy, consent_name=partner.full_name)
    db_session().commit()


def full_case(*, email: str | None = None, open_risk: bool = True):
    """A couple in the middle of treatment: both intakes submitted (partner A's answers
    high, with PHQ-9 item 9 endorsed; partner B's low), a signed and an unsigned session,
    a daily exercise with a shared reflection. With ``open_risk`` false, A's risk is
    acknowledged with a plan, so none is open."""
    owner = factories.therapist(email=email)
    couple = factories.couple(owner, label="Rivera and Okafor", a="Ana", b="Ben")
    high = factories.intake_answers(frequency="3", measure_pick="last")
    low = factories.intake_answers(frequency="1")
    for answers in (high, low):
        answers["about"].update(reasons=LONG, hopes=LONG)
    _submitted(owner, couple.partner_a, high)
    _submitted(owner, couple.partner_b, low)
    if not open_risk:
        assess(
            couple.partner_a,
            owner,
            AssessmentDetails(RiskKind.SELF_HARM, RiskStatus.ACKNOWLEDGED, plan="Safety plan."),
        )
        db_session().commit()
    earlier = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=14))
    factories.signed_note(owner, earlier)
    factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=7))
    work = factories.assignment(
        owner,
        couple,
        frequency="daily",
        starts_on=TODAY - timedelta(days=5),
        days=14,
        override_reason="Talked through in session; a short daily check-in is safe.",
    )
    link = issue_link(couple.partner_b, "homework", created_by=owner, lifetime=timedelta(days=30))
    record_check_in(
        work,
        couple.partner_b,
        CheckInDetails("k-1", "done", 4, "We managed ten minutes.", share_with_partner=True),
        today=TODAY - timedelta(days=1),
        actor=link.link,
    )
    db_session().commit()
    return owner, couple


class _Page(HTMLParser):
    """The ids in document order, the section nav's links, and each element's classes
    and text by id (enough to check the page without a browser)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.nav: list[tuple[str, str]] = []
        self._nav_depth = 0
        self._link: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "nav" and attributes.get("aria-label") == "Sections of this case":
            self._nav_depth = 1
        elif self._nav_depth and tag == "nav":
            self._nav_depth += 1
        if self._nav_depth and tag == "a":
            self._link = [attributes.get("href", ""), ""]

    def handle_endtag(self, tag) -> None:
        if self._nav_depth and tag == "a" and self._link is not None:
            self.nav.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None
        if self._nav_depth and tag == "nav":
            self._nav_depth -= 1

    def handle_data(self, data) -> None:
        if self._link is not None:
            self._link[1] += data


def _parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def case_page(client, app):
    owner, couple = full_case()
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}")
    assert page.status_code == 200
    return couple, page.text


# --- the sections and their nav ------------------------------------------------------------


def test_every_section_has_a_link_in_the_nav(case_page):
    _, html = case_page
    nav = dict(_parsed(html).nav)
    for section_id, name in SECTIONS.items():
        assert nav.get(f"#{section_id}") == name


def test_every_nav_link_lands_on_an_element_of_the_page(case_page):
    _, html = case_page
    page = _parsed(html)
    missing = [href for href, _ in page.nav if href.removeprefix("#") not in page.ids]
    assert missing == []
    assert all(href.startswith("#") for href, _ in page.nav)


def test_each_nav_target_is_on_the_page_once(case_page):
    _, html = case_page
    page = _parsed(html)
    targets = [href.removeprefix("#") for href, _ in page.nav]
    assert [t for t in targets if page.ids.count(t) != 1] == []


def test_the_sections_come_in_the_order_of_the_nav(case_page):
    _, html = case_page
    page = _parsed(html)
    order = [page.ids.index(href.removeprefix("#")) for href, _ in page.nav]
    assert order == sorted(order)


def test_an_open_risk_comes_before_every_section_and_leads_the_nav(case_page):
    _, html = case_page
    page = _parsed(html)
    first_href, first_text = page.nav[0]
    assert first_href == "#risks"
    assert first_text == "⚠ 1 open risk"
    risks_at = page.ids.index("risks")
    assert all(risks_at < page.ids.index(section) for section in SECTIONS)


def test_without_an_open_risk_the_panel_follows_the_overview(client, app):
    owner, couple = full_case(open_risk=False)
    login(client, owner.email)
    html = client.get(f"/clinic/couples/{couple.id}").text
    page = _parsed(html)
    assert page.nav[0] == ("#overview", "Overview")
    assert ("#risks", "Risk and safety") in page.nav
    assert page.ids.index("overview") < page.ids.index("risks") < page.ids.index("intake")
    assert "Needs your attention" not in html


def test_the_overview_counts_what_stands_where(case_page):
    _, html = case_page
    overview = " ".join(_section(html, "overview").split())
    assert "1 open, waiting for you" in overview
    assert "2 recorded, latest" in overview
    assert "1 without a signed note" in overview
    assert "1 open assignment · 1 reflection" in overview


def test_reports_and_record_have_their_links(case_page):
    couple, html = case_page
    reports = _section(html, "reports")
    assert f"/clinic/couples/{couple.id}/progress-report" in reports
    assert f"/clinic/couples/{couple.id}/intake-summary.pdf?private=no" in reports
    assert reports.count("/report.pdf") == 2  # one per session
    record = _section(html, "record")
    assert f"/clinic/couples/{couple.id}/audit" in record
    assert f"/clinic/couples/{couple.id}/export" in record
    assert record.count("only (zip)") == 2


# --- levels on the page --------------------------------------------------------------------


def _rendered_levels(html: str) -> list[tuple[str, str]]:
    """Every level mark on the page: (its class, its words)."""
    marks = re.findall(
        r'<span class="level (level-[a-z]+)"><span class="pips" aria-hidden="true">'
        r"(?:<i></i>){4}</span>([^<]+)</span>",
        html,
    )
    return [(css, text.strip()) for css, text in marks]


def test_each_concern_score_shows_its_level_in_class_and_words(case_page, app):
    couple, html = case_page
    responses = db_session().query(IntakeResponse).all()
    scores = {r.partner_id: r.scores for r in responses}
    rows = couple_profile(
        get_state().taxonomy, scores[couple.partner_a.id], scores[couple.partner_b.id]
    )
    expected = [
        (level.css, level.word)
        for row in rows
        for value in (row.a, row.b)
        if (level := concern_level(value)) is not None
    ]
    profile = html[html.index('<table class="profile"') : html.index('<table class="measures"')]
    assert _rendered_levels(profile) == expected
    assert {css for css, _ in expected} >= {"level-severe", "level-mild"}  # A high, B low


def test_each_measure_band_shows_its_level_and_its_name(case_page, app):
    couple, html = case_page
    responses = {r.partner_id: r.scores for r in db_session().query(IntakeResponse).all()}
    expected = []
    for slug in ("csi16", "phq9", "gad7"):
        for partner in (couple.partner_a, couple.partner_b):
            result = responses[partner.id]["measures"][slug]
            expected.append((measure_level(slug, result["total"]).css, result["band"]))
    table = html[html.index('<table class="measures"') :]
    table = table[: table.index("</table>")]
    assert _rendered_levels(table) == expected


def test_the_measures_say_which_way_is_worse(case_page):
    _, html = case_page
    table = html[html.index('<table class="measures"') :]
    rows = table.split("<tr>")
    csi = next(r for r in rows if "CSI-16" in r)
    phq = next(r for r in rows if "PHQ-9" in r)
    assert "higher is better" in csi
    assert "higher is worse" in phq


def test_the_profile_caption_gives_the_levels(case_page):
    _, html = case_page
    assert f"Levels: {concern_scale_text()}." in html


# --- the levels themselves (pure) -----------------------------------------------------------


def test_each_instrument_has_its_direction():
    assert direction("phq9") is Direction.HIGHER_IS_WORSE
    assert direction("gad7") is Direction.HIGHER_IS_WORSE
    assert direction("csi16") is Direction.HIGHER_IS_BETTER
    assert CONCERN_DIRECTION is Direction.HIGHER_IS_WORSE


def test_an_unknown_instrument_is_refused():
    with pytest.raises(ValueError, match="unknown instrument"):
        direction("phq8")


@pytest.mark.parametrize("slug", sorted(measures.INSTRUMENTS))
def test_every_band_of_every_instrument_has_a_level(slug):
    instrument = measures.get(slug)
    levels = [band_level(slug, band.label) for band in instrument.bands]
    assert all(isinstance(level, Severity) for level in levels)


def test_a_band_without_a_level_is_refused():
    with pytest.raises(ValueError, match="no level"):
        band_level("csi16", "severe")


@pytest.mark.parametrize("slug", sorted(measures.INSTRUMENTS))
def test_levels_worsen_in_the_instruments_direction(slug):
    instrument = measures.get(slug)
    levels = [measure_level(slug, total) for total in range(instrument.max_total + 1)]
    if direction(slug) is Direction.HIGHER_IS_BETTER:
        levels.reverse()
    assert levels == sorted(levels)  # never calmer as the score gets worse
    assert levels[0] is Severity.CALM  # the best end is calm
    assert levels[-1] > Severity.CALM  # the worst end is not


def test_the_worst_phq9_and_gad7_totals_are_severe():
    assert measure_level("phq9", measures.get("phq9").max_total) is Severity.SEVERE
    assert measure_level("gad7", measures.get("gad7").max_total) is Severity.SEVERE


def test_a_distressed_csi16_is_not_calm_and_a_satisfied_one_is():
    assert measure_level("csi16", 51) is Severity.MODERATE  # "distressed", below 51.5
    assert measure_level("csi16", 52) is Severity.CALM  # "not distressed"
    assert measure_level("csi16", 0) is Severity.MODERATE


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, Severity.CALM),
        (24, Severity.CALM),
        (25, Severity.MILD),
        (49, Severity.MILD),
        (50, Severity.MODERATE),
        (74, Severity.MODERATE),
        (75, Severity.SEVERE),
        (100, Severity.SEVERE),
    ],
)
def test_concern_levels_rise_with_the_score(score, level):
    assert concern_level(score) is level


def test_an_unanswered_concern_has_no_level():
    assert concern_level(None) is None


@pytest.mark.parametrize("score", [-1, 101])
def test_a_concern_score_outside_0_to_100_is_refused(score):
    with pytest.raises(ValueError, match="0-100"):
        concern_level(score)


# --- the colours (clinic.css) ---------------------------------------------------------------


def _rules() -> dict[str, dict[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (d.partition(":") for d in body.split(";") if ":" in d)
        )
        for selector in selectors.split(","):
            rules.setdefault(" ".join(selector.split()), {}).update(declarations)
    return rules


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _hue(colour: str) -> float:
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return colorsys.rgb_to_hls(*rgb)[0] * 360


@pytest.mark.parametrize("level", list(Severity))
def test_each_level_mark_has_text_at_aa_contrast(level):
    rule = _rules()[f".level.{level.css}"]
    assert _contrast(rule["color"], rule["background"]) >= 4.5


@pytest.mark.parametrize("level", list(Severity))
def test_no_level_is_green(level):
    rules = _rules()
    colours = [
        rules[f".level.{level.css}"]["color"],
        rules[f".level.{level.css}"]["background"],
        rules[f".bar.{level.css} .bar-fill"]["background"],
    ]
    assert [c for c in colours if 75 <= _hue(c) <= 170] == []


def test_the_bars_run_calm_to_alarming_from_slate_to_red():
    rules = _rules()
    hues = [_hue(rules[f".bar.{level.css} .bar-fill"]["background"]) for level in Severity]
    assert 180 <= hues[0] <= 240  # calm: a grey-blue
    assert hues[1] > hues[2] > hues[3]  # then amber, orange and red, warmer at each step
    assert hues[3] < 15  # severe is red


# --- at 320 px, in a browser ---------------------------------------------------------------


def test_no_sideways_scrolling_at_320_px(server, browser, shots):
    base, app = server
    with app.app_context():
        _, couple = full_case(email="narrow@example.org")
        couple_id = couple.id
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    shots.append(page)
    page.goto(f"{base}/clinic/login")
    page.fill("#email", "narrow@example.org")
    page.fill("#password", factories.PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/clinic/")
    page.goto(f"{base}/clinic/couples/{couple_id}")
    assert page.locator("#intake table.profile").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()
