"""A real server for the tests that need one: gunicorn, in its own process group, serving
the standalone app (``tests/live_wsgi.py``) on a database of the suite's kind; and HTTP
clients that behave as a partner's or a therapist's browser would.

The test process uses an app of its own, on the same database, to seed and to check what
was stored; it never holds a transaction open while the server works (on SQLite a
transaction holds the write lock).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from tests.conftest import TEST_KEYS, csrf_from, link_ref_from

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "live-server-tests"
TIMEOUT = 60  # seconds for one request; a healthy one takes milliseconds


def migrated(url: str) -> str:
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def local_app(database_url: str, instance: Path) -> Flask:
    """The app the test process seeds and checks with: configured as the server's."""
    return create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
            "RECONNECT_CLINIC_ADMINS_SEE_ALL_CASES": True,
        },
        instance_path=str(instance),
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """gunicorn with ``workers`` processes of ``threads`` threads each, as a practice would
    run it; started, killed and started again by the tests."""

    def __init__(self, database_url: str, tmp: Path, *, workers: int = 2, threads: int = 8):
        self.database_url = database_url
        self.tmp = tmp
        self.workers = workers
        self.threads = threads
        self.log_path = tmp / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None
        # One address for the server's whole life: clients carry on after a restart.
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        port = self.port
        env = {
            **os.environ,
            "LIVE_SECRET_KEY": SECRET_KEY,
            "LIVE_DATABASE_URL": self.database_url,
            "LIVE_ENCRYPTION_KEYS": json.dumps(TEST_KEYS),
            "LIVE_ENCRYPTION_KEY_ID": "k1",
            "LIVE_INSTANCE_PATH": str(self.tmp / "instance"),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    f"--workers={self.workers}",
                    f"--threads={self.threads}",
                    f"--bind=127.0.0.1:{port}",
                    "--timeout=120",
                    "--graceful-timeout=5",
                    # The partners' clients keep their connections open (as browsers do)
                    # and some sit idle while their other link's requests run. gunicorn
                    # closes an idle one after 2 s by default, and a request sent as it
                    # closes is lost ("Remote end closed connection without response"):
                    # a race of the test's clients, which browsers retry on their own.
                    "--keep-alive=120",
                    "tests.live_wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill takes every worker
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_text()}")
            try:
                if requests.get(f"{self.url}/clinic/login", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet, or a worker's first request still starting up
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within 60 s:\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: no shutdown code runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def problems_in_log(self) -> list[str]:
        """Lines of the server's log that tell of a failure."""
        bad = re.compile(r"Traceback|database is locked|Internal Server Error|\[ERROR\]")
        return [line for line in self.log_text().splitlines() if bad.search(line)]


class LivePartner:
    """A partner's browser against the live server: opens their link, then reads and sends
    their pages as the forms would."""

    def __init__(self, server_url: str, token: str, purpose: str = "intake") -> None:
        self.http = requests.Session()
        opened = self.http.get(
            f"{server_url}/clinic/{purpose[0]}/{token}", allow_redirects=False, timeout=TIMEOUT
        )
        assert opened.status_code == 302, (opened.status_code, opened.text[:500])
        self.base = urljoin(server_url + "/", opened.headers["Location"]).rstrip("/")

    def get(self, page: str = "") -> requests.Response:
        return self.http.get(f"{self.base}/{page}", allow_redirects=False, timeout=TIMEOUT)

    def post_page(self, page: str, values: dict[str, str]) -> requests.Response:
        ref = link_ref_from(self.get(page).text)
        return self.http.post(
            f"{self.base}/{page}",
            data={**values, "link_ref": ref, "action": "next"},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def check_in_form(self, assignment_id: Any, **fields: str) -> dict[str, str]:
        """The check-in form for one assignment, filled in: its fresh client key and the
        page's link reference included, ready to send (and to send again)."""
        page = self.get().text
        key = re.search(
            rf'action="[^"]*/{assignment_id}/check-in".*?name="client_key" type="hidden" '
            rf'value="([^"]+)"',
            page,
            re.S,
        )
        assert key, "no check-in form for the assignment"
        return {
            "completion": "done",
            "helpfulness": "4",
            "client_key": key.group(1),
            "link_ref": link_ref_from(page),
            **fields,
        }

    def check_in(self, assignment_id: Any, form: dict[str, str]) -> requests.Response:
        return self.http.post(
            f"{self.base}/{assignment_id}/check-in",
            data=form,
            allow_redirects=False,
            timeout=TIMEOUT,
        )


class LiveTherapist:
    """A therapist's browser against the live server, logged in."""

    def __init__(self, server_url: str, email: str, password: str) -> None:
        self.url = server_url
        self.http = requests.Session()
        page = self.http.get(f"{server_url}/clinic/login", timeout=TIMEOUT)
        sent = self.http.post(
            f"{server_url}/clinic/login",
            data={"csrf_token": csrf_from(page.text), "email": email, "password": password},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert sent.status_code == 302, sent.text[:500]

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.url}{path}", allow_redirects=False, timeout=TIMEOUT)

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        return self.http.post(
            f"{self.url}{path}", data=data, allow_redirects=False, timeout=TIMEOUT
        )
