"""How the therapist's pages hold up as the practice grows: figures, printed.

    .venv/bin/python bench/bench_scale.py [--db sqlite|postgresql] [--runs N] [--warm-up W]
        [--tier 50] [--closed-per-therapist C] [--server URL]

It builds two practices with bench/generate_practice.py, each in a throwaway database:
the small one, a tenth of the data (one therapist's caseload), and the full one, the
issue's realistic practice (ten therapists, each with 40 active couples and a history
of closed ones, 12 sessions, intakes and homework per couple); ``--tier 50`` adds a
practice of fifty therapists. Generation is seeded per therapist, so the first
therapist, and their first couple, are the same in every tier: the same caseload and
the same history, with only the rest of the practice around them growing.

Logged in as that therapist with the Flask test client (each request in a fresh
context, as in production), it then times, in every tier:

- the dashboard (``/clinic/``: the therapist's open cases),
- the couple's page (``/clinic/couples/<id>``: intake, sessions, homework),
- the progress report's HTML preview (``/clinic/couples/<id>/progress-report``),
- the progress report's PDF (``.../progress-report.pdf``: built and rendered fresh),

the median of ``--runs`` requests after ``--warm-up`` untimed ones; the tiers' requests
alternate, so that a change of the machine's load falls on all of them. It counts the
SQL statements of each page (``before_cursor_execute`` on the engine, leaving out BEGIN
and PRAGMA) in every tier.
The issue's target: each page at most 1.3 times as slow in the full practice as in the
small one, with the same number of statements. PASS or FAIL is printed; the exit status
is 0 either way unless something fails to work.

SQLite databases are files in a temporary folder. ``--db postgresql`` creates databases
on the server (``--server``, default ``RECONNECT_CLINIC_TEST_DATABASE_URL`` or the local
one) and drops them ``WITH (FORCE)`` at the end, also when something fails.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import platform
import re
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from generate_practice import (  # noqa: E402
    BASE_THERAPISTS,
    DEFAULT_CLOSED,
    PASSWORD,
    PracticeSummary,
    generate_practice,
    make_app,
)
from sqlalchemy import event  # noqa: E402

from reconnect_clinic import migrate  # noqa: E402

TARGET_RATIO = 1.3
NOT_COUNTED = ("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")  # see count_statements
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Page:
    name: str
    path: str  # with {couple} for the couple's id
    pdf: bool = False


PAGES = (
    Page("dashboard", "/clinic/"),
    Page("couple page", "/clinic/couples/{couple}"),
    Page("progress report (HTML)", "/clinic/couples/{couple}/progress-report"),
    Page("progress report (PDF)", "/clinic/couples/{couple}/progress-report.pdf", pdf=True),
)


@dataclass
class Tier:
    """One practice: its database, its app, a logged-in client, and what was measured."""

    label: str
    therapists: int
    app: Flask
    summary: PracticeSummary
    client: Any = None
    statements: list[str] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)

    def url(self, page: Page) -> str:
        return page.path.format(couple=self.summary.featured_couple_id)

    def get(self, url: str) -> Any:
        # Each request in a fresh context, as in production (not in this one).
        return contextvars.Context().run(self.client.get, url)


def ms(seconds: float) -> float:
    return seconds * 1000


@contextmanager
def sqlite_database(tmp: Path, name: str) -> Iterator[str]:
    yield f"sqlite:///{tmp / f'{name}.sqlite'}"


@contextmanager
def postgresql_database(server: str, name: str) -> Iterator[str]:
    """A new database on ``server``, dropped WITH (FORCE) afterwards, whatever happens."""
    server_url = sa.make_url(server)
    database = f"reconnect_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        try:
            yield server_url.set(database=database).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        admin.dispose()


def build_tier(
    label: str, therapists: int, url: str, instance: Path, *, closed: int, today: date
) -> Tier:
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    app = make_app(url, str(instance))
    print(f"  building the {label} practice...", flush=True)
    summary = generate_practice(
        app, therapists=therapists, closed_per_therapist=closed, today=today
    )
    return Tier(label=label, therapists=therapists, app=app, summary=summary)


def log_in(tier: Tier) -> None:
    client = tier.app.test_client()
    tier.client = client
    page = tier.get("/clinic/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, "the login page has no CSRF token"
    response = contextvars.Context().run(
        client.post,
        "/clinic/login",
        data={
            "csrf_token": token.group(1),
            "email": tier.summary.featured_email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.status_code


def count_statements(tier: Tier) -> None:
    """The SQL statements of one request to each page, as sent, leaving out transaction
    control and connection settings (SQLite's ``BEGIN`` and ``PRAGMA``): they depend on
    the pooled connection a request is handed, not on the page."""
    with tier.app.app_context():
        from reconnect_clinic.demo import db

        engine = db.engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            tier.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for page in PAGES:
            tier.statements.clear()
            response = tier.get(tier.url(page))
            assert response.status_code == 200, (page.name, response.status_code)
            tier.queries[page.name] = len(tier.statements)
    finally:
        event.remove(engine, "before_cursor_execute", record)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def measure(tiers: list[Tier], runs: int, warm_up: int) -> None:
    for tier in tiers:
        for page in PAGES:
            tier.times[page.name] = []
            for _ in range(warm_up):
                assert tier.get(tier.url(page)).status_code == 200
    for run in range(runs):
        # Alternating, so that a change of the machine's load falls on every tier; in
        # turn first and last, so that none always follows the heavy PDF render.
        order = tiers if run % 2 == 0 else tiers[::-1]
        for page in PAGES:
            for tier in order:
                seconds, response = timed(lambda t=tier, p=page: t.get(t.url(p)))
                assert response.status_code == 200, (tier.label, page.name)
                if page.pdf:
                    assert response.data.startswith(b"%PDF-"), page.name
                tier.times[page.name].append(seconds)


def featured_shape(tier: Tier) -> str:
    """What the measured couple and therapist hold, so a reader sees they are the same."""
    from reconnect_clinic.models import (
        CaseStatus,
        Couple,
        HomeworkAssignment,
        HomeworkCheckIn,
        IntakeResponse,
        Partner,
        Therapist,
        TherapySession,
    )
    from reconnect_clinic.state import db_session

    couple_id = tier.summary.featured_couple_id
    with tier.app.app_context():
        session = db_session()
        therapist_id = session.scalar(
            sa.select(Therapist.id).where(Therapist.email == tier.summary.featured_email)
        )

        def count(query: Any) -> int:
            return session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0

        open_cases = count(
            sa.select(Couple.id).where(
                Couple.therapist_id == therapist_id, Couple.status != CaseStatus.CLOSED.value
            )
        )
        sessions = count(sa.select(TherapySession.id).where(TherapySession.couple_id == couple_id))
        assignments = count(
            sa.select(HomeworkAssignment.id).where(HomeworkAssignment.couple_id == couple_id)
        )
        check_ins = count(
            sa.select(HomeworkCheckIn.id)
            .join(HomeworkAssignment)
            .where(HomeworkAssignment.couple_id == couple_id)
        )
        intakes = count(
            sa.select(IntakeResponse.id)
            .join(Partner, Partner.id == IntakeResponse.partner_id)
            .where(Partner.couple_id == couple_id)
        )
        session.rollback()
    return (
        f"{open_cases} open cases on the dashboard; the couple: {sessions} sessions, "
        f"{intakes} intakes, {assignments} assignments, {check_ins} check-ins"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--server",
        default=os.environ.get("RECONNECT_CLINIC_TEST_DATABASE_URL") or LOCAL_SERVER,
        help="PostgreSQL server URL for --db postgresql (its databases are made there)",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page and tier")
    parser.add_argument("--warm-up", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "--tier",
        type=int,
        action="append",
        default=[],
        metavar="THERAPISTS",
        help="also measure a practice of this many therapists (e.g. --tier 50)",
    )
    parser.add_argument("--closed-per-therapist", type=int, default=DEFAULT_CLOSED)
    args = parser.parse_args()
    if args.runs < 1 or args.warm_up < 0:
        parser.error("--runs must be at least 1 and --warm-up at least 0")
    sizes = [("small", 1), ("full", BASE_THERAPISTS)]
    sizes += [(f"{n} therapists", n) for n in args.tier if n not in (1, BASE_THERAPISTS)]
    today = date.today()  # noqa: DTZ011 - one day for every tier, so their histories match

    # A SIGTERM (a `timeout`, say) ends the run as Ctrl-C does, through every cleanup:
    # the PostgreSQL databases are dropped.
    def interrupted(signum: int, frame: FrameType | None) -> Any:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    kind = "PostgreSQL" if args.db == "postgresql" else "SQLite"
    print(f"Scale benchmark (bench/bench_scale.py), {kind}")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="reconnect-scale-")))
        tiers = []
        for label, therapists in sizes:
            name = label.split()[0]
            database = (
                postgresql_database(args.server, name)
                if args.db == "postgresql"
                else sqlite_database(tmp, name)
            )
            url = stack.enter_context(database)
            tier = build_tier(
                label,
                therapists,
                url,
                tmp / f"instance-{name}",
                closed=args.closed_per_therapist,
                today=today,
            )
            stack.callback(_dispose, tier.app)
            tiers.append(tier)
        from reconnect_clinic.reports import pdf as render

        stack.callback(render.shutdown)
        for tier in tiers:
            log_in(tier)
            count_statements(tier)
        measure(tiers, args.runs, args.warm_up)
        shapes = [featured_shape(tier) for tier in tiers]
        report(tiers, shapes, args, kind)
    return 0


def _dispose(app: Flask) -> None:
    with app.app_context():
        from reconnect_clinic.demo import db

        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def report(tiers: list[Tier], shapes: list[str], args: argparse.Namespace, kind: str) -> None:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"  machine: {os.cpu_count()} cores, load average {load} (1/5/15 min), "
        f"Python {platform.python_version()}, {kind}"
    )
    for tier, shape in zip(tiers, shapes, strict=True):
        s = tier.summary
        audit = s.rows.get("clinic_audit_event", 0)
        print(
            f"  {tier.label:>14}: {s.therapists} therapist{'s' if s.therapists != 1 else ''}, "
            f"{s.couples} couples, "
            f"{s.total_rows:,} rows ({s.total_rows - audit:,} without the audit log), "
            f"generated in {s.seconds:.0f} s"
        )
        print(f"  {'':>14}  measured: {shape}")
    if len(set(shapes)) != 1:
        print("  NOTE  the measured therapist or couple differ between tiers")
    print(
        f"  {args.runs} timed requests per page and tier, alternating, after "
        f"{args.warm_up} warm-up requests; medians"
    )
    print()
    small, *others = tiers
    header = f"  {'page':<24} {small.label:>9}"
    for tier in others:
        header += f" {tier.label:>14} {'ratio':>6}"
    header += f"  {'queries':>14}  verdict"
    print(header)
    for page in PAGES:
        base = statistics.median(small.times[page.name])
        line = f"  {page.name:<24} {ms(base):7.1f}ms"
        ratios = []
        for tier in others:
            median = statistics.median(tier.times[page.name])
            ratios.append(median / base)
            line += f" {ms(median):12.1f}ms {median / base:5.2f}x"
        counts = [tier.queries[page.name] for tier in tiers]
        line += f"  {' / '.join(map(str, counts)):>14}"
        same = len(set(counts)) == 1
        full_ratio = ratios[0]
        ok = full_ratio <= TARGET_RATIO and same
        line += f"  {'PASS' if ok else 'FAIL'}"
        print(line)
    print()
    print(f"  target: full / small <= {TARGET_RATIO} for each page, with the same number of")
    print("  statements in every tier (as sent, BEGIN and PRAGMA left out; on PostgreSQL")
    print("  each audit line takes an advisory lock, one statement more)")


if __name__ == "__main__":
    sys.exit(main())
