"""Shared fixtures: a migrated test database (SQLite by default, PostgreSQL when
``RECONNECT_CLINIC_TEST_DATABASE_URL`` is set), the standalone app, clients and factories.

On PostgreSQL the suite creates databases of its own on that server and drops them at
the end, so it leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.demo_data import seed_demo
from reconnect_clinic.models import metadata
from reconnect_clinic.reports import pdf
from reconnect_clinic.security.audit.sql_rules import create_statements, drop_statements
from reconnect_clinic.state import get_state
from tests import factories
from tests.helpers import (
    CHROMIUM,
    SERVER_URL,
    TEST_KEYS,
    FreshContextClient,
)

# Screenshots of the pages of a browser test that failed.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_report_header(config: pytest.Config) -> str:
    if SERVER_URL:
        return f"reconnect_clinic database: PostgreSQL ({make_url(SERVER_URL).host})"
    return "reconnect_clinic database: SQLite (RECONNECT_CLINIC_TEST_DATABASE_URL unset)"


class DatabaseFactory:
    """Makes empty databases of the configured kind and removes them afterwards."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self._dropped: list[Callable[[], None]] = []

    def create(self) -> str:
        if not SERVER_URL:
            return f"sqlite:///{self.tmp_dir / f'clinic-{uuid.uuid4().hex[:8]}.sqlite'}"
        server = make_url(SERVER_URL)
        if not server.drivername.startswith("postgresql"):
            raise pytest.UsageError("RECONNECT_CLINIC_TEST_DATABASE_URL must be PostgreSQL")
        name = f"reconnect_clinic_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()

        def drop() -> None:
            engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()

        self._dropped.append(drop)
        return server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for drop in self._dropped:
            drop()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: DatabaseFactory) -> str:
    """One database for the session, migrated to head through the real migrations."""
    url = databases.create()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def session_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": "clinic.test",
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
        },
        instance_path=str(tmp_path_factory.mktemp("instance")),
    )
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture
def app(session_app: Flask) -> Iterator[Flask]:
    """The standalone app, with every clinic table emptied after each test."""
    with session_app.app_context():
        yield session_app
        state = get_state()
        state.login_limiter.reset()  # failure counts never carry over between tests
        state.bad_link_limiter.reset()
        demo_db.session.remove()
        empty_tables(demo_db.engine)


def empty_tables(engine: sa.Engine) -> None:
    """Delete every clinic row, setting the audit log's append-only rule aside for the
    moment (tests only: the product never removes audit lines)."""
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for statement in drop_statements(dialect):
            connection.exec_driver_sql(statement)
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        for statement in create_statements(dialect):
            connection.exec_driver_sql(statement)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class TestCliRunner:
    """Flask's CLI runner, ending the test's own transaction first (as the test client
    does): on SQLite that transaction holds the write lock the command needs."""

    def __init__(self, app: Flask) -> None:
        self.runner = app.test_cli_runner()

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            get_state().db.session.commit()
        return self.runner.invoke(*args, **kwargs)


@pytest.fixture
def cli(app: Flask) -> TestCliRunner:
    return TestCliRunner(app)


@pytest.fixture
def live(
    request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[Any, Flask]]:
    """A real gunicorn server (not started yet) on a fresh migrated database, and an app
    of the test's own on that database to seed and check with (tests/live_server.py).
    Serving HTTPS with a certificate of its own when the test asks for it:
    ``@pytest.mark.parametrize("live", ["https"], indirect=True)``."""
    from tests.live_server import LiveServer, local_app, migrated

    scheme = getattr(request, "param", "http")
    assert scheme in ("http", "https"), scheme
    url = migrated(databases.create())
    seeding = local_app(url, tmp_path / "local")
    server = LiveServer(url, tmp_path, tls=scheme == "https")
    yield server, seeding
    server.stop()
    with seeding.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


@pytest.fixture
def make() -> Any:
    """Factories for therapists, couples and sessions (see tests/factories.py)."""
    return factories


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    """Keep each phase's report on the test item, so fixtures can tell a failed test
    (the browser tests save screenshots then)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def pdf_app() -> Iterator[Flask]:
    """A bare Flask app with two PDF workers configured: the PDF layer's tests need no
    clinic, database or keys."""
    app = Flask(__name__)
    app.config["RECONNECT_CLINIC_PDF_WORKERS"] = 2
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def pdf_workers() -> Iterator[None]:
    """Both PDF workers started in parallel, once for the module that asks, and stopped
    after it."""
    pdf.warm_up(2)
    yield
    pdf.shutdown()


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Flask]]:
    """The standalone app served on localhost in a thread, on a fresh migrated database
    (for the browser tests)."""
    url = databases.create()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "SQLALCHEMY_DATABASE_URI": url,
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
        },
        instance_path=str(tmp_path_factory.mktemp("browser-instance")),
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()
    with app.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; the test is skipped, with the
    reason, where either is missing (never a browser download)."""
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium); "
            ".ci/run installs it"
        )
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[list[Any]]:
    """Pages to photograph if the test fails (saved under test-artifacts/)."""
    pages: list[Any] = []
    yield pages
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(pages):
            with contextlib.suppress(Exception):  # a closed page has nothing left to show
                page.screenshot(
                    path=str(ARTIFACTS / f"{request.node.name}-{index}.png"), full_page=True
                )


# --- the seeded demo (tests/test_demo.py, test_ratings_demo.py, test_change_display.py) --


@pytest.fixture(scope="module")
def seeded(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One database (SQLite, or PostgreSQL when configured) migrated and seeded once with
    the demo, shared by the tests of a module: seeding renders and keeps the signed reports."""
    url = databases.create()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
        },
        instance_path=str(tmp_path_factory.mktemp("demo-instance")),
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        assert seed_demo()
        demo_db.session.commit()
        demo_db.session.remove()
    yield app
    with app.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


@pytest.fixture
def demo(seeded: Flask) -> Iterator[Flask]:
    with seeded.app_context():
        yield seeded
        demo_db.session.rollback()
        demo_db.session.remove()
