"""Bad-link limits shared by gunicorn's workers: with the counts in the real Redis, two
worker processes let exactly the limit of unknown link tokens through from one address
("20 per hour", RECONNECT_CLINIC_BAD_LINK_LIMIT's default); with the counts in each
worker's memory the same tries get further (the control, which shows that both workers
answered); and with the store unreachable each worker counts on its own, with a warning
in the log and never an error page.

Every try goes on a new connection, so that gunicorn's two workers share them (which
worker answered each is read from the access log, whose format is given the worker's
process id here). The tries go one after another; tries sent at the same moment get
further today (the last test, expected to fail until the view counts a bad token in one
step of the store: security/links/views.py tests the count, then adds to it).
"""

from __future__ import annotations

import random
import re
import secrets
import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from reconnect_clinic.config import DEFAULTS, ratelimit_storage_uri
from reconnect_clinic.security.ratelimit import FailureLimiter

LIMIT = 20
TRIES = 2 * LIMIT + 10
AT_ONCE = 8
REDIS = ("127.0.0.1", 6379)
NAMESPACE = "reconnect_clinic.bad_link"  # the namespace extension.py gives this limiter
# The access log's lines, one per request: "<worker pid> <status> <path>".
ACCESS_FORMAT = "access %(p)s %(s)s %(U)s"
ACCESS_LINE = re.compile(r"access <(\d+)> (\d{3}) /clinic/i/")

pytest.importorskip("gunicorn", reason="gunicorn (the host's server) is not installed")


def test_the_default_is_twenty_per_hour():
    # The figure the tests below count to.
    assert DEFAULTS["RECONNECT_CLINIC_BAD_LINK_LIMIT"] == "20 per hour"


# --- where the counts go by default ----------------------------------------------------------


def test_counts_stay_in_memory_without_a_queue():
    assert DEFAULTS["RECONNECT_CLINIC_RATELIMIT_STORAGE_URI"] is None
    assert ratelimit_storage_uri(DEFAULTS) == "memory://"


def test_counts_go_to_the_queues_redis_by_default():
    config = {**DEFAULTS, "RECONNECT_CLINIC_TASK_QUEUE": "redis://queue.internal:6379/2"}
    assert ratelimit_storage_uri(config) == "redis://queue.internal:6379/2"


def test_a_configured_store_wins_over_the_queue():
    config = {
        **DEFAULTS,
        "RECONNECT_CLINIC_TASK_QUEUE": "redis://queue.internal:6379/2",
        "RECONNECT_CLINIC_RATELIMIT_STORAGE_URI": "memory://",
    }
    assert ratelimit_storage_uri(config) == "memory://"


def test_a_queue_that_is_not_redis_is_not_a_store():
    config = {**DEFAULTS, "RECONNECT_CLINIC_TASK_QUEUE": "amqp://127.0.0.1:5672//"}
    assert ratelimit_storage_uri(config) == "memory://"


def test_the_clinic_counts_in_the_queues_redis(tmp_path):
    from reconnect_clinic.demo import create_app
    from reconnect_clinic.state import EXTENSION_KEY
    from tests.helpers import TEST_KEYS

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "shared-limits",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'clinic.sqlite'}",
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
            "RECONNECT_CLINIC_TASK_QUEUE": f"redis://127.0.0.1:{_closed_port()}/0",
        },
        instance_path=str(tmp_path / "instance"),
    )
    state = app.extensions[EXTENSION_KEY]
    for limiter in (state.bad_link_limiter, state.login_limiter):
        assert limiter.fallback is not None  # a shared store, with memory behind it
        assert type(limiter.limiter.storage).__name__ == "RedisStorage"


# --- two gunicorn workers ---------------------------------------------------------------------


def _redis_reachable() -> str | None:
    """Why Redis cannot be used, or None if it can."""
    try:
        with socket.create_connection(REDIS, timeout=1):
            return None
    except OSError as error:
        return f"Redis is not reachable at {REDIS[0]}:{REDIS[1]} ({error})"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def _bad_link(server_url: str, n: int) -> int:
    """One unknown token, from a new browser (a new connection): the answer's status."""
    token = secrets.token_urlsafe(24) + str(n)
    with requests.Session() as http:
        response = http.get(
            f"{server_url}/clinic/i/{token}",
            headers={"Connection": "close"},
            allow_redirects=False,
            timeout=60,
        )
    return response.status_code


def _serve(live, storage_uri: str, at_once: int = 1) -> tuple[list[int], Counter[str]]:
    """Start the server on ``storage_uri``, send TRIES unknown tokens, ``at_once`` at a
    time; the statuses, and how many bad-link answers each worker gave."""
    server, _ = live
    server.env["LIVE_RATELIMIT_STORAGE_URI"] = storage_uri
    server.env["GUNICORN_CMD_ARGS"] = f"--access-logformat='{ACCESS_FORMAT}'"
    server.start()
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        statuses = list(pool.map(lambda n: _bad_link(server.url, n), range(TRIES)))
    server.stop()
    workers = Counter(match.group(1) for match in ACCESS_LINE.finditer(server.log_text()))
    return statuses, workers


def _check_both_workers_answered(workers: Counter[str]) -> None:
    assert sum(workers.values()) == TRIES, workers
    assert len(workers) == 2, workers


def _shared_run(live, at_once: int) -> tuple[list[int], Counter[str]]:
    reason = _redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    # A Redis database of its own (the limiter's keys are under their own prefix there
    # too), cleared before and after.
    uri = f"redis://{REDIS[0]}:{REDIS[1]}/{random.randint(1, 15)}"
    shared = FailureLimiter.create(uri, DEFAULTS["RECONNECT_CLINIC_BAD_LINK_LIMIT"], NAMESPACE)
    shared.reset()
    try:
        return _serve(live, uri, at_once)
    finally:
        shared.reset()


def test_a_shared_store_lets_exactly_the_limit_through_across_two_workers(live):
    statuses, workers = _shared_run(live, at_once=1)
    server, _ = live
    _check_both_workers_answered(workers)
    assert statuses.count(404) == LIMIT
    assert statuses.count(429) == TRIES - LIMIT
    assert not server.problems_in_log()


def test_per_process_counts_let_more_through_across_two_workers(live):
    """The control: the same tries with each worker counting in its own memory."""
    statuses, workers = _serve(live, "memory://")
    server, _ = live
    _check_both_workers_answered(workers)
    # Each worker lets through the limit of what it answered, or all of it.
    expected = sum(min(answered, LIMIT) for answered in workers.values())
    assert expected > LIMIT  # both workers had tries to count
    assert statuses.count(404) == expected
    assert statuses.count(429) == TRIES - expected
    assert not server.problems_in_log()


def test_an_unreachable_store_falls_back_to_each_workers_own_count(live):
    statuses, workers = _serve(live, f"redis://127.0.0.1:{_closed_port()}/0")
    server, _ = live
    _check_both_workers_answered(workers)
    assert set(statuses) <= {404, 429}  # never an error page
    expected = sum(min(answered, LIMIT) for answered in workers.values())
    assert statuses.count(404) == expected
    assert not server.problems_in_log()
    warnings = [
        line
        for line in server.log_text().splitlines()
        if "RECONNECT_CLINIC_RATELIMIT_STORAGE_URI" in line and NAMESPACE in line
    ]
    # One warning per worker (then at most one per RETRY_SHARED_AFTER seconds).
    assert len(warnings) == 2, warnings


def test_a_shared_store_lets_exactly_the_limit_through_at_once(live):
    statuses, workers = _shared_run(live, at_once=AT_ONCE)
    _check_both_workers_answered(workers)
    assert statuses.count(404) == LIMIT
