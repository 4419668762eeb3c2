"""The clinic behind HTTPS: TLS seen by the app itself, or terminated by a proxy that
says so in ``X-Forwarded-*`` headers (Werkzeug's ProxyFix), with Flask-WTF's strict
referrer check on (its default). Browsers send ``Referer`` and ``Origin`` only as the
page's ``Referrer-Policy`` allows, so every form post here carries what a browser would
send from the page it was on (tests/referrer_policy.py), never a value written by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from reconnect_clinic.models import IntakeResponse, SessionNote, TherapySession
from reconnect_clinic.state import db_session
from tests import factories
from tests.helpers import PartnerBrowser, csrf_from, login, post_form
from tests.live_server import LiveTherapist
from tests.referrer_policy import (
    BrowserClient,
    Page,
    form_post_headers,
    origin_header,
    parse_policy,
    referrer,
)
from tests.test_host_example import host  # noqa: F401  (the README's host app)

NOTE = {
    "section_data": "Talked about the harbour walk.",
    "section_assessment": "Warmer than last week.",
    "section_plan": "Keep the evening check-in.",
    "risk_level": "none",
    "risk_notes": "",
}


@pytest.fixture(params=["tls", "proxy"])
def https_app(request, app: Flask, monkeypatch) -> Iterator[Flask]:
    """The app seeing HTTPS: from the request itself (TLS at the server), or from a
    proxy's forwarded headers through ProxyFix, as the README's set-up has it."""
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setattr(app, "test_client_class", BrowserClient)
    if request.param == "proxy":
        monkeypatch.setattr(BrowserClient, "proxy", "http://backend.internal:8000")
        monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1))
    yield app


def test_a_therapist_signs_in_saves_a_note_and_signs_out(https_app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = https_app.test_client()

    signed_in = login(browser, owner.email)
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert signed_in.headers["Location"] == "/clinic/"
    dashboard = browser.get("/clinic/")
    assert dashboard.status_code == 200
    # The app knows the request was HTTPS.
    assert dashboard.headers["Strict-Transport-Security"].startswith("max-age=")

    opened = post_form(
        browser,
        f"/clinic/couples/{couple.id}/sessions/new",
        {
            "held_on": "2026-11-20",
            "duration_minutes": "50",
            "format": "video",
            "attendance": "both",
        },
    )
    assert opened.status_code == 302, opened.text[:500]
    note_url = opened.headers["Location"]
    saved = post_form(browser, note_url, {**NOTE, "action": "save", "version": ""})
    assert saved.status_code == 302, saved.text[:500]
    note = db_session().scalars(sa.select(SessionNote)).one()
    assert note.content["sections"]["data"] == NOTE["section_data"]

    # The sign-out button of the page on screen (every page has one).
    page = browser.get("/clinic/")
    out = browser.post("/clinic/logout", data={"csrf_token": csrf_from(page.text)})
    assert out.status_code == 302, out.text[:500]
    assert browser.get("/clinic/").headers["Location"].startswith("/clinic/login")


def test_a_partner_saves_a_page_over_https(https_app, make):
    """Partner pages keep ``no-referrer``: their posts carry no Referer and are let in by
    the signed link reference instead."""
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(https_app, make.intake_link(owner, couple.partner_a))
    page = partner.get("about")
    assert parse_policy(page.headers["Referrer-Policy"]) == "no-referrer"
    saved = partner.post("about", {"relationship_length": "1_3"}, action="save")
    assert saved.status_code == 302, saved.text[:500]
    response = db_session().scalars(sa.select(IntakeResponse)).one()
    assert [saved_page.page for saved_page in response.pages] == ["about"]


def test_forms_sent_from_elsewhere_are_still_refused(https_app, make):
    """The strict referrer check still works: a post from a page of another site, or
    from a page that withholds its address, is refused even with a valid token."""
    owner = make.therapist()
    couple = make.couple(owner)
    browser = https_app.test_client()
    assert login(browser, owner.email).status_code == 302
    url = f"/clinic/couples/{couple.id}/sessions/new"
    token = csrf_from(browser.get(url).text)
    data = {
        "held_on": "2026-11-20",
        "duration_minutes": "50",
        "format": "video",
        "attendance": "both",
        "csrf_token": token,
    }
    for page in (
        Page("https://elsewhere.example/form", None),
        Page(f"https://clinic.test{url}", "no-referrer"),
    ):
        browser.page = page
        refused = browser.post(url, data=data)
        assert refused.status_code == 400, page
    assert db_session().scalar(sa.select(sa.func.count()).select_from(TherapySession)) == 0


def test_behind_a_proxy_the_app_must_see_the_public_host(app, make, monkeypatch):
    """Why README says ``x_host``: with only the scheme forwarded, the app compares the
    browser's Referer (the public host) with the proxy's internal one, and refuses."""
    owner = make.therapist()
    monkeypatch.setattr(app, "test_client_class", BrowserClient)
    monkeypatch.setattr(BrowserClient, "proxy", "http://backend.internal:8000")
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    refused = login(app.test_client(), owner.email)
    assert refused.status_code == 400
    assert "Please try again" in refused.text


def test_a_host_apps_therapist_opens_a_case_over_https(host, monkeypatch):  # noqa: F811
    """The README's host example (its own login, Flask-WTF's CSRFProtect on the whole
    app) behind a TLS proxy: the host's page and the clinic's forms both get through."""
    app, _ = host
    monkeypatch.setattr(BrowserClient, "proxy", "http://backend.internal:8000")
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1))
    monkeypatch.setattr(app, "test_client_class", BrowserClient)
    browser = app.test_client()
    page = browser.get("/login")
    signed_in = browser.post(
        "/login",
        data={
            "email": "alice@practice.example",
            "password": "host-password",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    opened = post_form(
        browser,
        "/clinic/couples/new",
        {
            "status": "active",
            "opened_on": "2026-11-01",
            "partner_a-first_name": "Ada",
            "partner_b-first_name": "Bea",
        },
    )
    assert opened.status_code == 302, opened.text[:500]
    assert "Ada &amp; Bea" in browser.get(opened.headers["Location"]).text


@pytest.mark.parametrize("live", ["https"], indirect=True)
def test_over_tls_at_gunicorn_a_therapist_signs_in_and_saves_a_note(live):
    """gunicorn serving TLS itself, with a certificate made for the test; the client
    checks the server against it and sends what a browser would."""
    server, app = live
    with app.app_context():
        owner = factories.therapist()
        couple = factories.couple(owner)
        therapy = factories.therapy_session(owner, couple)
        email, note_path = owner.email, f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
        therapy_id = therapy.id
        db_session().remove()
    server.start()
    assert server.url.startswith("https://127.0.0.1:")
    therapist = LiveTherapist(server.url, email, factories.PASSWORD, verify=server.verify)
    page = therapist.get(note_path)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")  # seen as HTTPS
    saved = therapist.post(
        note_path, {**NOTE, "action": "save", "version": "", "csrf_token": csrf_from(page.text)}
    )
    assert saved.status_code == 302, saved.text[:500]
    with app.app_context():
        note = (
            db_session()
            .scalars(sa.select(SessionNote).where(SessionNote.therapy_session_id == therapy_id))
            .one()
        )
        assert note.content["sections"]["data"] == NOTE["section_data"]
        db_session().remove()
    out = therapist.post(
        "/clinic/logout", {"csrf_token": csrf_from(therapist.get("/clinic/").text)}
    )
    assert out.status_code == 302, out.text[:500]
    assert therapist.get("/clinic/").headers["Location"].startswith("/clinic/login")
    assert server.problems_in_log() == []


# --- the browser rules the tests above rely on ------------------------------------------------


def test_referrer_rules():
    page = "https://clinic.test/clinic/couples/1?tab=notes#top"
    same = "https://clinic.test/clinic/couples/1/edit"
    other = "https://elsewhere.example/"
    plain = "http://clinic.test/clinic/"
    assert referrer("no-referrer", page, same) is None
    assert referrer("same-origin", page, same) == "https://clinic.test/clinic/couples/1?tab=notes"
    assert referrer("same-origin", page, other) is None
    assert referrer("strict-origin", page, same) == "https://clinic.test/"
    assert referrer("strict-origin", page, plain) is None
    assert referrer("strict-origin-when-cross-origin", page, other) == "https://clinic.test/"
    assert referrer("no-referrer-when-downgrade", page, plain) is None
    assert referrer("unsafe-url", page, plain) == "https://clinic.test/clinic/couples/1?tab=notes"


def test_origin_rules():
    page = "https://clinic.test:8443/clinic/login"
    assert origin_header("no-referrer", page, page) == "null"
    assert origin_header("same-origin", page, page) == "https://clinic.test:8443"
    assert origin_header("same-origin", page, "https://clinic.test/clinic/login") == "null"
    assert origin_header("strict-origin", page, "http://clinic.test/") == "null"


def test_policy_header_parsing():
    assert parse_policy(None) == "strict-origin-when-cross-origin"
    assert parse_policy("no-referrer") == "no-referrer"
    assert parse_policy("no-referrer, unknown-policy") == "no-referrer"  # unknown: skipped
    assert parse_policy("unsafe-url, Same-Origin") == "same-origin"  # the last known wins
    assert form_post_headers("no-referrer", "https://a.test/x", "https://a.test/y") == {
        "Origin": "null"
    }
