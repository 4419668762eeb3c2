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
from tests.helpers import TEST_KEYS, csrf_from, link_ref_from
from tests.referrer_policy import form_post_headers

ROOT = Path(__file__).resolve().parent.parent
REDACTING_LOGGER = "reconnect_clinic.security.links.gunicorn_logging.RedactingLogger"
SECRET_KEY = "live-server-tests"
TIMEOUT = 60  # seconds for one request; a healthy one takes milliseconds
# The header tests/live_wsgi.py adds to every answer: the pid of the worker that gave it.
WORKER_HEADER = "X-Live-Worker"


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


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key (PEM files in ``directory``) for 127.0.0.1 and localhost,
    made here with ``cryptography``, valid for a day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reconnect-clinic test server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]  # (host, port) for an IPv4 socket
        return port


class LiveServer:
    """gunicorn with ``workers`` processes of ``threads`` threads each, as a practice would
    run it; started, killed and started again by the tests."""

    def __init__(
        self,
        database_url: str,
        tmp: Path,
        *,
        workers: int = 2,
        threads: int = 8,
        env: dict[str, str] | None = None,
        tls: bool = False,
    ):
        self.database_url = database_url
        self.tmp = tmp
        self.workers = workers
        self.threads = threads
        # More of the server's environment (read by tests/live_wsgi.py), e.g.
        # LIVE_RATELIMIT_STORAGE_URI; may be set until start().
        self.env: dict[str, str] = dict(env or {})
        self.log_path = tmp / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None
        # One address for the server's whole life: clients carry on after a restart.
        self.port = _free_port()
        # With ``tls``, gunicorn itself serves HTTPS, with a certificate made for the test;
        # clients check the server against it (``verify``).
        self.certificate = self_signed_certificate(tmp / "tls") if tls else None
        self.verify: str | bool = str(self.certificate[0]) if self.certificate else True
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        port = self.port
        env = {
            **os.environ,
            "LIVE_SECRET_KEY": SECRET_KEY,
            "LIVE_DATABASE_URL": self.database_url,
            "LIVE_ENCRYPTION_KEYS": json.dumps(TEST_KEYS),
            "LIVE_ENCRYPTION_KEY_ID": "k1",
            "LIVE_INSTANCE_PATH": str(self.tmp / "instance"),
            **({"RECONNECT_CLINIC_DEMO_SECURE_COOKIES": "1"} if self.certificate else {}),
            **self.env,
        }
        tls = (
            [f"--certfile={self.certificate[0]}", f"--keyfile={self.certificate[1]}"]
            if self.certificate
            else []
        )
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
                    # The access log, through the logger README tells practices to use,
                    # which keeps partners' link tokens out of it.
                    "--access-logfile=-",
                    f"--logger-class={REDACTING_LOGGER}",
                    *tls,
                    "tests.live_wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill takes every worker
            )
        # Ready when every worker has answered: the first can serve while a second is
        # still importing, and a test of what the workers share needs both taking requests.
        answered: set[str] = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_text()}")
            try:
                probe = requests.get(
                    f"{self.url}/clinic/login",
                    # A new connection each time, so that any ready worker may take it.
                    headers={"Connection": "close"},
                    timeout=10,
                    verify=self.verify,
                )
                worker = probe.headers.get(WORKER_HEADER)
                if probe.status_code == 200 and worker is not None:
                    answered.add(worker)
                    if len(answered) >= self.workers:
                        return
            except requests.RequestException:
                pass  # not listening yet, or a worker's first request still starting up
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{len(answered)} of {self.workers} gunicorn workers answered within 90 s:\n"
            f"{self.log_text()}"
        )

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
    """A therapist's browser against the live server, logged in. Like a browser, it posts
    each form with the ``Referer`` and ``Origin`` that the ``Referrer-Policy`` of the page
    it last fetched allows (tests/referrer_policy.py): over HTTPS the server checks them.
    ``verify`` is the server's certificate for an HTTPS server (``LiveServer.verify``)."""

    def __init__(
        self, server_url: str, email: str, password: str, *, verify: str | bool = True
    ) -> None:
        self.url = server_url
        self.http = requests.Session()
        # Given on each request: a session's own ``verify`` yields to REQUESTS_CA_BUNDLE.
        self.verify = verify
        self.page: requests.Response | None = None
        page = self.get("/clinic/login")
        sent = self.post(
            "/clinic/login",
            {"csrf_token": csrf_from(page.text), "email": email, "password": password},
        )
        assert sent.status_code == 302, sent.text[:500]

    def get(self, path: str) -> requests.Response:
        response = self.http.get(
            f"{self.url}{path}", allow_redirects=False, timeout=TIMEOUT, verify=self.verify
        )
        if not response.is_redirect and "text/html" in response.headers.get("Content-Type", ""):
            self.page = response  # the page on screen, whose forms the next posts send
        return response

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        target = f"{self.url}{path}"
        headers = {}
        if self.page is not None:
            headers = form_post_headers(
                self.page.headers.get("Referrer-Policy"), self.page.url, target
            )
        return self.http.post(
            target,
            data=data,
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT,
            verify=self.verify,
        )
