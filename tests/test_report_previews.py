"""A report's preview is the report: the same document as its PDF, shown inside the
clinic's layout with a way back to the couple and the PDF to download, its styles kept to
the report; and the PDF's tables are never split after their first row."""

from __future__ import annotations

import io
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import tinycss2
from pypdf import PdfReader

import reconnect_clinic
from reconnect_clinic.models import Couple
from reconnect_clinic.reports import service
from reconnect_clinic.reports.pdf import html_to_pdf
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, login, report_urls


class _Page(HTMLParser):
    """The landmarks and links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: dict[str, str] = {}  # text -> href
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links[" ".join(self._text.split())] = self._href
            self._href = None


def _page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    return parser


@pytest.fixture
def case(app, make):
    owner = make.therapist(name="Dr Ada Quill")
    couple = make.couple(owner, label="Rivera & Chen", a="Robin", b="Sasha")
    for partner in couple.partners:
        PartnerBrowser(app, make.intake_link(owner, partner)).fill(make.intake_answers())
    make.assignment(owner, couple)
    therapy = make.therapy_session(owner, couple)
    make.signed_note(owner, therapy)
    return owner, couple, therapy


def test_each_preview_is_a_page_of_the_clinic(client, case):
    owner, couple, therapy = case
    login(client, owner.email)
    for url in report_urls(couple, therapy):
        page = client.get(url)
        assert page.status_code == 200, url
        parsed = _page(page.text)
        assert parsed.tags.count("main") == 1, url
        assert parsed.tags.count("body") == 1, url  # the report is not a page in a page
        assert 'class="site-header"' in page.text, url
        assert "Sign out (Dr Ada Quill)" in page.text, url
        assert '<article class="report-preview"' in page.text, url


def test_each_preview_leads_back_to_the_couple(client, case):
    owner, couple, therapy = case
    login(client, owner.email)
    for url in report_urls(couple, therapy):
        links = _page(client.get(url).text).links
        assert links["← Back to Rivera & Chen"] == f"/clinic/couples/{couple.id}#reports", url


def test_each_preview_downloads_its_own_pdf(client, case):
    owner, couple, therapy = case
    login(client, owner.email)
    previews = report_urls(couple, therapy)
    pdfs = report_urls(couple, therapy, pdf=True)
    for preview, pdf in zip(previews, pdfs, strict=True):
        href = _page(client.get(preview).text).links["Download PDF"]
        assert href == pdf
        download = client.get(href)
        assert download.status_code == 200, href
        assert download.mimetype == "application/pdf", href
        assert download.headers["Content-Disposition"].startswith("attachment; "), href


def test_the_intake_summary_without_private_answers_downloads_the_same(client, case):
    owner, couple, _ = case
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}/intake-summary?private=no").text
    href = _page(page).links["Download PDF"]
    assert href == f"/clinic/couples/{couple.id}/intake-summary.pdf?private=no"


def test_the_pdf_is_still_the_bare_report(app, case):
    _, couple, therapy = case
    with app.test_request_context():
        couple = db_session().get(Couple, couple.id)
        progress = service.load_progress_report(couple, date.today())  # noqa: DTZ011
        documents = {
            "session": service.session_report_printable(
                couple, service.load_session_report(couple, therapy)
            ).html,
            "progress": service.progress_report_html(couple, progress),
            "intake": service.intake_summary_html(couple, progress.intake, printable=True),
        }
    for name, html in documents.items():
        assert html.startswith("<!doctype html>"), name
        assert "<main" not in html, name
        assert "site-header" not in html, name
        assert "report-preview" not in html, name
        assert "clinic.css" not in html, name
        assert "Download PDF" not in html, name
        assert '<p class="report-footer">' in html, name


# --- the preview's styles stay in the report --------------------------------------------


def _selectors(rules: list) -> list[str]:
    found = []
    for rule in rules:
        if rule.type == "qualified-rule":
            found += [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
        elif rule.type == "at-rule" and rule.content is not None:
            found += _selectors(tinycss2.parse_rule_list(rule.content, True, True))
    return found


def test_the_preview_styles_apply_inside_the_report_only():
    css = (Path(reconnect_clinic.__file__).parent / "static" / "clinic.css").read_text()
    start, end = "/* Report previews", "/* End of report previews */"
    assert css.count(start) == 1
    assert css.count(end) == 1
    rules = tinycss2.parse_stylesheet(css[css.index(start) : css.index(end)], True, True)
    selectors = _selectors(rules)
    assert len(selectors) > 20
    outside = [s for s in selectors if not re.match(r"\.report-(preview|toolbar)(\s|$|[.:\[])", s)]
    assert outside == []


# --- the PDF's tables -------------------------------------------------------------------


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_progress_reports_tables_are_not_split_after_a_row(client, case):
    """Three charts fill most of the first page: each partner's table of signs and causes
    (nine rows) must not leave its header and first row at the foot of it."""
    owner, couple, _ = case
    login(client, owner.email)
    with client.application.test_request_context():
        report = service.load_progress_report(
            db_session().get(Couple, couple.id),
            date.today(),  # noqa: DTZ011
        )
    titles = [row.title for row in report.profile_rows[0][1]]
    assert len(titles) > 3
    pages = _pages(client.get(f"/clinic/couples/{couple.id}/progress-report.pdf").data)
    assert len(pages) > 1  # the tables do meet a page's end

    def pages_of(title: str) -> list[int]:
        return [number for number, text in enumerate(pages) for _ in range(text.count(title))]

    first_rows = pages_of(titles[0])
    assert len(first_rows) == 2  # one table per partner
    for title in titles[1:]:
        assert pages_of(title) == first_rows, title  # on the page of its table's first row


def test_a_table_longer_than_a_page_breaks_between_rows_after_its_heading(app):
    """Keeping a table whole would leave its heading alone on a page when the table is
    longer than a page: it breaks between rows instead, its header on each page."""
    rows = "".join(f"<tr><td>Row {n}</td><td>{n}</td></tr>" for n in range(120))
    html = (
        "<!doctype html><html><body><h1>A long table</h1><p>Before it.</p><h3>Rows</h3>"
        f"<table><thead><tr><th>Name</th><th>n</th></tr></thead><tbody>{rows}</tbody>"
        "</table></body></html>"
    )
    pages = _pages(html_to_pdf(html))
    assert len(pages) > 1
    assert "Row 0" in pages[0]
    assert [page.count("Name n") for page in pages] == [1] * len(pages)
    # Never one row alone at either end of a page.
    per_page = [len(re.findall(r"Row \d+ ", page)) for page in pages]
    assert min(per_page) >= 3, per_page


def test_only_the_reports_own_text_is_checked_for_what_the_pdf_cannot_print(client, make):
    """The layout around a preview (the therapist's name in its header) is not in the PDF
    of a progress report, so it is no reason to warn that the PDF lacks a character."""
    owner = make.therapist(name="Somchai สมชาย")
    couple = make.couple(owner, a="Ada", b="Ben")
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}/progress-report").text
    assert "Sign out (Somchai สมชาย)" in page
    assert "The PDF of this report cannot print" not in page
