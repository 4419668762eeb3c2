"""Standalone therapist login: passwords, sign-out, timeouts, redirects."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import AuditEvent, Therapist
from reconnect_clinic.security.accounts.passwords import hash_password, verify_password
from reconnect_clinic.security.accounts.views import safe_next, session_expired
from reconnect_clinic.state import db_session
from tests.helpers import csrf_from, login, post_form


def test_login_page_renders(client):
    page = client.get("/clinic/login")
    assert page.status_code == 200
    assert "Sign in" in page.text
    assert 'autocomplete="current-password"' in page.text


def test_dashboard_needs_login(client):
    response = client.get("/clinic/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/clinic/login?next=")


def test_login_and_reach_requested_page(client, make):
    me = make.therapist()
    couple = make.couple(me)
    target = f"/clinic/couples/{couple.id}"
    page = client.get(f"/clinic/login?next={target}")
    response = client.post(
        f"/clinic/login?next={target}",
        data={
            "email": me.email.upper(),
            "password": "correct horse battery",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert client.get(target).status_code == 200
    db_session().expire_all()
    assert db_session().get(Therapist, me.id).last_login_at is not None
    assert "therapist.login" in set(db_session().scalars(sa.select(AuditEvent.action)))


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("therapist-x@example.org", "wrong password"),
        ("nobody@example.org", "correct horse battery"),
    ],
)
def test_wrong_credentials_get_the_same_message(client, make, email, password):
    make.therapist(email="therapist-x@example.org")
    response = post_form(client, "/clinic/login", {"email": email, "password": password})
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.text
    assert f'value="{email}"' in response.text  # the email typed is kept
    assert client.get("/clinic/").status_code == 302


def test_inactive_therapist_cannot_log_in(client, make):
    me = make.therapist()
    me.active = False
    db_session().commit()
    response = login(client, me.email)
    assert response.status_code == 200
    assert client.get("/clinic/").status_code == 302


def test_deactivated_while_signed_in_loses_access(client, make):
    me = make.therapist()
    login(client, me.email)
    assert client.get("/clinic/").status_code == 200
    me.active = False
    db_session().commit()
    assert client.get("/clinic/").status_code == 302


def test_logout_needs_post_with_csrf(client, make):
    me = make.therapist()
    login(client, me.email)
    assert client.get("/clinic/logout").status_code == 405
    assert client.post("/clinic/logout").status_code == 400
    assert client.get("/clinic/").status_code == 200
    token = csrf_from(client.get("/clinic/").text)
    response = client.post("/clinic/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/clinic/").status_code == 302


@pytest.mark.parametrize("key", ["reconnect_clinic_seen_at", "reconnect_clinic_login_at"])
def test_stale_login_is_signed_out(client, make, key):
    me = make.therapist()
    login(client, me.email)
    assert client.get("/clinic/").status_code == 200
    with client.session_transaction() as session:
        session[key] = time.time() - 13 * 60 * 60  # beyond both the idle and absolute limits
    response = client.get("/clinic/")
    assert response.status_code == 302
    assert "/clinic/login" in response.headers["Location"]
    assert "signed out" in client.get(response.headers["Location"]).text


def test_activity_keeps_a_login_alive(client, make):
    me = make.therapist()
    login(client, me.email)
    with client.session_transaction() as session:
        session["reconnect_clinic_seen_at"] = time.time() - 29 * 60
    assert client.get("/clinic/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session["reconnect_clinic_seen_at"] < 60


def test_session_expired_rules():
    now = 100_000.0
    fresh = {"idle": 1800, "lifetime": 43200}
    assert not session_expired(now=now, login_at=now - 60, seen_at=now - 60, **fresh)
    assert session_expired(now=now, login_at=now - 60, seen_at=now - 1801, **fresh)
    assert session_expired(now=now, login_at=now - 43201, seen_at=now - 1, **fresh)
    assert session_expired(now=now, login_at=None, seen_at=now, **fresh)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/clinic/couples/x", "/clinic/couples/x"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("javascript:alert(1)", None),
        ("clinic", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_login_never_redirects_off_site(client, make):
    me = make.therapist()
    page = client.get("/clinic/login")
    response = client.post(
        "/clinic/login?next=//evil.example/",
        data={
            "email": me.email,
            "password": "correct horse battery",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["Location"] == "/clinic/"


def test_passwords_are_argon2id_and_verify():
    hashed = hash_password("a long passphrase here")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long passphrase here")
    assert not verify_password(hashed, "a long passphrase her")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_session_cookie_is_httponly_and_lax(client, make):
    me = make.therapist()
    response = login(client, me.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_failed_logins_are_limited_per_account(client, make, app):
    me = make.therapist(email="guessed@example.org")
    limiter = app.extensions["reconnect_clinic"].login_limiter
    limiter.reset()
    try:
        for _ in range(10):
            response = post_form(
                client, "/clinic/login", {"email": me.email, "password": "wrong guess"}
            )
            assert response.status_code == 200
        # Even the right password is refused while the limit holds.
        refused = login(client, me.email)
        assert refused.status_code == 429
        assert "Too many failed sign-ins" in refused.text
        actions = list(db_session().scalars(sa.select(AuditEvent.action)))
        assert actions.count("therapist.login_failed") == 10
        assert "therapist.login_refused" in actions
    finally:
        limiter.reset()
    assert login(client, me.email).status_code == 302


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("password123", "most common"),
        ("Qwerty123", "most common"),
        ("aaaaaaaaaaaa", "repeat one character"),
        ("x" * 1025, "at most 1024"),
        ("dana@example.org", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, problem):
    from reconnect_clinic.security.accounts.password_policy import password_problems

    problems = password_problems(password, email="dana@example.org", name="Dana")
    assert any(problem in p for p in problems), problems


def test_long_passphrases_are_welcome():
    from reconnect_clinic.security.accounts.password_policy import password_problems

    assert password_problems("correct horse battery staple " * 10) == []
    assert password_problems("tea at four, then the long walk") == []
