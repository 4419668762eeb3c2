"""Optional two-factor sign-in (TOTP) for standalone therapist logins."""

from __future__ import annotations

import re

import pyotp
import sqlalchemy as sa

from reconnect_clinic.models import Therapist
from reconnect_clinic.state import db_session
from tests.conftest import csrf_from, login, post_form


def _enable(client) -> str:
    page = client.get("/clinic/account/two-factor").text
    secret = re.search(r'id="totp-secret" type="text" readonly value="([A-Z2-7]+)"', page).group(1)
    wrong = post_form(client, "/clinic/account/two-factor", {"action": "enable", "code": "000000"})
    assert "That code is not right" in wrong.text
    done = post_form(
        client,
        "/clinic/account/two-factor",
        {"action": "enable", "code": pyotp.TOTP(secret).now()},
        follow_redirects=True,
    )
    assert "Two-factor sign-in is on." in done.text
    return secret


def test_turn_on_then_sign_in_with_a_code(app, make):
    me = make.therapist()
    first = app.test_client()
    login(first, me.email)
    secret = _enable(first)
    db_session().expire_all()
    stored = db_session().get(Therapist, me.id)
    assert stored.totp_secret == secret
    assert secret not in (stored.totp_secret_sealed or "")  # encrypted at rest

    browser = app.test_client()
    step = login(browser, me.email)
    assert step.headers["Location"].endswith("/clinic/login/code")
    assert browser.get("/clinic/").status_code == 302  # not signed in yet
    bad = post_form(browser, "/clinic/login/code", {"code": "123456"})
    assert "That code is not right" in bad.text
    good = post_form(browser, "/clinic/login/code", {"code": pyotp.TOTP(secret).now()})
    assert good.status_code == 302
    assert browser.get("/clinic/").status_code == 200


def test_turning_off_needs_a_current_code(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    secret = _enable(client)
    refused = post_form(client, "/clinic/account/two-factor", {"action": "disable", "code": "1"})
    assert "That code is not right" in refused.text
    post_form(
        client,
        "/clinic/account/two-factor",
        {"action": "disable", "code": pyotp.TOTP(secret).now()},
    )
    db_session().expire_all()
    assert db_session().scalar(sa.select(Therapist.totp_secret_sealed)) is None


def test_code_page_without_a_password_step_sends_to_login(client):
    response = client.get("/clinic/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/clinic/login")
    assert csrf_from(client.get("/clinic/login").text)
