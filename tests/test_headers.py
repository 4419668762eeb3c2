"""Security headers on every response under the clinic: its pages, and its errors and
redirects too (the route matrix checks them on every route for every actor, with
``header_problems`` below); a host's own pages outside the clinic keep theirs."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from reconnect_clinic.errors import in_clinic, referrer_policy, security_headers
from reconnect_clinic.models import ClientLink, utcnow
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, login
from tests.test_host_example import _host_login, host  # noqa: F401  (the host fixture)

CLINIC_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cache-Control",
)


def header_problems(
    response, *, referrer_policy: str, static: bool = False, policy: bool = True
) -> list[str]:
    """What ``response`` lacks of the clinic's security headers (empty when none). With
    ``policy`` False it must carry no Content-Security-Policy: a page no clinic route
    answered is the host's."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    problems = []
    if not policy:
        if "Content-Security-Policy" in headers:
            problems.append(f"Content-Security-Policy {csp!r} on the host's page")
    elif "script-src 'self'" not in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"Content-Security-Policy {csp!r}")
    if headers.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {headers.get('X-Frame-Options')!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options {headers.get('X-Content-Type-Options')!r}")
    if headers.get("Referrer-Policy") != referrer_policy:
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r} != {referrer_policy}")
    if not static and headers.get("Cache-Control") != "no-store":
        problems.append(f"Cache-Control {headers.get('Cache-Control')!r}")
    return problems


def test_pages_carry_the_security_headers(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    pages = ("/clinic/login", "/clinic/", f"/clinic/couples/{couple.id}")
    previews = (
        f"/clinic/couples/{couple.id}/progress-report",
        f"/clinic/couples/{couple.id}/intake-summary",
    )
    for url in pages + previews:
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert header_problems(response, referrer_policy="same-origin") == [], url
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here
    partner = PartnerBrowser(client.application, make.intake_link(owner, couple.partner_a))
    page = partner.get("about")
    assert page.status_code == 200
    assert header_problems(page, referrer_policy="no-referrer") == []


def test_error_paths_carry_the_security_headers(app, client, make, monkeypatch):
    """Responses no clinic view produced: 404s and 405s no route matched, abort()s, the
    CSRF failure page, redirects, partner link problems, a crash, the demo's own pages."""
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    anonymous = app.test_client()
    seen = {
        # (what, response): the Referrer-Policy it must carry
        ("sign-in redirect", anonymous.get("/clinic/")): "same-origin",
        ("prefix without slash", anonymous.get("/clinic")): "no-referrer",
        ("404 no route", anonymous.get("/clinic/no/such/page")): "no-referrer",
        ("405 no method", anonymous.get("/clinic/logout")): "no-referrer",
        ("automatic OPTIONS", anonymous.options("/clinic/login")): "same-origin",
        ("unknown link", anonymous.get(f"/clinic/i/{'x' * 43}")): "no-referrer",
        ("partner page, no link", anonymous.get(f"/clinic/intake/{uuid.uuid4()}/about")): (
            "no-referrer"
        ),
        ("the demo's /", anonymous.get("/")): "no-referrer",
        ("the demo's 404", anonymous.get("/no-such-page")): "no-referrer",
    }
    login(client, owner.email)
    seen[("CSRF failure", client.post("/clinic/logout"))] = "same-origin"
    seen[("abort(404)", client.get(f"/clinic/couples/{uuid.uuid4()}"))] = "same-origin"
    link = db_session().query(ClientLink).one()
    link.expires_at = utcnow() - timedelta(hours=1)
    db_session().commit()
    seen[("expired link", anonymous.get(f"/clinic/i/{token}"))] = "no-referrer"
    # An exception in a view, answered by Flask's 500 handler.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def crash():
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "reconnect_clinic.exercises", crash)
    seen[("500", client.get("/clinic/exercises"))] = "same-origin"

    statuses = {what: response.status_code for what, response in seen}
    assert statuses == {
        "sign-in redirect": 302,
        "prefix without slash": 308,
        "404 no route": 404,
        "405 no method": 405,
        "automatic OPTIONS": 200,
        "unknown link": 404,
        "partner page, no link": 404,
        "the demo's /": 302,
        "the demo's 404": 404,
        "CSRF failure": 400,
        "abort(404)": 404,
        "expired link": 410,
        "500": 500,
    }
    problems = {
        what: header_problems(response, referrer_policy=policy)
        for (what, response), policy in seen.items()
    }
    assert problems == {what: [] for what in statuses}


def test_a_host_keeps_its_own_headers_outside_the_clinic(host, monkeypatch):  # noqa: F811
    app, _ = host
    client = app.test_client()
    outside = {
        "host page": client.get("/login"),
        "host 404": client.get("/no-such-page"),
        "host 405": client.put("/login"),
    }
    assert {what: r.status_code for what, r in outside.items()} == {
        "host page": 200,
        "host 404": 404,
        "host 405": 405,
    }
    for what, response in outside.items():
        assert [h for h in CLINIC_HEADERS if h in response.headers] == [], what
    inside = {
        "redirect to the host's login": client.get("/clinic/"),
        "404 under the prefix": client.get("/clinic/no-such-page"),
        "405 under the prefix": client.put("/clinic/"),
    }
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_HOST_LOGIN_ENDPOINT", None)
    inside["401"] = client.get("/clinic/")
    assert {what: r.status_code for what, r in inside.items()} == {
        "redirect to the host's login": 302,
        "404 under the prefix": 404,
        "405 under the prefix": 405,
        "401": 401,
    }
    assert (
        header_problems(inside["redirect to the host's login"], referrer_policy="same-origin") == []
    )
    # No clinic route answered these: the host's error pages, under the host's policy.
    for what in ("404 under the prefix", "405 under the prefix"):
        assert header_problems(inside[what], referrer_policy="no-referrer", policy=False) == []
    assert header_problems(inside["401"], referrer_policy="same-origin") == []
    _host_login(client, "alice@practice.example")
    assert header_problems(client.get("/clinic/"), referrer_policy="same-origin") == []


@pytest.mark.parametrize(
    ("path", "blueprint", "prefix", "expected"),
    [
        ("/clinic", None, "/clinic", True),
        ("/clinic/", None, "/clinic", True),
        ("/clinic/x/y", None, "/clinic", True),
        ("/clinical", None, "/clinic", False),
        ("/", None, "/clinic", False),
        ("/practice/clinic/x", None, "/practice/clinic/", True),
        ("/clinic/x", "reconnect_clinic", "", True),  # no prefix: the clinic's own routes
        ("/x", None, "", False),
        ("/x", "host_blueprint", None, False),
    ],
)
def test_which_requests_are_the_clinics(path, blueprint, prefix, expected):
    assert in_clinic(path, blueprint, prefix) is expected


def test_no_inline_script_in_any_page(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    for url in (
        "/clinic/login",
        "/clinic/",
        f"/clinic/couples/{couple.id}",
        f"/clinic/couples/{couple.id}/homework/new",
        "/clinic/exercises",
    ):
        html = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=", html), url  # no inline event handlers


def test_hsts_over_https(client):
    response = client.get("/clinic/login", base_url="https://clinic.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("reconnect_clinic.dashboard", "same-origin"),
        ("reconnect_clinic.login", "same-origin"),
        ("reconnect_clinic.intake_page", "no-referrer"),
        ("reconnect_clinic.link_open", "no-referrer"),
        ("reconnect_clinic.static", "no-referrer"),
        ("index", "no-referrer"),  # not the clinic's
        (None, "no-referrer"),  # no route matched
    ],
)
def test_referrer_policy_by_page(endpoint, expected):
    assert referrer_policy(endpoint) == expected


def test_headers_decided_without_a_request():
    static = security_headers("reconnect_clinic.static", secure=True)
    assert "Cache-Control" not in static  # static files may be cached
    assert static["Strict-Transport-Security"].startswith("max-age=")
    page = security_headers("reconnect_clinic.dashboard", secure=False)
    assert page["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in page
