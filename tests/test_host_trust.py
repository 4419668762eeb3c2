"""What a host configures about the clinic inside it: the Content-Security-Policy of the
clinic's own responses (sources to add, a nonce per request), the answer for a signed-in
user who is not a therapist, and sending mail through the host's own mailer."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string
from flask_sqlalchemy import SQLAlchemy

from reconnect_clinic import mail
from reconnect_clinic.csp import CSPConfigError, checked_extra_sources, content_security_policy
from reconnect_clinic.extension import ReconnectClinic
from tests.helpers import login
from tests.test_host_example import _host_login, _open_case, host  # noqa: F401


def directive(policy: str, name: str) -> list[str]:
    """The sources of one directive of a policy header."""
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"{name} not in {policy!r}")


def test_the_default_policy_is_closed():
    policy = content_security_policy()
    assert directive(policy, "script-src") == ["'self'"]
    assert directive(policy, "style-src") == ["'self'"]
    assert directive(policy, "frame-ancestors") == ["'none'"]
    assert "unsafe-inline" not in policy


def test_added_sources_join_their_directive_once():
    policy = content_security_policy(
        {"style-src": ["https://cdn.example.org", "'self'"], "font-src": ["https://fonts.example"]}
    )
    assert directive(policy, "style-src") == ["'self'", "https://cdn.example.org"]
    assert directive(policy, "font-src") == ["'self'", "https://fonts.example"]
    assert directive(policy, "object-src") == ["'none'"]


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ({"frame-ancestors": ["https://evil.example"]}, "cannot be given sources"),
        ({"object-src": ["*"]}, "cannot be given sources"),
        ({"script-src": "https://cdn.example.org"}, "must be a list"),
        ({"script-src": ["https://a.example; frame-ancestors *"]}, "not a single source"),
        ({"style-src": ["https://a.example https://b.example"]}, "not a single source"),
        ({"style-src": [""]}, "not a single source"),
    ],
)
def test_a_source_that_would_open_more_than_it_says_is_refused(extra, complaint):
    with pytest.raises(CSPConfigError, match=complaint):
        checked_extra_sources(extra)


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("RECONNECT_CLINIC_CSP_EXTRA_SOURCES", {"base-uri": ["*"]}, CSPConfigError),
        ("RECONNECT_CLINIC_MAIL_SENDER", "not-a-path", ValueError),
    ],
)
def test_a_bad_setting_stops_start_up_before_anything_changes(key, value, error):
    host_app = Flask("bad_setting")
    host_app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", **{key: value})
    SQLAlchemy().init_app(host_app)
    with pytest.raises(error):
        ReconnectClinic().init_app(host_app)
    assert "reconnect_clinic" not in host_app.extensions
    assert "reconnect_clinic" not in host_app.blueprints


def test_the_clinic_sends_the_added_sources(app, client, make, monkeypatch):
    monkeypatch.setitem(
        app.config, "RECONNECT_CLINIC_CSP_EXTRA_SOURCES", {"style-src": ["https://cdn.example.org"]}
    )
    owner = make.therapist()
    login(client, owner.email)
    policy = client.get("/clinic/").headers["Content-Security-Policy"]
    assert directive(policy, "style-src") == ["'self'", "https://cdn.example.org"]


def test_a_nonce_is_new_on_every_request_and_given_to_templates(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_CSP_NONCE", True)
    owner = make.therapist()
    login(client, owner.email)
    nonces = []
    for _ in range(2):
        policy = client.get("/clinic/").headers["Content-Security-Policy"]
        script_nonces = [s for s in directive(policy, "script-src") if s.startswith("'nonce-")]
        style_nonces = [s for s in directive(policy, "style-src") if s.startswith("'nonce-")]
        assert len(script_nonces) == 1
        assert style_nonces == script_nonces
        nonces.append(script_nonces[0])
    assert nonces[0] != nonces[1]
    with app.test_request_context("/clinic/"):
        rendered = render_template_string('<script nonce="{{ clinic_csp_nonce }}"></script>')
        nonce = re.search(r'nonce="([^"]+)"', rendered)
        assert nonce
        assert content_security_policy(None, nonce.group(1)).count(nonce.group(1)) == 2


def test_without_the_setting_there_is_no_nonce(app, client, make):
    owner = make.therapist()
    login(client, owner.email)
    assert "nonce-" not in client.get("/clinic/").headers["Content-Security-Policy"]


def test_the_hosts_404_under_the_prefix_keeps_the_hosts_policy(host):  # noqa: F811
    app, _ = host
    response = app.test_client().get("/clinic/no/such/page")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response.headers
    # Still the clinic's address: never cached, never framed, no Referer.
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    clinic_page = app.test_client().get("/clinic/")
    assert "Content-Security-Policy" in clinic_page.headers


def test_a_signed_in_user_who_is_not_a_therapist_is_told_so(host):  # noqa: F811
    app, _ = host
    alice = app.test_client()
    _host_login(alice, "alice@practice.example")
    case_url = _open_case(alice)
    carol = app.test_client()
    _host_login(carol, "carol@practice.example")
    response = carol.get(case_url)
    assert response.status_code == 403
    assert "not as one of the clinic's therapists" in response.text
    assert "Ada" not in response.text
    # Someone signed out is still sent to the host's login.
    signed_out = app.test_client().get(case_url)
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/login")


def test_the_host_may_send_a_non_therapist_to_its_own_page(host, monkeypatch):  # noqa: F811
    app, _ = host
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_NOT_THERAPIST_ENDPOINT", "login")
    carol = app.test_client()
    _host_login(carol, "carol@practice.example")
    response = carol.get("/clinic/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


sent: list[tuple[str, str, str]] = []


def record_mail(to: str, subject: str, body: str) -> None:
    """A host's mailer, for RECONNECT_CLINIC_MAIL_SENDER by import path."""
    sent.append((to, subject, body))


def test_mail_goes_through_the_hosts_mailer(app, monkeypatch):
    sent.clear()
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_SMTP_HOST", None)
    assert not mail.mail_enabled()
    monkeypatch.setitem(
        app.config, "RECONNECT_CLINIC_MAIL_SENDER", "tests.test_host_trust:record_mail"
    )
    assert mail.mail_enabled()
    mail.send_mail("ada@example.org", "Your link", "Open it")
    assert sent == [("ada@example.org", "Your link", "Open it")]
    calls = []
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_MAIL_SENDER", lambda *a: calls.append(a))
    mail.send_mail("bea@example.org", "Hello", "Body")
    assert calls == [("bea@example.org", "Hello", "Body")]


@pytest.mark.parametrize("setting", ["no_colon_here", "tests.test_host_trust:sent", ":x"])
def test_a_mail_hook_that_is_not_a_function_is_refused(setting):
    with pytest.raises(ValueError, match="RECONNECT_CLINIC_MAIL_SENDER"):
        mail.host_sender(setting)
