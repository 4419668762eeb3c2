"""A host app with Flask-Migrate keeps the clinic's tables out of its own Alembic history.

The host here has a model of its own and Flask-Migrate, mounts the clinic and runs the
clinic's migrations; then its own ``flask db init``, ``flask db migrate``, ``flask db
upgrade`` and ``flask db check`` run as a host developer would run them. With the
clinic's filter (reconnect_clinic.alembic_filter) the host's revision holds the host's
table and nothing of the clinic's; without it, the same autogenerate proposes to drop
every clinic table (the control that shows the filter is what makes the difference).

SQLite by default; PostgreSQL when RECONNECT_CLINIC_TEST_DATABASE_URL is set (a database
of its own, dropped at the end).
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reconnect_clinic import ReconnectClinic
from reconnect_clinic.alembic_filter import (
    clinic_table_names,
    exclude_clinic_tables,
    include_name,
    include_object,
)
from reconnect_clinic.migrate import VERSION_TABLE
from reconnect_clinic.models import metadata as clinic_metadata
from tests.helpers import TEST_KEYS

flask_migrate = pytest.importorskip("flask_migrate")

# Flask-Migrate's generated env.py tries Flask-SQLAlchemy's deprecated get_engine() first.
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")

HOST_TABLE = "host_post"
HOST_INDEX = "ix_host_post_title"


def _host_app(database_url: str, migrations: Path, *, filtered: bool) -> Flask:
    """A host app as a developer writes one: its own model and Flask-Migrate."""

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    class Post(db.Model):  # type: ignore[name-defined]
        __tablename__ = HOST_TABLE
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(sa.String(200), index=True)

    app = Flask("host", root_path=str(migrations.parent))
    app.config.update(
        SECRET_KEY="host-secret",
        SQLALCHEMY_DATABASE_URI=database_url,
        RECONNECT_CLINIC_ENCRYPTION_KEYS=TEST_KEYS,
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
    )
    db.init_app(app)
    filters = exclude_clinic_tables() if filtered else {}
    flask_migrate.Migrate(app, db, directory=str(migrations), **filters)
    ReconnectClinic().init_app(app, db=db)
    return app


@contextmanager
def _logging_kept() -> Iterator[None]:
    """Flask-Migrate's env.py runs logging.config.fileConfig(alembic.ini), which replaces
    the root logger's handlers and disables every logger it does not name; put the test
    process's logging back afterwards, for the tests that run after these."""
    root = logging.getLogger()
    root_state = (root.level, list(root.handlers))
    loggers = {
        name: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.setLevel(root_state[0])
        root.handlers[:] = root_state[1]
        for name, (disabled, level, handlers, propagate) in loggers.items():
            logger = logging.getLogger(name)
            logger.disabled = disabled
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate


def _flask(app: Flask, *args: str) -> Any:
    """Run ``flask <args>`` against ``app``, then close its connections."""
    with _logging_kept():
        result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        for engine in app.extensions["sqlalchemy"].engines.values():
            engine.dispose()
    return result


_QUOTED = re.compile(r"""['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")


def _names_in(revision: Path) -> set[str]:
    """Every quoted identifier in a generated revision: the tables, indexes and columns
    its operations name (and its revision ids, which mention no table)."""
    return set(_QUOTED.findall(revision.read_text()))


class HostRun:
    """What a host developer's commands produced, for the tests to look at.

    Each command gets an app of its own, as each ``flask ...`` is a process of its own
    (Flask-Migrate's env.py keeps state on the app between commands)."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.migrations = tmp / "host" / "migrations"
        self.migrations.parent.mkdir(parents=True)

        def flask(*args: str) -> Any:
            return _flask(_host_app(database_url, self.migrations, filtered=True), *args)

        self.clinic_upgrade = flask("clinic", "db-upgrade")
        self.init = flask("db", "init")
        self.migrate = flask("db", "migrate", "-m", "host tables")
        self.revisions = sorted((self.migrations / "versions").glob("*.py"))
        self.upgrade = flask("db", "upgrade")
        self.check = flask("db", "check")
        engine = sa.create_engine(database_url)
        self.tables = set(sa.inspect(engine).get_table_names())
        engine.dispose()

        # The control: the same host without the filter, from a copy of its migrations
        # (already at head, so autogenerate should find nothing left to do).
        unfiltered = tmp / "unfiltered" / "migrations"
        shutil.copytree(self.migrations, unfiltered)

        def flask_unfiltered(*args: str) -> Any:
            return _flask(_host_app(database_url, unfiltered, filtered=False), *args)

        self.unfiltered_check = flask_unfiltered("db", "check")
        self.unfiltered_migrate = flask_unfiltered("db", "migrate", "-m", "unfiltered")
        host_names = {path.name for path in self.revisions}
        self.unfiltered_revisions = sorted(
            path for path in (unfiltered / "versions").glob("*.py") if path.name not in host_names
        )

    @property
    def revision(self) -> Path:
        """The host's one revision."""
        assert len(self.revisions) == 1, self.revisions
        return self.revisions[0]

    @property
    def unfiltered_revision(self) -> Path:
        """The one revision the control's autogenerate wrote."""
        assert len(self.unfiltered_revisions) == 1, self.unfiltered_revisions
        return self.unfiltered_revisions[0]


@pytest.fixture(scope="module")
def host(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> HostRun:
    return HostRun(tmp_path_factory.mktemp("host_migrate"), databases.create())


def test_the_clinics_migrations_ran_in_the_host(host: HostRun) -> None:
    assert host.clinic_upgrade.exit_code == 0, host.clinic_upgrade.output


def test_the_clinics_tables_outlive_the_hosts_upgrade(host: HostRun) -> None:
    assert clinic_table_names() - host.tables == set()


def test_the_hosts_autogenerate_ran(host: HostRun) -> None:
    assert host.init.exit_code == 0, host.init.output
    assert host.migrate.exit_code == 0, host.migrate.output


def test_the_hosts_revision_creates_the_hosts_table(host: HostRun) -> None:
    assert HOST_TABLE in _names_in(host.revision)


def test_the_hosts_revision_creates_the_hosts_index(host: HostRun) -> None:
    assert HOST_INDEX in _names_in(host.revision)


def test_the_hosts_revision_names_nothing_of_the_clinics(host: HostRun) -> None:
    clinic_names = sorted(name for name in _names_in(host.revision) if "clinic" in name)
    assert clinic_names == []


def test_the_hosts_upgrade_creates_its_table(host: HostRun) -> None:
    assert host.upgrade.exit_code == 0, host.upgrade.output
    assert HOST_TABLE in host.tables


def test_the_hosts_db_check_passes_with_the_filter(host: HostRun) -> None:
    assert host.check.exit_code == 0, host.check.output


def test_without_the_filter_db_check_fails(host: HostRun) -> None:
    assert host.unfiltered_check.exit_code == 1


def test_without_the_filter_autogenerate_drops_every_clinic_table(host: HostRun) -> None:
    assert host.unfiltered_migrate.exit_code == 0, host.unfiltered_migrate.output
    text = host.unfiltered_revision.read_text()
    dropped = set(re.findall(r"""op\.drop_table\(['"](\w+)['"]""", text))
    assert dropped == clinic_table_names()


# The filters on their own, as Alembic calls them.


def test_clinic_table_names_are_the_clinics_tables_and_version_table() -> None:
    assert clinic_table_names() == set(clinic_metadata.tables) | {VERSION_TABLE}


@pytest.mark.parametrize("table", sorted(clinic_table_names()))
def test_include_name_leaves_out_each_clinic_table(table: str) -> None:
    assert not include_name(table, "table", {"schema_name": None})


def test_include_name_keeps_a_host_table() -> None:
    assert include_name(HOST_TABLE, "table", {"schema_name": None})


def test_include_name_keeps_a_host_table_whose_name_starts_like_the_clinics() -> None:
    assert include_name("clinic_opening_hours", "table", {"schema_name": None})


def test_include_name_leaves_out_a_clinic_tables_index() -> None:
    parents = {"schema_name": None, "table_name": "clinic_couple"}
    assert not include_name("ix_clinic_couple_therapist_id", "index", parents)


def test_include_name_keeps_a_host_tables_index() -> None:
    parents = {"schema_name": None, "table_name": HOST_TABLE}
    assert include_name(HOST_INDEX, "index", parents)


def test_include_name_keeps_schemas() -> None:
    assert include_name("public", "schema", {})


def test_include_object_leaves_out_a_clinic_table_of_the_hosts_metadata() -> None:
    table = clinic_metadata.tables["clinic_couple"]
    assert not include_object(table, table.name, "table", False, None)


def test_include_object_leaves_out_a_clinic_tables_index() -> None:
    index = next(iter(clinic_metadata.tables["clinic_couple"].indexes))
    assert not include_object(index, index.name, "index", False, None)


def test_include_object_keeps_a_host_tables_column() -> None:
    table = sa.Table(HOST_TABLE, sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    assert include_object(table.c.id, "id", "column", False, None)


def test_a_hosts_own_filter_still_decides_for_its_tables() -> None:
    def host_include_name(name: str | None, type_: str, parents: Any) -> bool:
        return name != "host_scratch"

    combined = exclude_clinic_tables(include_name=host_include_name)["include_name"]
    assert not combined("host_scratch", "table", {"schema_name": None})


def test_a_hosts_own_filter_cannot_bring_back_a_clinic_table() -> None:
    def host_include_object(*args: Any) -> bool:
        return True

    combined = exclude_clinic_tables(include_object=host_include_object)["include_object"]
    table = clinic_metadata.tables["clinic_couple"]
    assert not combined(table, table.name, "table", True, None)


def test_a_host_table_passes_both_filters() -> None:
    def host_include_name(name: str | None, type_: str, parents: Any) -> bool:
        return name != "host_scratch"

    combined = exclude_clinic_tables(include_name=host_include_name)["include_name"]
    assert combined(HOST_TABLE, "table", {"schema_name": None})
