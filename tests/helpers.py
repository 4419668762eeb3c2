"""Helpers the tests share: the test keys, a client with a fresh context per request,
form posting and sign-in, a partner's browser, and reading a PDF back.

Test modules import these from here (``from tests.helpers import login``); fixtures live
in ``tests/conftest.py`` and factories in ``tests/factories.py``.
"""

from __future__ import annotations

import contextvars
import io
import os
import re
from typing import TYPE_CHECKING, Any

from flask import Flask, has_app_context
from flask.testing import FlaskClient
from pypdf import PdfReader

from reconnect_clinic.state import get_state
from tests import factories

if TYPE_CHECKING:
    from playwright.sync_api import Page

SERVER_URL = os.environ.get("RECONNECT_CLINIC_TEST_DATABASE_URL")
# Fixed test keys (never used anywhere else): 32 bytes each, base64.
TEST_KEYS = {
    "k1": "a2V5LW9uZS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg=",
    "k2": "a2V5LXR3by1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg=",
}


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    Tests hold an app context for the factories; without this, requests would share it,
    and with it ``g`` and the database session, hiding bugs that only show when each
    request starts clean.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            # End the test's own transaction first: on SQLite every transaction holds
            # the write lock (BEGIN IMMEDIATE), and the request must not wait for it.
            get_state().db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """GET ``url`` for its CSRF token, then POST ``data`` to it, as a browser would."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data}, **kwargs)


def report_urls(couple: Any, therapy_session: Any, *, pdf: bool = False) -> list[str]:
    """A couple's reports: the progress report, the intake summary and the session's
    report, as previews or (``pdf``) as PDFs."""
    base = f"/clinic/couples/{couple.id}"
    suffix = ".pdf" if pdf else ""
    return [
        f"{base}/progress-report{suffix}",
        f"{base}/intake-summary{suffix}",
        f"{base}/sessions/{therapy_session.id}/report{suffix}",
    ]


def login(client: FlaskClient, email: str, password: str = factories.PASSWORD) -> Any:
    return post_form(client, "/clinic/login", {"email": email, "password": password})


_LINK_REF = re.compile(r'<input type="hidden" name="link_ref" value="([^"]+)"')


def link_ref_from(html: str) -> str:
    match = _LINK_REF.search(html)
    assert match, "page has no link reference"
    return match.group(1)


class PartnerBrowser:
    """A partner's browser: opens their link, then reads and sends their pages."""

    def __init__(self, app: Flask, token: str, purpose: str = "intake") -> None:
        self.client = app.test_client()
        opened = self.client.get(f"/clinic/{purpose[0]}/{token}")
        assert opened.status_code == 302, opened.text
        self.start = opened.headers["Location"]
        self.base = self.start.rstrip("/")

    def get(self, page: str = "", **kwargs: Any) -> Any:
        return self.client.get(f"{self.base}/{page}", **kwargs)

    def post(self, page: str, values: dict[str, str], action: str = "next") -> Any:
        ref = link_ref_from(self.get(page).text)
        return self.client.post(
            f"{self.base}/{page}", data={**values, "link_ref": ref, "action": action}
        )

    def fill(self, answers: dict[str, dict[str, str]]) -> Any:
        last = None
        for page, values in answers.items():
            last = self.post(page, values)
            assert last.status_code == 302, (page, last.text[:3000])
        return last


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, read back as a reader would see it."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


# --- pages in a real browser (Playwright) -------------------------------------------

# Debian's Chromium: the browser tests never download one.
CHROMIUM = "/usr/bin/chromium"


def answer_every_question(page: Page) -> None:
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


def tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the control named ``name`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def fill_pages(page: Page, count: int) -> None:
    for _ in range(count):
        answer_every_question(page)
        if page.locator("#hopes").count():
            page.fill("#hopes", "Typed in a real browser")
        with page.expect_navigation():
            page.get_by_role("button", name="Save and continue").or_(
                page.get_by_role("button", name="Submit my answers")
            ).click()
