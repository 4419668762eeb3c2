"""Security headers on every clinic page."""

from __future__ import annotations

import re

from tests.conftest import login


def test_pages_carry_the_security_headers(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    for url in ("/clinic/login", "/clinic/", f"/clinic/couples/{couple.id}"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


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
