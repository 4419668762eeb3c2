"""The first PDF of a new web process, the number of PDF workers, and memory: figures,
printed.

    .venv/bin/python bench/bench_first_pdf.py [--rounds R] [--warm N] [--workers 1,2,3]
        [--clients C] [--renders M]

It seeds the demo practice (``seed_demo``) in a throwaway SQLite database and serves it
with a real gunicorn (``bench/load_wsgi.py``), the therapist logged in over HTTP, and
measures, in this one run:

1. The first PDF after a fresh worker start (the progress report of the Rivera–Chen
   couple: three charts), against the same PDF asked for again (``--warm`` times,
   median), for three ways of starting: no warm-up at all (``RECONNECT_CLINIC_PDF_WARM_UP``
   off); gunicorn's hook (``-c python:reconnect_clinic.gunicorn_hooks``); and the lazy
   background warm-up alone (on: started by the first request, here the login page; the
   PDF asked for right after signing in, the least time it can have, and again
   ``PAUSE_SECONDS`` after signing in, as after a dashboard and a couple's page). One gunicorn
   worker, so that the first PDF is that worker's first; the modes alternate round by
   round, a new server each time. Target: the first PDF at most 1.5x a warm one.
2. RSS and PSS (``/proc/<pid>/smaps_rollup``) of the gunicorn master, of each web worker
   and of each of its PDF workers, after the warm renders (hook mode).
3. ``RECONNECT_CLINIC_PDF_WORKERS`` 1, 2 and 3 (``--workers``) with two gunicorn
   workers (``gthread``, 4 threads each, as a practice of a few therapists would run on
   2 cores), the hook warming each: ``--clients`` concurrent therapists each asking for
   ``--renders`` PDFs (a new server per setting, settings alternating round by round).
   Printed: PDFs per second, and the median and p90 of a PDF's answer.

Figures depend on the machine's load (printed with them); compare within a run. Exit
status 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bench_load import Server, ServerOptions  # noqa: E402
from load_wsgi import (  # noqa: E402
    DATABASE_URL_ENV,
    ENCRYPTION_KEY_ENV,
    INSTANCE_PATH_ENV,
    PDF_WARM_UP_ENV,
    PDF_WORKERS_ENV,
    SECRET_KEY_ENV,
    clinic_config,
)

from reconnect_clinic import migrate  # noqa: E402
from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD  # noqa: E402

TARGET_FIRST_RATIO = 1.5
HOOK_CONFIG = "python:reconnect_clinic.gunicorn_hooks"
ENGINE_MODULE = "reconnect_clinic.reports.pdf.engine"
MODES = {
    "no warm-up": {PDF_WARM_UP_ENV: "off"},
    "gunicorn hook": {PDF_WARM_UP_ENV: "off", "GUNICORN_CMD_ARGS": f"--config={HOOK_CONFIG}"},
    "lazy warm-up (first request)": {PDF_WARM_UP_ENV: "on"},
    "lazy warm-up, PDF after a pause": {PDF_WARM_UP_ENV: "on"},
}
# The lazy warm-up's second figure: the PDF asked for this long after signing in (a
# therapist opens the dashboard and a couple's page first).
PAUSE_SECONDS = 10.0
# Failures in the servers' logs during part 3, printed at the end.
PROBLEMS: list[str] = []


def ms(seconds: float) -> float:
    return seconds * 1000


def p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


@dataclass
class Practice:
    env: dict[str, str]
    pdf_path: str


@contextmanager
def practice() -> Iterator[Practice]:
    """The demo practice in a throwaway SQLite database, and the server's environment."""
    from reconnect_clinic.demo import create_app, db
    from reconnect_clinic.demo_data import seed_demo
    from reconnect_clinic.models import Couple

    with tempfile.TemporaryDirectory(prefix="reconnect-first-pdf-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'clinic.sqlite'}"
        engine = sa.create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        secret, key = secrets.token_hex(16), b64encode(os.urandom(32)).decode()
        instance = str(Path(tmp) / "instance")
        app = create_app(clinic_config(url, secret, key), instance_path=instance)
        with app.app_context():
            seed_demo()
            db.session.commit()  # the seed's operations flush; the caller commits
            couple = db.session.scalars(
                sa.select(Couple).where(Couple.label == "Rivera–Chen")
            ).one()
            path = f"/clinic/couples/{couple.id}/progress-report.pdf"
            db.session.remove()
            db.engine.dispose()
        yield Practice(
            env={
                DATABASE_URL_ENV: url,
                SECRET_KEY_ENV: secret,
                ENCRYPTION_KEY_ENV: key,
                INSTANCE_PATH_ENV: instance,
            },
            pdf_path=path,
        )


def signed_in(server_url: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{server_url}/clinic/login", timeout=60)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, "the login page has no CSRF token"
    answer = http.post(
        f"{server_url}/clinic/login",
        data={"csrf_token": token.group(1), "email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 302, answer.status_code
    return http


def get_pdf(http: requests.Session, url: str) -> float:
    started = time.perf_counter()
    answer = http.get(url, timeout=120)
    seconds = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    assert answer.content.startswith(b"%PDF-"), answer.content[:20]
    return seconds


# --- processes and memory ----------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def is_pdf_worker(pid: int) -> bool:
    try:
        return ENGINE_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def memory_mib(pid: int) -> tuple[float, float]:
    """RSS and PSS of ``pid``, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name] = int(rest.split()[0]) / 1024
    return values["Rss"], values["Pss"]


def server(practice: Practice, tmp: Path, extra: dict[str, str], options: ServerOptions) -> Server:
    return Server(
        "clinic",
        "load_wsgi:clinic()",
        "/clinic/login",
        {**practice.env, **extra},
        tmp / "gunicorn.log",
        options,
    )


# --- 1. the first PDF ----------------------------------------------------------------------


Memory = dict[str, list[tuple[float, float]]]


def first_pdf(
    practice: Practice, tmp: Path, rounds: int, warm: int
) -> tuple[dict[str, dict[str, list[float]]], Memory]:
    results: dict[str, dict[str, list[float]]] = {
        mode: {"first": [], "warm": [], "ready": []} for mode in MODES
    }
    memory: Memory = {"master": [], "web": [], "pdf": []}
    one_worker = ServerOptions(workers=1, worker_class="sync", threads=1)
    modes = list(MODES)
    for round_number in range(rounds):
        for mode in reversed(modes) if round_number % 2 else modes:
            started = time.perf_counter()
            # Server waits until the login page answers (the lazy warm-up's first request).
            with server(practice, tmp, MODES[mode], one_worker) as running:
                results[mode]["ready"].append(time.perf_counter() - started)
                http = signed_in(running.url)
                url = running.url + practice.pdf_path
                if mode.endswith("after a pause"):
                    time.sleep(PAUSE_SECONDS)
                results[mode]["first"].append(get_pdf(http, url))
                again = [get_pdf(http, url) for _ in range(warm)]
                results[mode]["warm"].append(statistics.median(again))
                if mode == "gunicorn hook" and running.process is not None:
                    master = running.process.pid
                    memory["master"].append(memory_mib(master))
                    for web in children(master):
                        memory["web"].append(memory_mib(web))
                        for child in children(web):
                            if is_pdf_worker(child):
                                memory["pdf"].append(memory_mib(child))
    return results, memory


# --- 3. PDF workers per web process -----------------------------------------------------------


def at_once(sessions: list[requests.Session], url: str, renders: int) -> tuple[float, list[float]]:
    """Each session asks for ``renders`` PDFs, all sessions at once: the seconds it took
    and each PDF's answer time."""
    start = threading.Barrier(len(sessions))
    latencies: list[float] = []
    failed: list[int] = []
    lock = threading.Lock()

    def therapist(http: requests.Session) -> None:
        start.wait()
        for _ in range(renders):
            try:
                seconds = get_pdf(http, url)
            except AssertionError:  # an error answer: counted by the caller from the log
                failed.append(1)
                continue
            with lock:
                latencies.append(seconds)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        list(pool.map(therapist, sessions))
    return time.perf_counter() - began, latencies


def pdf_workers(
    practice: Practice, tmp: Path, settings: list[int], rounds: int, clients: int, renders: int
) -> dict[int, dict[str, list[float]]]:
    results: dict[int, dict[str, list[float]]] = {
        n: {"rate": [], "latency": [], "errors": []} for n in settings
    }
    options = ServerOptions(workers=2, worker_class="gthread", threads=4)
    for round_number in range(rounds):
        for n in reversed(settings) if round_number % 2 else settings:
            extra = {
                PDF_WORKERS_ENV: str(n),
                PDF_WARM_UP_ENV: "off",
                "GUNICORN_CMD_ARGS": f"--config={HOOK_CONFIG}",
            }
            with server(practice, tmp, extra, options) as running:
                url = running.url + practice.pdf_path
                sessions = [signed_in(running.url) for _ in range(clients)]
                for http in sessions:  # both workers answered, and warm
                    get_pdf(http, url)
                elapsed, latencies = at_once(sessions, url, renders)
                results[n]["rate"].append(len(latencies) / elapsed)
                results[n]["latency"] += latencies
                results[n]["errors"].append(clients * renders - len(latencies))
                PROBLEMS.extend(f"PDF workers {n}: {line}" for line in running.problems()[:5])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="servers started per mode")
    parser.add_argument("--warm", type=int, default=5, help="warm PDFs after the first")
    parser.add_argument("--workers", default="1,2,3", help="PDF workers settings to compare")
    parser.add_argument("--clients", type=int, default=4, help="concurrent therapists")
    parser.add_argument("--renders", type=int, default=6, help="PDFs per therapist")
    args = parser.parse_args()
    settings = [int(n) for n in args.workers.split(",") if n]
    if args.rounds < 1 or args.warm < 1 or not settings or min(settings) < 1:
        parser.error("--rounds, --warm and every --workers setting must be at least 1")

    with practice() as seeded, tempfile.TemporaryDirectory(prefix="reconnect-gunicorn-") as tmp:
        first, memory = first_pdf(seeded, Path(tmp), args.rounds, args.warm)
        loads = os.getloadavg()
        scaling = pdf_workers(seeded, Path(tmp), settings, args.rounds, args.clients, args.renders)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    import gunicorn

    print("First PDF, PDF workers and memory (bench/bench_first_pdf.py)")
    print(
        f"  machine: {os.cpu_count()} cores, load average {' / '.join(f'{x:.2f}' for x in loads)} "
        f"after part 1, {load} at the end; Python {platform.python_version()}, "
        f"gunicorn {gunicorn.__version__}"
    )
    print(
        f"  the progress report's PDF (three charts), {args.rounds} servers per mode, "
        f"{args.warm} warm PDFs each"
    )
    print()
    print(
        f"  {'1. a fresh worker':<32} {'ready':>9} {'first PDF':>11} {'warm PDF':>10} "
        f"{'first/warm':>11}"
    )
    ratios = {}
    for mode in MODES:
        figures = first[mode]
        ratio = statistics.median(
            [f / w for f, w in zip(figures["first"], figures["warm"], strict=True)]
        )
        ratios[mode] = ratio
        print(
            f"  {mode:<32} {ms(statistics.median(figures['ready'])):7.0f}ms "
            f"{ms(statistics.median(figures['first'])):9.0f}ms "
            f"{ms(statistics.median(figures['warm'])):8.0f}ms {ratio:10.2f}x"
        )
    print("  (ready: from starting gunicorn to its first answer; the hook runs before it)")
    print()
    print(f"  {'2. memory (hook mode)':<32} {'RSS':>9} {'PSS':>9}   (MiB, median of each kind)")
    for kind, label in (
        ("master", "gunicorn master"),
        ("web", "web worker"),
        ("pdf", "PDF worker"),
    ):
        pairs = memory[kind]
        if pairs:
            print(
                f"  {label:<32} {statistics.median(p[0] for p in pairs):9.1f} "
                f"{statistics.median(p[1] for p in pairs):9.1f}   ({len(pairs)} measured)"
            )
    print()
    print(
        f"  3. PDF workers per web process: 2 gthread workers x 4 threads, {args.clients} "
        f"therapists at once, {args.renders} PDFs each"
    )
    print(
        f"  {'RECONNECT_CLINIC_PDF_WORKERS':<32} {'PDFs/s':>9} {'median':>9} {'p90':>9} "
        f"{'errors':>7}"
    )
    best = max(settings, key=lambda n: statistics.median(scaling[n]["rate"]))
    for n in settings:
        rate = statistics.median(scaling[n]["rate"])
        latency = scaling[n]["latency"]
        mark = "  <- best" if n == best else ""
        print(
            f"  {n:<32} {rate:9.2f} {ms(statistics.median(latency)):7.0f}ms "
            f"{ms(p90(latency)):7.0f}ms {sum(scaling[n]['errors']):7.0f}{mark}"
        )
    for line in PROBLEMS:
        print(f"  server log: {line}")
    print()
    for mode in MODES:
        verdict = "PASS" if ratios[mode] <= TARGET_FIRST_RATIO else "FAIL"
        print(
            f"  {verdict}  {mode}: first PDF {ratios[mode]:.2f}x a warm one "
            f"<= {TARGET_FIRST_RATIO}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
