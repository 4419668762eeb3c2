"""Sign-in limits count a try before its password is checked, in one step of the store:
of many wrong passwords sent at the same moment, exactly the limit reach the password
hash, per account and per address, on the in-memory store and on Redis, in one process
and across gunicorn's workers. A store that fails does not turn sign-in into an error."""

from __future__ import annotations

import logging
import random
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyotp
import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic.models import AuditEvent
from reconnect_clinic.security import ratelimit
from reconnect_clinic.security.accounts import views
from reconnect_clinic.security.ratelimit import FailureLimiter
from reconnect_clinic.state import db_session, get_state
from tests import factories
from tests.helpers import csrf_from, login, post_form

LIMIT = 10  # RECONNECT_CLINIC_LOGIN_FAILURE_LIMIT's default: "10 per 15 minutes"
TRIES = 30
AT_ONCE = 8
REDIS = ("127.0.0.1", 6379)


def _redis_reachable() -> str | None:
    """Why Redis cannot be used, or None if it can."""
    try:
        with socket.create_connection(REDIS, timeout=1):
            return None
    except OSError as error:
        return f"Redis is not reachable at {REDIS[0]}:{REDIS[1]} ({error})"


def _redis_db() -> str:
    """A Redis database of its own for a test (with keys of its own in it too, see
    FailureLimiter.create), so that nothing else's counts are touched."""
    return f"redis://{REDIS[0]}:{REDIS[1]}/{random.randint(1, 15)}"


# What a sign-in does to the counts is the view's decision, the same on any store: those
# tests run on the in-memory one; counting at once runs on both.
@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, app: Flask, monkeypatch) -> Iterator[FailureLimiter]:
    """The app's sign-in limiter on the in-memory store, or on the real Redis, with a
    namespace of the test's own there (cleaned up afterwards)."""
    if request.param == "memory":
        yield get_state().login_limiter
        return
    reason = _redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    limiter = FailureLimiter.create(
        _redis_db(),
        app.config["RECONNECT_CLINIC_LOGIN_FAILURE_LIMIT"],
        namespace=f"reconnect_clinic.test-{uuid.uuid4().hex}",
    )
    assert limiter.fallback is not None  # a shared store
    monkeypatch.setattr(get_state(), "login_limiter", limiter)
    yield limiter
    limiter.reset()
    connection = limiter.limiter.storage.get_connection()
    assert not connection.keys(f"reconnect_clinic:{limiter.namespace}:*")


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:
    """Every password the sign-in view checks against a hash (or the dummy hash)."""
    checked: list[str] = []
    lock = threading.Lock()
    real = views.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        with lock:
            checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(views, "verify_password", counting)
    return checked


def _at_once(app: Flask, tries: list[dict[str, str]]) -> list[int]:
    """Send each sign-in of ``tries`` from a browser of its own, AT_ONCE at a time; the
    statuses of the answers."""

    def one(data: dict[str, str]) -> int:
        browser = app.test_client()
        page = browser.get("/clinic/login")
        return browser.post(
            "/clinic/login", data={"csrf_token": csrf_from(page.text), **data}
        ).status_code

    # End the test's own transaction first: on SQLite it would hold the write lock that
    # every sign-in needs (to write its audit line).
    db_session().commit()
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return list(pool.map(one, tries))


def _actions() -> list[str]:
    db_session().expire_all()
    return list(db_session().scalars(sa.select(AuditEvent.action)))


def test_wrong_passwords_at_once_for_one_account_reach_the_hash_exactly_the_limit(
    app, make, store, hash_checks
):
    me = make.therapist(email="guessed@example.org")
    statuses = _at_once(app, [{"email": me.email, "password": f"guess {n}"} for n in range(TRIES)])
    assert len(hash_checks) == LIMIT
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == TRIES - LIMIT
    actions = _actions()
    assert actions.count("therapist.login_failed") == LIMIT
    assert actions.count("therapist.login_refused") == TRIES - LIMIT
    # The right password too waits for the limit to pass.
    assert login(app.test_client(), me.email).status_code == 429


def test_wrong_passwords_at_once_across_accounts_are_bounded_by_the_address(
    app, make, store, hash_checks
):
    # Known accounts and unknown ones alike: each try has an account of its own, so only
    # the address's count can hold them.
    known = [make.therapist().email for _ in range(3)]
    emails = known + [f"nobody{n}@example.org" for n in range(TRIES - len(known))]
    statuses = _at_once(app, [{"email": email, "password": "a guess"} for email in emails])
    assert len(hash_checks) == LIMIT
    assert statuses.count(429) == TRIES - LIMIT


def _from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_a_complete_sign_in_clears_the_accounts_count(app, make):
    """A therapist who signs in often, from wherever, is never locked out by their own
    sign-ins (each address here is new, so only the account's count is at stake)."""
    me = make.therapist()
    # Twice nine typos and a right password: twenty tries of the account, over its ten.
    for address in ("10.0.1.1", "10.0.2.1"):
        for _ in range(LIMIT - 1):
            wrong = post_form(
                app.test_client(),
                "/clinic/login",
                {"email": me.email, "password": "typo"},
                **_from(address),
            )
            assert wrong.status_code == 200
        signed_in = post_form(
            app.test_client(),
            "/clinic/login",
            {"email": me.email, "password": factories.PASSWORD},
            **_from(address),
        )
        assert signed_in.status_code == 302, address


def test_signing_in_to_ones_own_account_does_not_lift_the_address_limit(app, make):
    """Someone who owns an account cannot sign in to it between guesses at others' to
    keep guessing from one address."""
    mine = make.therapist()
    victims = [f"victim{n}@example.org" for n in range(LIMIT)]
    browser = app.test_client()
    for victim in victims[: LIMIT // 2]:
        assert (
            post_form(browser, "/clinic/login", {"email": victim, "password": "x y z"}).status_code
            == 200
        )
    assert login(app.test_client(), mine.email).status_code == 302
    for victim in victims[LIMIT // 2 : LIMIT - 1]:
        assert (
            post_form(browser, "/clinic/login", {"email": victim, "password": "x y z"}).status_code
            == 200
        )
    refused = post_form(browser, "/clinic/login", {"email": victims[-1], "password": "x y z"})
    assert refused.status_code == 429


def test_a_right_password_does_not_lift_the_limit_on_codes(app, make):
    """With two-factor sign-in on, the account's count is cleared by the right code only:
    someone who knows the password cannot reset the count between guesses at codes."""
    me = make.therapist()
    secret = pyotp.random_base32()
    me.totp_secret = secret
    db_session().commit()
    browser = app.test_client()
    for _ in range(LIMIT - 1):
        wrong = post_form(
            browser, "/clinic/login", {"email": me.email, "password": "typo"}, **_from("10.1.0.1")
        )
        assert wrong.status_code == 200
    step = login(browser, me.email)  # the tenth try, and a right one
    assert step.headers["Location"].endswith("/clinic/login/code")
    guess = post_form(browser, "/clinic/login/code", {"code": "000000"})
    assert guess.status_code == 429


def test_counting_first_lets_exactly_the_limit_through_at_once(store):
    """The limiter alone: thirty threads at one key, all started together."""
    start = threading.Barrier(TRIES, timeout=30)
    allowed: list[bool] = []

    def attempt() -> None:
        start.wait()
        allowed.append(store.attempt("account:threads@example.org"))

    threads = [threading.Thread(target=attempt) for _ in range(TRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(allowed) == TRIES
    assert allowed.count(True) == LIMIT


# --- a store that fails ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.fixture
def unreachable_store(app: Flask, monkeypatch) -> FailureLimiter:
    limiter = FailureLimiter.create(
        f"redis://127.0.0.1:{_closed_port()}/0",
        app.config["RECONNECT_CLINIC_LOGIN_FAILURE_LIMIT"],
        namespace="reconnect_clinic.login",
    )
    monkeypatch.setattr(get_state(), "login_limiter", limiter)
    return limiter


def _store_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ratelimit.__name__]


def test_an_unreachable_redis_falls_back_to_this_processs_own_limit(
    app, make, unreachable_store, caplog, hash_checks
):
    me = make.therapist()
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)
    browser = app.test_client()
    assert login(browser, me.email).status_code == 302  # signing in still works
    statuses = [
        post_form(
            app.test_client(), "/clinic/login", {"email": me.email, "password": "guess"}
        ).status_code
        for _ in range(LIMIT + 2)
    ]
    # The limit still holds, counted in memory: ten tries of the address, one of them the
    # right sign-in above (which clears the account's count, not the address's).
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert statuses[LIMIT - 1 :] == [429] * 3
    assert len(hash_checks) == LIMIT
    warnings = _store_warnings(caplog)
    assert len(warnings) == 1  # once, not on every request
    assert "RECONNECT_CLINIC_RATELIMIT_STORAGE_URI" in warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING


def test_the_shared_store_is_tried_again_after_a_while(app, unreachable_store, caplog):
    clock = [1000.0]
    unreachable_store.clock = lambda: clock[0]
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)
    assert unreachable_store.attempt("account:a@example.org")
    assert unreachable_store.attempt("account:a@example.org")
    assert len(_store_warnings(caplog)) == 1
    clock[0] += ratelimit.RETRY_SHARED_AFTER + 1
    assert unreachable_store.attempt("account:a@example.org")
    assert len(_store_warnings(caplog)) == 2  # tried again, failed again, said so again


# --- across gunicorn's worker processes -----------------------------------------------------


def test_wrong_passwords_at_once_across_two_workers_reach_the_hash_exactly_the_limit(live):
    reason = _redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    server, app = live
    uri = _redis_db()
    shared = FailureLimiter.create(uri, "10 per 15 minutes", namespace="reconnect_clinic.login")
    shared.reset()
    server.env["LIVE_RATELIMIT_STORAGE_URI"] = uri
    with app.app_context():
        email = factories.therapist().email
        db_session().remove()
    server.start()
    try:

        def one(n: int) -> int:
            http = requests.Session()
            page = http.get(f"{server.url}/clinic/login", timeout=60)
            return http.post(
                f"{server.url}/clinic/login",
                data={"csrf_token": csrf_from(page.text), "email": email, "password": f"g{n}"},
                allow_redirects=False,
                timeout=60,
            ).status_code

        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            statuses = list(pool.map(one, range(TRIES)))
        with app.app_context():
            actions = list(db_session().scalars(sa.select(AuditEvent.action)))
            db_session().remove()
    finally:
        shared.reset()
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == TRIES - LIMIT
    assert actions.count("therapist.login_failed") == LIMIT
    assert actions.count("therapist.login_refused") == TRIES - LIMIT
    assert not server.problems_in_log()
