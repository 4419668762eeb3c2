"""Session reports on the job queue (RQ, the real Redis): throughput, and the web meanwhile.

    .venv/bin/python bench/bench_queue.py [--reports N] [--workers 1,2,4] [--batch 200]
        [--db sqlite|postgresql] [--load-seconds S] [--nice 10] [--redis URL]

It makes a throwaway database (SQLite in a temporary folder, or a database on the
PostgreSQL ``--server``, dropped at the end), migrates it with the product's migrations
and seeds it as bench/bench_load.py does (one therapist, 40 couples), plus ``--reports``
sessions with signed notes spread over those couples (``--batch`` of them for the last
part). Then:

1. throughput: for each count of ``--workers``, that many ``flask clinic worker``
   processes (started and warm before the clock starts, as a practice runs them), and
   every report put on a queue of the run's own as one job; timed from the first job
   put on the queue to the last result back in this process. The stored reports are
   deleted before each round, so every round renders every report. For comparison, the
   in-process ``flask clinic render-reports --no-queue`` on the same reports (its time
   includes the command's own start and PDF warm-up, which a queue's workers pay once);
2. the web meanwhile: the dashboard (40 couples) served by gunicorn (2 sync workers, as
   bench_load.py), fetched by 4 clients in a loop for ``--load-seconds``, idle, then
   while 2 workers render a ``--batch``-report batch, once at ``--nice`` and (on
   PostgreSQL) once on Linux's idle scheduling class (``flask clinic worker --idle``).
   While a batch runs, its workers are stopped (SIGSTOP, with their PDF workers) every
   other ``--window`` seconds, so that the web is measured with and without the batch
   over the same minutes, and in idle rounds before and after: p50 and p99 of each; the
   issue's target (p99 no worse than 1.5x idle) is held against the quicker idle round
   beside the batch, and the ratio to the stopped windows printed beside it.

wrk is not needed here: the clients are Python threads with bench_load.py's requests
(the session cookie and User-Agent only). Everything it made is removed at the end: the
database, the queue and its jobs, the worker and server processes.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import redis  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bench_load import (  # noqa: E402
    _CSRF,
    COUPLES,
    DEFAULT_SERVER,
    HTTP_TIMEOUT,
    THERAPIST_EMAIL,
    THERAPIST_PASSWORD,
    TODAY,
    Database,
    Server,
    ServerOptions,
    _browser,
    _expect,
    _found,
    _get,
    load_average,
    postgresql_database,
    release,
    seed_clinic,
    sqlite_database,
)
from flask import Flask  # noqa: E402
from load_wsgi import (  # noqa: E402
    DATABASE_URL_ENV,
    ENCRYPTION_KEY_ENV,
    INSTANCE_PATH_ENV,
    SECRET_KEY_ENV,
    clinic_config,
)
from rq import Worker  # noqa: E402
from rq.job import Job, JobStatus  # noqa: E402
from rq.registry import FailedJobRegistry, FinishedJobRegistry  # noqa: E402

from reconnect_clinic import migrate  # noqa: E402
from reconnect_clinic.demo import create_app  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
CLIENTS = 4  # the default of --clients


def seed_sessions(app: Flask, count: int) -> list[uuid.UUID]:
    """``count`` sessions with signed notes, over the seeded couples, as a therapist's
    clicks make them (the note operations)."""
    from reconnect_clinic.models import Couple, Therapist, TherapySession
    from reconnect_clinic.notes.operations import save_note, sign_note
    from reconnect_clinic.state import db_session

    with app.app_context():
        session = db_session()
        therapist = session.scalar(sa.select(Therapist))
        couples = list(session.scalars(sa.select(Couple).order_by(Couple.label)))
        ids = []
        for n in range(count):
            therapy = TherapySession(
                couple=couples[n % len(couples)],
                therapist=therapist,
                held_on=TODAY - timedelta(days=n // len(couples)),
                duration_minutes=50,
            )
            session.add(therapy)
            session.flush()
            note = save_note(
                therapy,
                therapist,
                template="dap",
                content={
                    "sections": {
                        "data": f"Session {n}: both spoke about feeling far apart lately.",
                        "assessment": "Early work; warmth returning.",
                        "plan": "Daily check-in; next week the weekend plans.",
                    },
                    "interventions": ["improve_communication"],
                    "homework_reviewed": [],
                    "homework_assigned": [],
                    "risk": {"level": "none", "notes": ""},
                },
                based_on_version=None,
            )
            sign_note(note, therapist, based_on_version=note.version)
            ids.append(therapy.id)
        session.commit()
    release(app)
    return ids


def forget_stored_reports(app: Flask) -> None:
    """Every stored report deleted, so the next round renders every report again."""
    from reconnect_clinic.models import StoredReport
    from reconnect_clinic.state import db_session

    with app.app_context():
        db_session().execute(sa.delete(StoredReport))
        db_session().commit()
    release(app)


class Workers:
    """``count`` ``flask clinic worker`` processes on ``queue_name``, warm when entered."""

    def __init__(
        self,
        count: int,
        env: dict[str, str],
        redis_url: str,
        queue_name: str,
        log: Path,
        priority: list[str],
    ) -> None:
        self.count, self.env, self.redis_url = count, env, redis_url
        self.queue_name, self.log, self.priority = queue_name, log, priority
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Workers:
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "load_wsgi:clinic()",
            "clinic",
            "worker",
            "--url",
            self.redis_url,
            "--queue",
            self.queue_name,
            *self.priority,
        ]
        with self.log.open("ab") as log:
            for _ in range(self.count):
                self.processes.append(
                    subprocess.Popen(
                        command,
                        cwd=HERE,
                        env={**os.environ, **self.env},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_listening(self) -> None:
        # A worker registers in Redis once its PDF workers are warm (worker_command).
        connection = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"a worker exited at start:\n{self.log.read_text()[-3000:]}")
            listening = [
                w for w in Worker.all(connection=connection) if self.queue_name in w.queue_names()
            ]
            if len(listening) >= self.count:
                return
            time.sleep(0.2)
        raise RuntimeError("the workers did not start in 120 s")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                # Resumed first: a worker left stopped by an interrupted pause would
                # never act on SIGTERM (its PDF workers sit in sessions of their own).
                for pid in process_tree(process.pid):
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def put_on_queue(app: Flask, session_ids: list[uuid.UUID]) -> list[str]:
    """One session-report job per session (what ``render-reports --queue`` does)."""
    from reconnect_clinic.tasks import jobs, queue

    with app.app_context():
        rq_queue = queue.get_queue()
        return [
            str(queue.submit("session-report", jobs.session_report_job, (str(s),), queue=rq_queue))
            for s in session_ids
        ]


def wait_for(connection: Any, job_ids: list[str]) -> int:
    """Wait until every job has ended; the failures. Each ended job is deleted."""
    waiting = set(job_ids)
    failures = 0
    while waiting:
        for job in Job.fetch_many(sorted(waiting), connection=connection):
            if job is None:
                continue
            status = job.get_status(refresh=False)
            if status in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED):
                failures += status != JobStatus.FINISHED
                waiting.discard(job.id)
                job.delete()
        if waiting:
            time.sleep(0.05)
    return failures


def throughput(
    app: Flask,
    session_ids: list[uuid.UUID],
    counts: list[int],
    env: dict[str, str],
    args: argparse.Namespace,
    tmp: Path,
) -> list[tuple[str, float, int]]:
    connection = redis.Redis.from_url(args.redis)
    rows = []
    for count in counts:
        forget_stored_reports(app)
        name = app.config["RECONNECT_CLINIC_TASK_QUEUE_NAME"]
        with Workers(count, env, args.redis, name, tmp / "workers.log", []):
            started = time.perf_counter()
            failures = wait_for(connection, put_on_queue(app, session_ids))
            seconds = time.perf_counter() - started
        rows.append((f"{count} RQ worker{'s' * (count > 1)}", len(session_ids) / seconds, failures))
        print(f"  {rows[-1][0]}: {rows[-1][1]:.2f} reports/s ({seconds:.1f} s)", flush=True)
    # The in-process command on the same reports, for comparison.
    forget_stored_reports(app)
    out = tmp / "in-process"
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "load_wsgi:clinic()",
            "clinic",
            "render-reports",
            "--since",
            # The seeded sessions are 40 a day back from today: these are the round's.
            (TODAY - timedelta(days=(len(session_ids) - 1) // COUPLES)).isoformat(),
            "--out",
            str(out),
            "--no-queue",
        ],
        cwd=HERE,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    written = len(list(out.iterdir())) if out.exists() else 0
    failed = int(done.returncode != 0)
    rows.append((f"render-reports --no-queue, {written} reports", written / seconds, failed))
    print(f"  {rows[-1][0]}: {rows[-1][1]:.2f} reports/s ({seconds:.1f} s)", flush=True)
    return rows


def login(base: str) -> str:
    """The therapist's session cookie, as bench_load.py's prepare_targets signs in."""
    therapist = _browser()
    page = therapist.get(base + "/clinic/login", timeout=HTTP_TIMEOUT)
    _expect(page, 200, "login page")
    sent = therapist.post(
        base + "/clinic/login",
        data={
            "csrf_token": _found(_CSRF, page.text, "the login form's CSRF token"),
            "email": THERAPIST_EMAIL,
            "password": THERAPIST_PASSWORD,
        },
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    _expect(sent, 302, "login")
    cookie = str(therapist.cookies["session"])
    dashboard = _get(base + "/clinic/", cookie)
    _expect(dashboard, 200, "dashboard")
    if dashboard.text.count('<li class="case">') != COUPLES:
        raise RuntimeError(f"the dashboard does not list {COUPLES} couples")
    return cookie


def timed_get(url: str, cookie: str) -> tuple[bool, float]:
    """One dashboard request: whether it answered 200, and its seconds."""
    started = time.perf_counter()
    try:
        ok = _get(url, cookie).status_code == 200
    except requests.RequestException:
        ok = False
    return ok, time.perf_counter() - started


def dashboard_latencies(
    url: str,
    cookie: str,
    seconds: float,
    until: threading.Event | None = None,
    clients: int = CLIENTS,
) -> tuple[list[float], int]:
    """Seconds per dashboard answer from ``clients`` threads, each asking again as soon
    as it has its answer (for ``seconds``, or until ``until`` is set); and the errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop and not (until is not None and until.is_set()):
            ok, took = timed_get(url, cookie)
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (read from /proc), parents first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [root]
    while waiting:
        pid = waiting.pop(0)
        found.append(pid)
        waiting.extend(children.get(pid, []))
    return found


class Pauser:
    """Stops and resumes the workers' processes (each worker and its PDF workers)."""

    def __init__(self, workers: Workers) -> None:
        self.workers = workers
        self.stopped: list[int] = []

    def stop(self) -> None:
        # Listed again until nothing new is found: a PDF worker started while the tree
        # was being stopped would otherwise run through a "stopped" window.
        while True:
            found = [
                pid
                for process in self.workers.processes
                for pid in process_tree(process.pid)
                if pid not in self.stopped
            ]
            if not found:
                return
            for pid in found:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
                self.stopped.append(pid)

    def resume(self) -> None:
        # Children first, so that no worker wakes to find its PDF worker stopped.
        for pid in reversed(self.stopped):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.stopped = []


def batch_under_load(
    connection: Any,
    queue_name: str,
    job_ids: list[str],
    url: str,
    cookie: str,
    limit: float,
    clients: int,
    pauser: Pauser,
    window: float,
) -> tuple[dict[bool, list[float]], int, float, int]:
    """The dashboard's latencies while the jobs run, in windows of ``window`` seconds
    that alternate between the batch running and the batch stopped (SIGSTOP), as
    ``{running: latencies}``; an answer that spans a change of window counts as running.
    Also the errors, the batch's seconds and its failures. The clients stop when the last
    job ends, or after ``limit`` seconds.

    Interleaved windows compare the web with and without the batch over the same minutes:
    on a shared virtual machine an idle round before and after drifts by more than the
    effect measured."""
    started = time.perf_counter()
    done = threading.Event()
    ended: dict[str, float] = {}
    state = {"window": 0, "running": True}
    lock = threading.Lock()
    by_state: dict[bool, list[float]] = {True: [], False: []}
    errors = [0]
    spanning = [0]
    stop_at = time.monotonic() + limit

    def watch() -> None:
        # Counted from the queue's registries, two cheap calls a second: fetching every
        # waiting job (wait_for) several times a second took the GIL from the clients
        # in this process and slowed the answers they timed.
        finished = FinishedJobRegistry(queue_name, connection=connection)
        failed = FailedJobRegistry(queue_name, connection=connection)
        while finished.count + failed.count < len(job_ids):
            time.sleep(0.5)
        ended["seconds"] = time.perf_counter() - started
        done.set()
        ended["failures"] = wait_for(connection, job_ids)  # and deletes each job

    def alternate() -> None:
        try:
            while not done.wait(window):
                with lock:
                    if state["running"]:
                        pauser.stop()
                    else:
                        pauser.resume()
                    state["running"] = not state["running"]
                    state["window"] += 1
        finally:
            with lock:
                pauser.resume()

    def client() -> None:
        while time.monotonic() < stop_at and not done.is_set():
            with lock:
                window_at_start, running = state["window"], state["running"]
            ok, took = timed_get(url, cookie)
            with lock:
                if not ok:
                    errors[0] += 1
                elif state["window"] == window_at_start:
                    by_state[running].append(took)
                else:
                    # Spanning a change of window: counted with the batch running, the
                    # side it harms (dropping them would drop the slowest answers most).
                    by_state[True].append(took)
                    spanning[0] += 1

    threads = [threading.Thread(target=watch), threading.Thread(target=alternate)]
    threads += [threading.Thread(target=client) for _ in range(clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads[2:]:
            thread.join()
        if not done.is_set():
            print(f"  (the batch outlasted {limit:g} s of load; the rest ran unloaded)")
        threads[0].join()
    finally:
        done.set()
        threads[1].join()  # it resumes the workers as it ends
        pauser.resume()  # should it not have started
    print(f"  {spanning[0]} answers spanned a change of window (counted as running)", flush=True)
    return by_state, errors[0], ended["seconds"], int(ended["failures"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def web_meanwhile(
    app: Flask,
    batch: list[uuid.UUID],
    env: dict[str, str],
    database: Database,
    args: argparse.Namespace,
    tmp: Path,
) -> list[tuple[str, float, float, int, int]]:
    connection = redis.Redis.from_url(args.redis)
    forget_stored_reports(app)
    rows = []
    options = ServerOptions(2, "sync", 1)
    server_env = {**env, DATABASE_URL_ENV: database.clinic_url}
    with ExitStack() as stack:
        server = stack.enter_context(
            Server(
                "clinic",
                "load_wsgi:clinic()",
                "/clinic/login",
                server_env,
                tmp / "web.log",
                options,
            )
        )
        cookie = login(server.url)
        # Warm-up, not counted: a shorter one left the first idle round's p99 inflated.
        dashboard_latencies(server.url + "/clinic/", cookie, args.load_seconds)
        idle, errors = dashboard_latencies(
            server.url + "/clinic/", cookie, args.load_seconds, clients=args.clients
        )
        rows.append(("idle", percentile(idle, 0.5), percentile(idle, 0.99), len(idle), errors))
        name = app.config["RECONNECT_CLINIC_TASK_QUEUE_NAME"]
        # The same batch twice, its stored reports forgotten in between: the workers at
        # a lower nice, then on Linux's idle scheduling class (worker --idle).
        priorities = {f"nice {args.nice}": ["--nice", str(args.nice)]}
        if args.db == "postgresql":  # the worker refuses --idle on SQLite (its write lock)
            priorities["--idle"] = ["--idle"]
        for label, priority in priorities.items():
            forget_stored_reports(app)
            with Workers(
                args.batch_workers, env, args.redis, name, tmp / "workers.log", priority
            ) as workers:
                job_ids = put_on_queue(app, batch)
                by_state, errors, seconds, failures = batch_under_load(
                    connection,
                    name,
                    job_ids,
                    server.url + "/clinic/",
                    cookie,
                    20 * args.load_seconds,
                    args.clients,
                    Pauser(workers),
                    args.window,
                )
                if not by_state[False]:
                    raise SystemExit(
                        f"the batch ended within one {args.window:g} s window: nothing to "
                        "compare; give a larger --batch or a smaller --window"
                    )
                for running, what in ((True, "running"), (False, "stopped, between")):
                    rows.append(
                        (
                            f"{args.batch_workers} workers {label}, batch {what}",
                            percentile(by_state[running], 0.5),
                            percentile(by_state[running], 0.99),
                            len(by_state[running]),
                            errors if running else 0,  # errors are not told apart
                        )
                    )
            after, errors = dashboard_latencies(
                server.url + "/clinic/", cookie, args.load_seconds, clients=args.clients
            )
            rows.append(
                (
                    "idle again, after it",
                    percentile(after, 0.5),
                    percentile(after, 0.99),
                    len(after),
                    errors,
                )
            )
            print(
                f"  the {len(batch)}-report batch: {len(batch) / seconds:.2f} reports/s on "
                f"{args.batch_workers} "
                f"workers {label} ({seconds:.1f} s, {failures} failed; stopped every "
                f"other {args.window:g} s window), the dashboard loaded all the while",
                flush=True,
            )
        problems = server.problems()
        if problems:
            print("  web log problems:", *problems[:10], sep="\n    ")
    return rows


@contextmanager
def the_database(kind: str, tmp: Path, server_url: str) -> Iterator[Database]:
    if kind == "sqlite":
        with sqlite_database(tmp) as database:
            yield database
    else:
        with postgresql_database(server_url) as database:
            yield database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=40, help="reports per throughput round")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, e.g. 1,2,4")
    parser.add_argument("--batch", type=int, default=200, help="the batch beside the web")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--load-seconds", type=float, default=15.0)
    parser.add_argument("--nice", type=int, default=10, help="the workers' nice beside the web")
    parser.add_argument(
        "--clients", type=int, default=CLIENTS, help="dashboard clients, each in a closed loop"
    )
    parser.add_argument(
        "--batch-workers", type=int, default=2, help="RQ workers rendering the batch"
    )
    parser.add_argument(
        "--window",
        type=float,
        default=3.0,
        help="seconds of each window, the batch running or stopped, while it runs",
    )
    parser.add_argument("--skip-web", action="store_true", help="throughput only")
    args = parser.parse_args()
    if not 0.5 <= args.window <= 8:
        # A stopped render counts against the PDF timeout (20 s by default).
        parser.error("--window must be between 0.5 and 8 seconds")
    counts = [int(n) for n in args.workers.split(",") if n]
    redis.Redis.from_url(args.redis).ping()

    with tempfile.TemporaryDirectory(prefix="bench-queue-") as folder:
        tmp = Path(folder)
        with the_database(args.db, tmp, args.server) as database:
            engine = sa.create_engine(database.clinic_url)
            migrate.upgrade(engine)
            engine.dispose()
            secret_key = secrets.token_urlsafe(32)
            encryption_key = base64.b64encode(secrets.token_bytes(32)).decode()
            instance = tmp / "instance"
            queue_name = f"reconnect-clinic-bench-{uuid.uuid4().hex[:8]}"
            app = create_app(
                {
                    **clinic_config(database.clinic_url, secret_key, encryption_key),
                    "RECONNECT_CLINIC_TASK_QUEUE": args.redis,
                    "RECONNECT_CLINIC_TASK_QUEUE_NAME": queue_name,
                },
                instance_path=str(instance),
            )
            env = {
                SECRET_KEY_ENV: secret_key,
                ENCRYPTION_KEY_ENV: encryption_key,
                INSTANCE_PATH_ENV: str(instance),
                DATABASE_URL_ENV: database.clinic_url,
            }
            seed_clinic(app, COUPLES)
            session_ids = seed_sessions(app, max(args.reports, args.batch))
            print(
                f"bench_queue: {database.version}, Redis {args.redis}, {os.cpu_count()} cores, "
                f"load {load_average()}; {args.reports} reports per round",
                flush=True,
            )
            try:
                rows = throughput(app, session_ids[: args.reports], counts, env, args, tmp)
                web = []
                if not args.skip_web:
                    web = web_meanwhile(app, session_ids[: args.batch], env, database, args, tmp)
            finally:
                connection = redis.Redis.from_url(args.redis)
                for key in connection.scan_iter(f"rq:*{queue_name}*"):
                    connection.delete(key)
                release(app)
    print(f"\nThroughput, {args.reports} session reports (load now {load_average()}):")
    print(f"  {'':38} {'reports/s':>9} {'failed':>6}")
    for label, rate, failed in rows:
        print(f"  {label:38} {rate:9.2f} {failed:6d}")
    if web:
        print(
            f"\nThe dashboard ({COUPLES} couples, {args.clients} clients, "
            f"{args.load_seconds:g} s idle):"
        )
        print(f"  {'':38} {'p50 ms':>7} {'p99 ms':>7} {'answers':>7} {'errors':>6}")
        for label, p50, p99, answers, errors in web:
            print(f"  {label:38} {p50 * 1000:7.0f} {p99 * 1000:7.0f} {answers:7d} {errors:6d}")
        # The target: each batch against idle, the quicker of the idle rounds before and
        # after it (the strict reading). Beside it, against its own stopped windows.
        for index, (label, _, p99, _, _) in enumerate(web):
            if not label.endswith("batch running"):
                continue
            idle_p99 = min(web[index - 1][2], web[index + 2][2])
            ratio = p99 / idle_p99
            verdict = "PASS" if ratio <= 1.5 else "FAIL"
            mode = label.rsplit(", ", 1)[0]
            print(
                f"  p99 with the batch running / idle ({mode}; idle {idle_p99 * 1000:.0f} ms): "
                f"{ratio:.2f}x (<= 1.5x): {verdict}"
            )
            print(
                f"    the same / its stopped windows: {p99 / web[index + 1][2]:.2f}x "
                "(the CPU the batch takes while it runs)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
