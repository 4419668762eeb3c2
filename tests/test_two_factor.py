"""Optional two-factor sign-in (TOTP) for standalone therapist logins, its single-use
codes, recovery codes for a lost phone, and the reset command."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa

from reconnect_clinic.models import AuditEvent, RecoveryCode, Therapist
from reconnect_clinic.security.two_factor import (
    RECOVERY_CODE_COUNT,
    accepted_step,
    new_recovery_codes,
    normalise_recovery_code,
    recovery_code_hash,
)
from reconnect_clinic.state import db_session
from tests.conftest import csrf_from, login, post_form

_CODE_IN_LIST = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def _enable(client) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on; the secret and the recovery codes shown."""
    page = client.get("/clinic/account/two-factor").text
    secret = re.search(r'id="totp-secret" type="text" readonly value="([A-Z2-7]+)"', page).group(1)
    wrong = post_form(client, "/clinic/account/two-factor", {"action": "enable", "code": "000000"})
    assert "That code is not right" in wrong.text
    done = post_form(
        client,
        "/clinic/account/two-factor",
        {"action": "enable", "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200
    assert "Two-factor sign-in is on." in done.text
    codes = _CODE_IN_LIST.findall(done.text)
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    return secret, codes


def _next_code(secret: str) -> str:
    """The code of the next 30-second step: the current one was spent turning it on."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _sign_in_with(app, email: str, code: str):
    browser = app.test_client()
    step = login(browser, email)
    assert step.headers["Location"].endswith("/clinic/login/code")
    return browser, post_form(browser, "/clinic/login/code", {"code": code})


def test_turn_on_then_sign_in_with_a_code(app, make):
    me = make.therapist()
    first = app.test_client()
    login(first, me.email)
    secret, _ = _enable(first)
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
    good = post_form(browser, "/clinic/login/code", {"code": _next_code(secret)})
    assert good.status_code == 302
    assert browser.get("/clinic/").status_code == 200


def test_an_app_code_works_once(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    secret, _ = _enable(client)
    # The code that turned it on is spent already.
    _, again = _sign_in_with(app, me.email, pyotp.TOTP(secret).now())
    assert again.status_code == 200 and "That code is not right" in again.text
    code = _next_code(secret)
    first, signed_in = _sign_in_with(app, me.email, code)
    assert signed_in.status_code == 302 and first.get("/clinic/").status_code == 200
    # Seen over a shoulder and entered in another browser within its 90 seconds: refused.
    second, replay = _sign_in_with(app, me.email, code)
    assert replay.status_code == 200 and "That code is not right" in replay.text
    assert second.get("/clinic/").status_code == 302


def test_a_recovery_code_signs_in_once_and_is_stored_only_as_a_hash(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    _, codes = _enable(client)
    stored = db_session().scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == RECOVERY_CODE_COUNT
    assert not {code.replace("-", "") for code in codes} & set(stored)

    # Typed as a person copies it from paper: capitals and a space for the dash.
    typed = codes[3].upper().replace("-", " ")
    browser, signed_in = _sign_in_with(app, me.email, typed)
    assert signed_in.status_code == 302
    home = browser.get("/clinic/", follow_redirects=True)
    assert home.status_code == 200
    assert "You signed in with a recovery code; 9 codes left." in home.text
    events = db_session().scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "therapist.recovery_code_used")
    )
    assert list(events) == ["therapist.recovery_code_used"]

    _, again = _sign_in_with(app, me.email, codes[3])
    assert again.status_code == 200 and "That code is not right" in again.text
    _, made_up = _sign_in_with(app, me.email, "abcde-fghjk")
    assert made_up.status_code == 200 and "That code is not right" in made_up.text


def test_new_recovery_codes_replace_the_old_ones(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    secret, old = _enable(client)
    assert (
        f"Recovery codes left: <strong>{RECOVERY_CODE_COUNT}</strong>"
        in client.get("/clinic/account/two-factor").text
    )
    made = post_form(
        client,
        "/clinic/account/two-factor",
        {"action": "new-codes", "code": _next_code(secret)},
    )
    new = _CODE_IN_LIST.findall(made.text)
    assert len(new) == RECOVERY_CODE_COUNT and not set(new) & set(old)
    assert "The codes you had before no longer work." in made.text
    _, refused = _sign_in_with(app, me.email, old[0])
    assert "That code is not right" in refused.text
    _, accepted = _sign_in_with(app, me.email, new[0])
    assert accepted.status_code == 302


def test_a_lost_phone_turn_off_with_a_recovery_code(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    _, codes = _enable(client)
    browser, _ = _sign_in_with(app, me.email, codes[0])
    off = post_form(
        browser,
        "/clinic/account/two-factor",
        {"action": "disable", "code": codes[1]},
        follow_redirects=True,
    )
    assert "Two-factor sign-in is off." in off.text
    db_session().expire_all()
    assert db_session().get(Therapist, me.id).totp_secret_sealed is None
    assert db_session().scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    # Password only from now on, until it is turned on again with the new phone.
    assert login(app.test_client(), me.email).headers["Location"].endswith("/clinic/")


def test_wrong_codes_on_the_settings_page_count_towards_the_limit(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    _enable(client)
    statuses = [
        post_form(
            client, "/clinic/account/two-factor", {"action": "disable", "code": "999999"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[0] == 200 and statuses[-1] == 429


def test_reset_two_factor_command_turns_it_off(app, make, cli):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    _enable(client)
    result = cli.invoke(args=["clinic", "reset-two-factor", me.email])
    assert result.exit_code == 0, result.output
    assert "Two-factor sign-in is off" in result.output
    db_session().expire_all()
    assert db_session().get(Therapist, me.id).totp_secret_sealed is None
    assert db_session().scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    event = (
        db_session()
        .scalars(sa.select(AuditEvent).where(AuditEvent.action == "therapist.2fa_off"))
        .one()
    )
    assert event.actor_kind == "system"
    again = cli.invoke(args=["clinic", "reset-two-factor", me.email])
    assert "already off" in again.output
    unknown = cli.invoke(args=["clinic", "reset-two-factor", "nobody@example.org"])
    assert unknown.exit_code != 0 and "No therapist" in unknown.output


def test_recovery_codes_are_random_and_read_back_as_typed():
    codes = new_recovery_codes()
    assert len(set(codes)) == len(codes) == RECOVERY_CODE_COUNT
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code)
        assert not set(code) & set("ilo01")
        letters = code.replace("-", "")
        assert normalise_recovery_code(code.upper()) == letters
        assert normalise_recovery_code(" ".join(letters)) == letters
        assert recovery_code_hash(code) == recovery_code_hash(code.upper().replace("-", " "))
    for wrong in ("", "abcde-fghj", "abcde-fghjkm", "abcde-fghj1", "123456", None):
        assert normalise_recovery_code(wrong) is None


def test_accepted_step_takes_one_step_either_side_and_only_after_the_last():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_000.0
    step = int(now) // 30
    assert accepted_step(secret, totp.at(now), now=now) == step
    assert accepted_step(secret, totp.at(now - 30), now=now) == step - 1
    assert accepted_step(secret, totp.at(now + 30), now=now) == step + 1
    assert accepted_step(secret, totp.at(now - 60), now=now) is None
    assert accepted_step(secret, totp.at(now), now=now, after=step) is None
    assert accepted_step(secret, totp.at(now + 30), now=now, after=step) == step + 1
    assert accepted_step(secret, "12 34 5", now=now) is None
    assert accepted_step(None, totp.at(now), now=now) is None


def test_turning_off_needs_a_current_code(app, make):
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    secret, _ = _enable(client)
    refused = post_form(client, "/clinic/account/two-factor", {"action": "disable", "code": "1"})
    assert "That code is not right" in refused.text
    post_form(
        client,
        "/clinic/account/two-factor",
        {"action": "disable", "code": _next_code(secret)},
    )
    db_session().expire_all()
    assert db_session().scalar(sa.select(Therapist.totp_secret_sealed)) is None


def test_code_page_without_a_password_step_sends_to_login(client):
    response = client.get("/clinic/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/clinic/login")
    assert csrf_from(client.get("/clinic/login").text)
