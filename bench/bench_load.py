"""The clinic under load, served by gunicorn and driven by wrk: figures, printed.

    .venv/bin/python bench/bench_load.py [--db sqlite|postgresql|both] [--duration S]
        [--rounds R] [--connections C] [--worker-class sync|gthread] [--threads N]

For each database kind it makes a throwaway database (SQLite in a temporary folder;
on PostgreSQL a database ``reconnect_clinic_bench_<hex>`` on ``--server``, dropped
WITH (FORCE) at the end, also on an error or Ctrl-C), migrates it with the product's
migrations and seeds it with the product's own operations: one therapist with 40 open
couples, a partner with an intake link, and a partner with a homework link and a daily
check-in assigned. It then starts two gunicorn servers with the same settings (2
workers, ``--worker-class sync`` by default: gunicorn's own default, and the README's
Deploying section asks for nothing else), one serving the clinic (bench/load_wsgi.py)
and one the bare baseline (bench/bare_app.py: Flask + Flask-SQLAlchemy, a template
that lists 40 rows), and drives them with wrk over loopback:

- bare:        GET the bare page of 40 rows (the baseline);
- dashboard:   GET /clinic/ as the logged-in therapist (40 couples);
- intake GET:  GET one intake page as the partner (their saved answers shown again);
- intake POST: POST the same page with its answers and ``action=next`` (a re-save of a
               draft page, answered 302 to the next page);
- check-in:    POST a homework check-in (each with its own ``client_key``, so each is
               stored: answered 302 to the homework page).

Before wrk runs, each request is made once from Python and its answer checked (the
status, and that the page is the one meant: 40 couples listed, the intake page with its
link reference, and so on). wrk sends the browser's session cookie and the same
User-Agent that logged in (the login's session protection is "strong"). The targets run
one after another in rounds, the order reversed every other round, so that a change in
the machine's load falls on all of them; after a short untimed warm-up of each.

Printed for each target: requests per second (all its runs together), p50 and p99
latency (the median of the runs' p50, the worst of their p99), the size of an answer,
the ratio of its throughput to the bare page's, and its errors: wrk's non-2xx/3xx
answers and socket errors, answers with another status than expected (a 200 where a 302
was due is an error), and failures in the servers' logs. After the runs the database is
checked: the audit chain verified, and the check-ins stored counted against the
answers. PASS or FAIL for the issue's targets (the dashboard at least 60% of the bare
page's throughput, on each database; no error at all); the exit status is 0 either way
unless something fails to work.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urljoin

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gunicorn  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bare_app import couple_names, seed_bare  # noqa: E402
from flask import Flask  # noqa: E402
from load_wsgi import (  # noqa: E402
    DATABASE_URL_ENV,
    ENCRYPTION_KEY_ENV,
    INSTANCE_PATH_ENV,
    SECRET_KEY_ENV,
    clinic_config,
)

from reconnect_clinic import migrate  # noqa: E402
from reconnect_clinic.demo import create_app  # noqa: E402

TARGET_RATIO = 0.60
COUPLES = 40
THERAPIST_EMAIL = "load.therapist@example.org"
THERAPIST_PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway account
# wrk and the Python client send the same one: Flask-Login's "strong" session protection
# ties a login to the address and the User-Agent it was made with.
USER_AGENT = "reconnect-clinic-bench-load/1"
WRK = "/usr/bin/wrk"
LUA = HERE / "load.lua"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HTTP_TIMEOUT = 30
TODAY = date.today()  # noqa: DTZ011 - the clinic's dates are in the therapist's own day


# --- databases ----------------------------------------------------------------------


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    clinic_url: str
    bare_url: str
    version: str


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[Database]:
    """SQLite files in ``tmp`` (removed with it)."""
    # Two files: the clinic's BEGIN IMMEDIATE transactions and the bare app's never meet.
    yield Database(
        "sqlite",
        f"sqlite:///{tmp / 'clinic.sqlite'}",
        f"sqlite:///{tmp / 'bare.sqlite'}",
        f"SQLite {sqlite3.sqlite_version}",
    )


@contextmanager
def postgresql_database(server_url: str) -> Iterator[Database]:
    """A new database on ``server_url``, dropped WITH (FORCE) however the block ends."""
    server = sa.engine.make_url(server_url)
    name = f"reconnect_clinic_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            # One database for both apps: the bare app's table has a name of its own.
            yield Database("postgresql", url, url, f"PostgreSQL {version}")
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


# --- seeding through the product's operations ----------------------------------------


@dataclass
class Seeded:
    intake_token: str
    homework_token: str
    assignment_id: uuid.UUID


def seed_clinic(app: Flask, count: int) -> Seeded:
    """One therapist with ``count`` open couples, an intake link for one partner, and a
    homework link and a daily check-in for another: as the therapist's clicks make them."""
    from reconnect_clinic.cases.operations import CaseDetails, PartnerDetails, open_case
    from reconnect_clinic.homework import library
    from reconnect_clinic.homework.operations import AssignmentDetails, assign
    from reconnect_clinic.security.accounts.therapists import create_therapist
    from reconnect_clinic.security.links.tokens import issue_link
    from reconnect_clinic.state import db_session, get_state

    with app.app_context():
        therapist = create_therapist(
            email=THERAPIST_EMAIL, display_name="Dr. Robin Load", password=THERAPIST_PASSWORD
        )
        couples = [
            open_case(
                therapist,
                CaseDetails(
                    label=label,
                    # The same statuses and dates as the bare app's rows.
                    status="paused" if n % 9 == 4 else "active",
                    opened_on=TODAY - timedelta(days=7 + 3 * n),
                    partner_a=PartnerDetails(first_a, last_a, f"a{n}@example.org"),
                    partner_b=PartnerDetails(first_b, last_b, f"b{n}@example.org"),
                ),
                today=TODAY,
            )
            for n, (label, first_a, last_a, first_b, last_b) in enumerate(couple_names(count))
        ]
        intake = issue_link(
            couples[0].partner_a, "intake", created_by=therapist, lifetime=timedelta(days=14)
        )
        homework = issue_link(
            couples[1].partner_a, "homework", created_by=therapist, lifetime=timedelta(days=90)
        )
        assignment = assign(
            couples[1],
            therapist,
            library.load().get("daily_check_in"),
            AssignmentDetails(
                "both", TODAY - timedelta(days=7), TODAY + timedelta(days=7), "daily", None, None
            ),
            get_state().taxonomy,
            exercise_ref="library:daily_check_in",
        )
        db_session().commit()
        seeded = Seeded(intake.token, homework.token, assignment.id)
        release(app)
    return seeded


def release(app: Flask) -> None:
    """Give back every connection of this process's app: on SQLite an open one could hold
    the write lock the servers need."""
    from reconnect_clinic.demo import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def page_answers(page_slug: str) -> dict[str, str]:
    """Complete, valid answers to one intake page, as a browser posts them."""
    from reconnect_clinic.intake.content import page_spec
    from reconnect_clinic.taxonomy import load

    values = {}
    for question in page_spec(load(), page_slug).questions:
        if question.kind == "radio":
            values[question.name] = question.choices[len(question.choices) // 2][0]
        elif question.kind == "checkbox":
            values[question.name] = "y"
        else:
            values[question.name] = "We mostly talk about logistics and want time together."
    return values


# --- servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerOptions:
    workers: int
    worker_class: str
    threads: int

    def describe(self) -> str:
        threads = f" x {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"{self.workers} {self.worker_class} workers{threads}"


class Server:
    """gunicorn serving ``app_spec`` from bench/, in its own process group."""

    def __init__(
        self,
        name: str,
        app_spec: str,
        ready_path: str,
        env: dict[str, str],
        log: Path,
        options: ServerOptions,
    ) -> None:
        self.name = name
        self.app_spec = app_spec
        self.ready_path = ready_path
        self.env = env
        self.log_path = log
        self.options = options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--workers={self.options.workers}",
            f"--worker-class={self.options.worker_class}",
            f"--threads={self.options.threads}",
            f"--bind=127.0.0.1:{self.port}",
            f"--chdir={HERE}",
            "--log-level=warning",
            "--graceful-timeout=5",
            self.app_spec,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one kill takes every worker
            )
        try:
            self._wait_until_ready()
        except BaseException:  # Ctrl-C included: __exit__ does not run when __enter__ fails
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn ({self.name}) exited at start:\n{self.log_tail()}")
            try:
                if requests.get(self.url + self.ready_path, timeout=10).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn ({self.name}) did not answer in 60 s:\n{self.log_tail()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def problems(self) -> list[str]:
        """Lines of the server's log that tell of a failure (a traceback, a lock error, a
        worker killed for taking too long)."""
        bad = re.compile(
            r"Traceback|database is locked|Internal Server Error|\[ERROR\]|WORKER TIMEOUT|"
            r"\[CRITICAL\]"
        )
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines() if bad.search(line)]


# --- what wrk sends -----------------------------------------------------------------


@dataclass
class Target:
    key: str
    label: str
    server: Server
    path: str
    method: str = "GET"
    expected: int = 200
    cookie: str | None = None
    body_file: Path | None = None

    def wrk_command(self, *, duration: float, connections: int, threads: int) -> list[str]:
        headers = ["-H", f"User-Agent: {USER_AGENT}"]
        if self.cookie:
            headers += ["-H", f"Cookie: session={self.cookie}"]
        return [
            WRK,
            f"--threads={min(threads, connections)}",
            f"--connections={connections}",
            f"--duration={max(1, round(duration))}s",
            "--timeout=10s",
            *headers,
            f"--script={LUA}",
            self.server.url + self.path,
            "--",
            str(self.expected),
            self.method,
            str(self.body_file) if self.body_file else "-",
            uuid.uuid4().hex[:10],  # the nonce: keys unique across runs too
        ]


def _browser() -> requests.Session:
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    return http


def _get(path_url: str, cookie: str) -> requests.Response:
    """A request as wrk makes it: nothing but the User-Agent and the session cookie."""
    return requests.get(
        path_url,
        headers={"User-Agent": USER_AGENT, "Cookie": f"session={cookie}"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )


def _expect(response: requests.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{what}: expected {status}, got {response.status_code}\n{response.text[:1500]}"
        )


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_LINK_REF = re.compile(r'name="link_ref" value="([^"]+)"')


def _found(pattern: re.Pattern[str], html: str, what: str) -> str:
    match = pattern.search(html)
    if not match:
        raise RuntimeError(f"{what} not found on the page")
    return match.group(1)


def prepare_targets(
    clinic: Server, bare: Server, seeded: Seeded, tmp: Path, intake_page: str
) -> list[Target]:
    """Log in and open the partners' links as browsers would, check one answer of each
    request, and return what wrk is to send."""
    from reconnect_clinic.intake.content import page_slugs, page_spec
    from reconnect_clinic.taxonomy import load

    base = clinic.url
    # The bare page lists its rows.
    page = requests.get(bare.url + "/bare/", timeout=HTTP_TIMEOUT)
    _expect(page, 200, "bare page")
    if page.text.count('<li class="case">') != COUPLES:
        raise RuntimeError(f"the bare page does not list {COUPLES} rows")
    targets = [Target("bare", f"bare page, {COUPLES} rows", bare, "/bare/")]

    # The therapist logs in; the dashboard lists the 40 couples.
    therapist = _browser()
    login = therapist.get(base + "/clinic/login", timeout=HTTP_TIMEOUT)
    _expect(login, 200, "login page")
    sent = therapist.post(
        base + "/clinic/login",
        data={
            "csrf_token": _found(_CSRF, login.text, "the login form's CSRF token"),
            "email": THERAPIST_EMAIL,
            "password": THERAPIST_PASSWORD,
        },
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    # Two-factor sign-in is off for a new account: the password alone logs in.
    _expect(sent, 302, "login")
    if not sent.headers["Location"].endswith("/clinic/"):
        raise RuntimeError(f"login led to {sent.headers['Location']}, not the dashboard")
    therapist_cookie = therapist.cookies["session"]
    dashboard = _get(base + "/clinic/", therapist_cookie)
    _expect(dashboard, 200, "dashboard")
    if dashboard.text.count('<li class="case">') != COUPLES:
        raise RuntimeError(f"the dashboard does not list {COUPLES} couples")
    targets.append(
        Target(
            "dashboard",
            f"dashboard, {COUPLES} couples",
            clinic,
            "/clinic/",
            cookie=therapist_cookie,
        )
    )

    # The intake partner opens their link, then sends one page with every answer.
    taxonomy = load()
    slugs = page_slugs(taxonomy)
    if intake_page not in slugs[:-1]:
        raise RuntimeError(f"--intake-page must be one of {', '.join(slugs[:-1])}")
    partner = _browser()
    opened = partner.get(
        f"{base}/clinic/i/{seeded.intake_token}", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    _expect(opened, 302, "opening the intake link")
    page_path = urljoin(opened.headers["Location"], intake_page)
    form = partner.get(base + page_path, allow_redirects=False, timeout=HTTP_TIMEOUT)
    _expect(form, 200, f"intake page {intake_page}")
    answers = page_answers(intake_page)
    body = urlencode(
        {**answers, "link_ref": _found(_LINK_REF, form.text, "link_ref"), "action": "next"}
    )
    saved = partner.post(
        base + page_path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    _expect(saved, 302, f"intake POST of {intake_page}")
    following = slugs[slugs.index(intake_page) + 1]
    if not saved.headers["Location"].endswith(f"/{following}"):
        raise RuntimeError(f"the intake POST led to {saved.headers['Location']}, not {following}")
    partner_cookie = partner.cookies["session"]
    shown = _get(base + page_path, partner_cookie)
    _expect(shown, 200, "intake page GET")
    title = page_spec(taxonomy, intake_page).title
    if title not in shown.text or "link_ref" not in shown.text or "checked" not in shown.text:
        raise RuntimeError("the intake page GET is not the page with its saved answers")
    intake_body = tmp / "intake_post.txt"
    intake_body.write_text(body)
    targets += [
        Target(
            "intake_get",
            f"intake page GET ({intake_page})",
            clinic,
            page_path,
            cookie=partner_cookie,
        ),
        Target(
            "intake_post",
            f"intake page POST ({intake_page})",
            clinic,
            page_path,
            method="POST",
            expected=302,
            cookie=partner_cookie,
            body_file=intake_body,
        ),
    ]

    # The homework partner opens their link and checks in once.
    partner = _browser()
    opened = partner.get(
        f"{base}/clinic/h/{seeded.homework_token}", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    _expect(opened, 302, "opening the homework link")
    mine = partner.get(base + opened.headers["Location"], timeout=HTTP_TIMEOUT)
    _expect(mine, 200, "homework page")
    check_in_path = f"{opened.headers['Location']}{seeded.assignment_id}/check-in"
    if f'action="{check_in_path}"' not in mine.text:
        raise RuntimeError("the homework page has no check-in form for the assignment")
    fields = {
        "link_ref": _found(_LINK_REF, mine.text, "link_ref"),
        "completion": "done",
        "helpfulness": "4",
        "reflection": "We managed it on most evenings; the phones stayed in the kitchen.",
        "client_key": "__UNIQUE__",
    }
    sample = partner.post(
        base + check_in_path,
        data={**fields, "client_key": secrets.token_urlsafe(24)},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    _expect(sample, 302, "check-in")
    if not sample.headers["Location"].startswith(opened.headers["Location"]):
        raise RuntimeError(f"the check-in led to {sample.headers['Location']}")
    flashed = _get(base + opened.headers["Location"], partner.cookies["session"])
    if "Check-in saved" not in flashed.text:
        raise RuntimeError("the check-in was not saved as a new one")
    check_in_body = tmp / "check_in.txt"
    check_in_body.write_text(urlencode(fields))
    targets.append(
        Target(
            "check_in",
            "homework check-in POST",
            clinic,
            check_in_path,
            method="POST",
            expected=302,
            cookie=partner.cookies["session"],
            body_file=check_in_body,
        )
    )
    return targets


# --- running wrk --------------------------------------------------------------------


@dataclass
class WrkRun:
    requests: int
    seconds: float
    bytes: int
    socket_errors: int
    non_2xx_3xx: int
    unexpected: int  # any status but the expected one, non-2xx/3xx included
    first_unexpected: int
    p50_ms: float
    p99_ms: float


_BENCH_LINE = re.compile(r"^BENCH (.*)$", re.M)


def run_wrk(target: Target, *, duration: float, connections: int, threads: int) -> WrkRun:
    """One run of wrk against ``target``, read from the line load.lua's done() prints."""
    command = target.wrk_command(duration=duration, connections=connections, threads=threads)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    match = _BENCH_LINE.search(done.stdout)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    values = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}
    return WrkRun(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        bytes=values["bytes"],
        socket_errors=sum(values[k] for k in ("connect", "read", "write", "timeout")),
        non_2xx_3xx=values["status"],
        unexpected=values["unexpected"],
        first_unexpected=values["first_unexpected"],
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
    )


@dataclass
class Measured:
    target: Target
    runs: list[WrkRun] = field(default_factory=list)
    warm_up: list[WrkRun] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.runs) / sum(r.seconds for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return max(r.p99_ms for r in self.runs)

    @property
    def answer_kb(self) -> float:
        return sum(r.bytes for r in self.runs) / max(1, sum(r.requests for r in self.runs)) / 1024

    def total(self, name: str) -> int:
        """An error count over every run, the warm-up's included."""
        return sum(getattr(r, name) for r in self.runs + self.warm_up)

    @property
    def errors(self) -> int:
        return self.total("socket_errors") + self.total("unexpected")

    @property
    def answered(self) -> int:
        """Answers with the expected status, the warm-up's included."""
        return sum(r.requests - r.unexpected for r in self.runs + self.warm_up)


@dataclass
class DatabaseResult:
    database: Database
    measured: list[Measured]
    round_ratios: list[float]
    problems: list[str]
    checks: list[tuple[bool, str]]

    def get(self, key: str) -> Measured:
        return next(m for m in self.measured if m.target.key == key)


def measure(
    targets: list[Target],
    *,
    rounds: int,
    duration: float,
    warm_up: float,
    connections: int,
    threads: int,
) -> tuple[list[Measured], list[float]]:
    """Warm every target up, then run each once per round; also return the dashboard's
    throughput over the bare page's for each round (the bare page is ``targets[0]``)."""
    measured = [Measured(t) for t in targets]
    for m in measured:
        if warm_up > 0:
            m.warm_up.append(
                run_wrk(m.target, duration=warm_up, connections=connections, threads=threads)
            )
    for n in range(rounds):
        # ABCDE then EDCBA: a drift of the machine's load falls on every target alike.
        for m in measured if n % 2 == 0 else measured[::-1]:
            m.runs.append(
                run_wrk(m.target, duration=duration, connections=connections, threads=threads)
            )
            print(".", end="", flush=True)
    bare = measured[0]
    dashboard = next(m for m in measured if m.target.key == "dashboard")
    ratios = [
        d.requests / d.seconds / (b.requests / b.seconds)
        for d, b in zip(dashboard.runs, bare.runs, strict=True)
    ]
    return measured, ratios


def check_database(app: Flask, measured: list[Measured]) -> list[tuple[bool, str]]:
    """What the load left in the database: the audit chain whole, every check-in kept."""
    from reconnect_clinic.models import HomeworkCheckIn
    from reconnect_clinic.security.audit.log import verify_chain
    from reconnect_clinic.state import db_session

    with app.app_context():
        checked, breaks = verify_chain()
        stored = db_session().scalar(sa.select(sa.func.count()).select_from(HomeworkCheckIn))
        db_session().rollback()
    release(app)
    check_in = next(m for m in measured if m.target.key == "check_in")
    # Requests still in flight when wrk stops are stored but not counted by wrk; the one
    # check-in sent from Python before the runs is stored too.
    counted = check_in.answered + 1
    return [
        (not breaks, f"audit chain: {checked:,} lines verified, {len(breaks)} breaks"),
        (
            stored >= counted,
            f"check-ins stored: {stored:,} (wrk counted {counted - 1:,} answered, "
            f"+1 sent before the runs)",
        ),
    ]


# --- one database kind --------------------------------------------------------------


def bench_database(database: Database, tmp: Path, args: argparse.Namespace) -> DatabaseResult:
    """Migrate and seed ``database``, serve both apps, measure, stop, check."""
    engine = sa.create_engine(database.clinic_url)
    migrate.upgrade(engine)
    engine.dispose()
    secret_key = secrets.token_urlsafe(32)
    encryption_key = base64.b64encode(secrets.token_bytes(32)).decode()
    instance = tmp / "instance"
    app = create_app(
        clinic_config(database.clinic_url, secret_key, encryption_key),
        instance_path=str(instance),
    )
    seeded = seed_clinic(app, COUPLES)
    seed_bare(database.bare_url, COUPLES, today=TODAY)

    options = ServerOptions(2, args.worker_class, args.threads)
    env = {
        SECRET_KEY_ENV: secret_key,
        ENCRYPTION_KEY_ENV: encryption_key,
        INSTANCE_PATH_ENV: str(instance),
    }
    with ExitStack() as servers:
        clinic = servers.enter_context(
            Server(
                "clinic",
                "load_wsgi:clinic()",
                "/clinic/login",
                {**env, DATABASE_URL_ENV: database.clinic_url},
                tmp / "clinic.log",
                options,
            )
        )
        bare = servers.enter_context(
            Server(
                "bare",
                "load_wsgi:bare()",
                "/bare/",
                {**env, DATABASE_URL_ENV: database.bare_url},
                tmp / "bare.log",
                options,
            )
        )
        try:
            targets = prepare_targets(clinic, bare, seeded, tmp, args.intake_page)
            measured, ratios = measure(
                targets,
                rounds=args.rounds,
                duration=args.duration,
                warm_up=args.warm_up,
                connections=args.connections,
                threads=args.wrk_threads,
            )
        except Exception:
            print(f"\nclinic server log:\n{clinic.log_tail()}\nbare server log:\n{bare.log_tail()}")
            raise
        servers.close()  # stop both before the checks: nothing writes any more
        problems = [f"clinic: {line}" for line in clinic.problems()]
        problems += [f"bare: {line}" for line in bare.problems()]
        if problems:
            print(f"\nclinic server log:\n{clinic.log_tail()}")
    checks = check_database(app, measured)
    return DatabaseResult(database, measured, ratios, problems, checks)


# --- the report ---------------------------------------------------------------------


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def print_report(
    results: list[DatabaseResult], args: argparse.Namespace, load_at_start: str
) -> None:
    """The settings, the table of figures, and PASS or FAIL for each database."""
    wrk_version = subprocess.run(
        [WRK, "--version"], capture_output=True, text=True, check=False
    ).stdout.split("\n")[0]
    options = ServerOptions(2, args.worker_class, args.threads)
    print()
    print("Load benchmark (bench/bench_load.py)")
    print(
        f"  machine: {os.cpu_count()} cores, load average (1/5/15 min) {load_at_start} at the "
        f"start, {load_average()} at the end; Python {platform.python_version()}"
    )
    print(
        f"  servers: gunicorn {gunicorn.__version__}, {options.describe()} each, "
        "no access log; the clinic and the bare page with the same settings"
    )
    print(
        f"  load: {' '.join(wrk_version.split()[:2])}, {args.wrk_threads} thread(s), "
        f"{args.connections} connections, loopback; {args.rounds} rounds of "
        f"{args.duration:g} s per target (order reversed every other round) after "
        f"{args.warm_up:g} s of warm-up each"
    )
    print("  rate limits: the product's defaults (they count failures only; none happen here)")
    print(
        "  req/s: all rounds together; p50: median of the rounds; p99: worst round; "
        "errors: socket errors + answers of another status than expected"
    )
    print()
    header = (
        f"  {'database':<11} {'what':<31} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'x bare':>7} {'KiB':>6} {'errors':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for result in results:
        bare = result.get("bare")
        for m in result.measured:
            print(
                f"  {result.database.kind:<11} {m.target.label:<31} {m.rps:8.1f} "
                f"{m.p50_ms:8.1f} {m.p99_ms:8.1f} {m.rps / bare.rps:7.2f} "
                f"{m.answer_kb:6.1f} {m.errors:7d}"
            )
        print(
            f"  {'':<11} {'(dashboard / bare, by round)':<31} "
            + " ".join(f"{r:.2f}" for r in result.round_ratios)
        )
        print(f"  {'':<11} {result.database.version}")
    print()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for result in results:
        kind = result.database.kind
        ratio = result.get("dashboard").rps / result.get("bare").rps
        print(
            f"  {verdict(ratio >= TARGET_RATIO)}  {kind}: dashboard at {ratio:.0%} of the bare "
            f"page's throughput (target >= {TARGET_RATIO:.0%})"
        )
        socket_errors = sum(m.total("socket_errors") for m in result.measured)
        non_2xx = sum(m.total("non_2xx_3xx") for m in result.measured)
        wrong = sum(m.total("unexpected") for m in result.measured) - non_2xx
        errors = socket_errors + non_2xx + wrong + len(result.problems)
        errors += sum(not ok for ok, _ in result.checks)
        print(
            f"  {verdict(errors == 0)}  {kind}: no errors ({non_2xx} non-2xx/3xx, "
            f"{socket_errors} socket errors, {wrong} other unexpected statuses, "
            f"{len(result.problems)} failures in the server logs)"
        )
        for m in result.measured:
            first = [r.first_unexpected for r in m.runs + m.warm_up if r.first_unexpected]
            if first:
                print(
                    f"        {m.target.label}: {m.total('unexpected')} answered "
                    f"{first[0]} instead of {m.target.expected}"
                )
        for line in result.problems[:10]:
            print(f"        {line}")
        for ok, text in result.checks:
            print(f"  {'ok  ' if ok else 'FAIL'}  {kind}: {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--duration", type=float, default=8, help="seconds of each timed run")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each target")
    parser.add_argument("--warm-up", type=float, default=2, help="untimed seconds first, each")
    parser.add_argument("--connections", type=int, default=4, help="wrk's open connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk's threads")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--intake-page", default="signs", help="the intake page to GET and POST")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server to use")
    args = parser.parse_args()
    if args.duration < 1 or args.rounds < 1 or args.connections < 1 or args.warm_up < 0:
        parser.error("--duration, --rounds and --connections must be at least 1")
    if args.threads > 1 and args.worker_class != "gthread":
        # gunicorn would quietly switch to gthread: say so rather than mislabel the figures.
        parser.error("--threads above 1 needs --worker-class gthread")
    if not shutil.which(WRK):
        parser.error(f"{WRK} is needed (Debian's wrk package)")

    # A SIGTERM ends the run as Ctrl-C does, through every cleanup (servers, databases).
    def interrupted(signum: int, frame: FrameType | None) -> Any:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    # Ctrl-C too, even when started with SIGINT ignored (as a shell's background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    load_at_start = load_average()
    results = []
    try:
        for kind in kinds:
            print(f"{kind}: migrating, seeding, starting the servers, measuring ", end="")
            print("", flush=True, end="")
            with tempfile.TemporaryDirectory(prefix=f"reconnect-load-{kind}-") as tmp_name:
                tmp = Path(tmp_name)
                maker = (
                    sqlite_database(tmp) if kind == "sqlite" else postgresql_database(args.server)
                )
                with maker as database:
                    results.append(bench_database(database, tmp, args))
            print(" done", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, databases removed")
        return 130
    print_report(results, args, load_at_start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
