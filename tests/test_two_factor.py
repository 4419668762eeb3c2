"""Optional two-factor sign-in (TOTP) for standalone therapist logins, its single-use
codes, recovery codes for a lost phone, and the reset command."""

from __future__ import annotations

import re
import threading
import time

import pyotp
import sqlalchemy as sa

from reconnect_clinic.models import AuditEvent, RecoveryCode, Therapist, utcnow
from reconnect_clinic.security.accounts.second_factor import (
    Factor,
    check_second_factor,
    issue_recovery_codes,
)
from reconnect_clinic.security.accounts.totp import (
    RECOVERY_CODE_COUNT,
    accepted_step,
    new_recovery_codes,
    normalise_recovery_code,
    recovery_code_hash,
)
from reconnect_clinic.state import db_session
from tests.helpers import csrf_from, login, post_form
from tests.test_readonly import postgresql_only

SETTINGS = "/clinic/account/two-factor"
_CODE_IN_LIST = re.compile(r"<li><code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code></li>")


def _enable(client) -> tuple[str, list[str], str]:
    """Turn two-factor sign-in on: the secret, the recovery codes shown, and the app code
    that turned it on (spent)."""
    page = client.get(SETTINGS).text
    secret = re.search(r'id="totp-secret" type="text" readonly value="([A-Z2-7]+)"', page).group(1)
    wrong = post_form(client, SETTINGS, {"action": "enable", "code": "000000"})
    assert "That code is not right" in wrong.text
    code = pyotp.TOTP(secret).now()
    posted = post_form(client, SETTINGS, {"action": "enable", "code": code})
    assert posted.status_code == 303  # the codes are shown on a page of their own
    done = client.get(posted.headers["Location"])
    assert "Two-factor sign-in is on." in done.text
    codes = _CODE_IN_LIST.findall(done.text)
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    return secret, codes, code


def _two_factor_on(app, make):
    """A new therapist, signed in in a client of their own, who has turned two-factor
    sign-in on: ``(therapist, client, (secret, recovery codes, spent app code))``."""
    me = make.therapist()
    client = app.test_client()
    login(client, me.email)
    return me, client, _enable(client)


def _next_code(secret: str) -> str:
    """The code of the next 30-second step: the current one was spent turning it on."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _sign_in_with(app, email: str, code: str):
    browser = app.test_client()
    step = login(browser, email)
    assert step.headers["Location"].endswith("/clinic/login/code")
    return browser, post_form(browser, "/clinic/login/code", {"code": code})


def _settings(client, action: str, code: str | None = None, **kwargs):
    """Send one of the settings page's forms (each has fields of its own, named after
    its action), as a browser would."""
    page = client.get(SETTINGS).text
    token = re.search(rf'name="{action}-csrf_token" type="hidden" value="([^"]+)"', page)
    data = {f"{action}-csrf_token": token.group(1), "action": action}
    if code is not None:
        data[f"{action}-code"] = code
    return client.post(SETTINGS, data=data, **kwargs)


def test_turn_on_then_sign_in_with_a_code(app, make):
    me = make.therapist()
    first = app.test_client()
    login(first, me.email)
    secret, _, _ = _enable(first)
    db_session().expire_all()
    stored = db_session().get(Therapist, me.id)
    assert stored.totp_secret == secret
    assert stored.totp_secret_sealed is not None
    assert secret not in stored.totp_secret_sealed  # encrypted at rest

    browser = app.test_client()
    step = login(browser, me.email)
    assert step.headers["Location"].endswith("/clinic/login/code")
    assert browser.get("/clinic/").status_code == 302  # not signed in yet
    bad = post_form(browser, "/clinic/login/code", {"code": "123456"})
    assert "That code is not right" in bad.text
    # Digits of another script are not a code, and not an error either.
    arabic = post_form(browser, "/clinic/login/code", {"code": "١٢٣٤٥٦"})
    assert arabic.status_code == 200
    assert "That code is not right" in arabic.text
    good = post_form(browser, "/clinic/login/code", {"code": _next_code(secret)})
    assert good.status_code == 302
    assert browser.get("/clinic/").status_code == 200


def test_an_app_code_works_once(app, make):
    me, _client, (secret, _, spent) = _two_factor_on(app, make)
    _, again = _sign_in_with(app, me.email, spent)  # the code that turned it on
    assert again.status_code == 200
    assert "That code is not right" in again.text
    code = _next_code(secret)
    first, signed_in = _sign_in_with(app, me.email, code)
    assert signed_in.status_code == 302
    assert first.get("/clinic/").status_code == 200
    # Seen over a shoulder and entered in another browser within its 90 seconds: refused.
    second, replay = _sign_in_with(app, me.email, code)
    assert replay.status_code == 200
    assert "That code is not right" in replay.text
    assert second.get("/clinic/").status_code == 302


def test_a_recovery_code_signs_in_once_and_is_stored_only_as_a_salted_hash(app, make):
    me, _client, (_, codes, _) = _two_factor_on(app, make)
    stored = set(db_session().scalars(sa.select(RecoveryCode.code_hash)))
    assert stored == {recovery_code_hash(me.id, code) for code in codes}
    assert recovery_code_hash(me.id, codes[0]) != recovery_code_hash(make.therapist().id, codes[0])

    # Typed as a person copies it from paper: capitals and spaces for the dashes.
    typed = codes[3].upper().replace("-", " ")
    browser, signed_in = _sign_in_with(app, me.email, typed)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].endswith(SETTINGS)
    page = browser.get(SETTINGS)
    assert page.status_code == 200
    assert "You signed in with a recovery code. 9 codes left." in page.text
    events = db_session().scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "therapist.recovery_code_used")
    )
    assert list(events) == ["therapist.recovery_code_used"]

    _, again = _sign_in_with(app, me.email, codes[3])
    assert again.status_code == 200
    assert "That code is not right" in again.text
    _, made_up = _sign_in_with(app, me.email, "abcd-efgh-jkmn-pqrs")
    assert made_up.status_code == 200
    assert "That code is not right" in made_up.text


def test_the_settings_forms_each_send_their_own_action_and_code(app, make):
    """Enter in a code field submits the form it is in: each action is a form of its own."""
    _me, client, _ = _two_factor_on(app, make)
    page = client.get(SETTINGS).text
    forms = [f for f in re.findall(r"<form\b.*?</form>", page, flags=re.S) if 'name="action"' in f]
    actions = []
    for form in forms:
        (action,) = re.findall(r'name="action" value="([^"]+)"', form)
        assert re.findall(r'<input[^>]*name="([^"]*code)"', form) == [f"{action}-code"]
        actions.append(action)
    assert sorted(actions) == ["disable", "new-codes"]


def test_new_recovery_codes_replace_the_old_ones(app, make):
    me, client, (secret, old, _) = _two_factor_on(app, make)
    page = client.get(SETTINGS).text
    assert f"Recovery codes left: <strong>{RECOVERY_CODE_COUNT}</strong>" in page
    wrong = _settings(client, "new-codes", "123456")
    assert "That code is not right" in wrong.text
    assert not _CODE_IN_LIST.findall(wrong.text)
    made = _settings(client, "new-codes", _next_code(secret), follow_redirects=True)
    new = _CODE_IN_LIST.findall(made.text)
    assert len(new) == RECOVERY_CODE_COUNT
    assert not set(new) & set(old)
    assert "The codes you had before no longer work." in made.text
    _, refused = _sign_in_with(app, me.email, old[0])
    assert "That code is not right" in refused.text
    _, accepted = _sign_in_with(app, me.email, new[0])
    assert accepted.status_code == 302


def test_a_lost_phone_sign_in_with_a_recovery_code_then_turn_it_off(app, make):
    me, _client, (_, codes, _) = _two_factor_on(app, make)
    browser, _ = _sign_in_with(app, me.email, codes[0])
    # Just after signing in with a recovery code, no other code is asked for.
    page = browser.get(SETTINGS).text
    assert 'name="disable-code"' not in page
    assert 'name="new-codes-code"' not in page
    off = _settings(browser, "disable", follow_redirects=True)
    assert "Two-factor sign-in is off." in off.text
    db_session().expire_all()
    assert db_session().get(Therapist, me.id).totp_secret_sealed is None
    assert db_session().scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    event = (
        db_session()
        .scalars(sa.select(AuditEvent).where(AuditEvent.action == "therapist.2fa_off"))
        .one()
    )
    assert event.detail == {"with": "recovery_code_sign_in"}
    # Password only from now on, until it is turned on again with the new phone.
    assert login(app.test_client(), me.email).headers["Location"].endswith("/clinic/")


def test_the_last_recovery_code_says_so_and_an_app_sign_in_without_codes_warns(app, make):
    me, _client, (secret, codes, _) = _two_factor_on(app, make)
    db_session().execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.code_hash != recovery_code_hash(me.id, codes[-1]))
        .values(used_at=utcnow())
    )
    db_session().commit()
    browser, _ = _sign_in_with(app, me.email, codes[-1])
    page = browser.get(SETTINGS).text
    assert "That was your last recovery code." in page
    assert "Recovery codes left: <strong>0</strong>" in page
    assert "Make new ones now." in page

    other, _ = _sign_in_with(app, me.email, _next_code(secret))
    home = other.get("/clinic/").text
    assert "You have no recovery codes left" in home


def test_turning_off_after_the_grace_needs_a_code_again(app, make, monkeypatch):
    from reconnect_clinic.security.accounts import views

    me, _client, (_, codes, _) = _two_factor_on(app, make)
    browser, _ = _sign_in_with(app, me.email, codes[0])
    monkeypatch.setattr(views, "RECOVERED_GRACE_SECONDS", -1)
    page = browser.get(SETTINGS).text
    assert 'name="disable-code"' in page
    refused = _settings(browser, "disable")
    assert refused.status_code == 200
    assert "Please enter the 6-digit code" in refused.text
    db_session().expire_all()
    assert db_session().get(Therapist, me.id).totp_secret_sealed is not None


def test_wrong_codes_on_the_settings_page_count_towards_the_limit(app, make):
    _me, client, _ = _two_factor_on(app, make)
    statuses = [_settings(client, "disable", "999999").status_code for _ in range(12)]
    assert statuses[0] == 200
    assert statuses[-1] == 429


@postgresql_only
def test_one_code_sent_twice_at_the_same_moment_signs_in_once(app, make):
    """Each request reads the therapist before either writes: the database's own check
    (a later step only; a code still unused) lets exactly one through."""
    me = make.therapist()
    secret = pyotp.random_base32()
    me.totp_secret = secret
    db_session().commit()
    recovery = issue_recovery_codes(db_session().get(Therapist, me.id))[0]
    db_session().commit()
    assert _at_once(app, me.id, pyotp.TOTP(secret).now()) == [Factor.APP_CODE]
    assert _at_once(app, me.id, recovery) == [Factor.RECOVERY_CODE]


def _at_once(app, therapist_id, code: str, requests: int = 4) -> list[Factor]:
    """Check ``code`` in ``requests`` threads, each with its own transaction, all having
    read the therapist before any checks; the factors accepted."""
    barrier = threading.Barrier(requests, timeout=30)
    results: list[Factor | None] = []

    def attempt() -> None:
        with app.app_context():
            therapist = db_session().get(Therapist, therapist_id)
            barrier.wait()
            results.append(check_second_factor(therapist, code))
            db_session().commit()
            db_session().remove()

    threads = [threading.Thread(target=attempt) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == requests, results
    return [factor for factor in results if factor is not None]


def test_reset_two_factor_command_turns_it_off(app, make, cli):
    me, _client, _ = _two_factor_on(app, make)
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
    assert unknown.exit_code != 0
    assert "No therapist" in unknown.output


def test_recovery_codes_are_random_and_read_back_as_typed():
    codes = new_recovery_codes()
    assert len(set(codes)) == len(codes) == RECOVERY_CODE_COUNT
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", code)
        assert not set(code) & set("ilo01")
        letters = code.replace("-", "")
        assert normalise_recovery_code(code.upper()) == letters
        assert normalise_recovery_code(" ".join(letters)) == letters
    for wrong in ("", "abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrst", "abcd-efgh-jkmn-pqr1", None):
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
    assert accepted_step(secret, "١٢٣٤٥٦", now=now) is None
    assert accepted_step(None, totp.at(now), now=now) is None


def test_turning_off_needs_a_current_code(app, make):
    _me, client, (secret, _, _) = _two_factor_on(app, make)
    refused = _settings(client, "disable", "1")
    assert "That code is not right" in refused.text
    off = _settings(client, "disable", _next_code(secret), follow_redirects=True)
    assert "Two-factor sign-in is off." in off.text
    db_session().expire_all()
    assert db_session().scalar(sa.select(Therapist.totp_secret_sealed)) is None


def test_code_page_without_a_password_step_sends_to_login(client):
    response = client.get("/clinic/login/code")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/clinic/login")
    assert csrf_from(client.get("/clinic/login").text)
