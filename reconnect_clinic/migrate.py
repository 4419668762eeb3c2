"""Running the plugin's Alembic migrations against the host's database.

The plugin's history lives inside the package and records its revision in its own
version table, so it never meets the host's own Alembic history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

VERSION_TABLE = "clinic_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the plugin's migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(files("reconnect_clinic.migrations")))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the plugin's migrations up to ``revision``, all or nothing."""
    with _transaction(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo the plugin's migrations down to ``revision``, all or nothing."""
    with _transaction(engine) as connection:
        command.downgrade(alembic_config(connection), revision)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction around the whole migration, DDL included.

    PostgreSQL has transactional DDL as it is. Python's sqlite3 driver, left to itself,
    commits before every CREATE or ALTER, so a migration failing halfway would leave
    half its tables behind. For SQLite files the migration runs on an engine of its own
    that hands transaction control to SQLAlchemy (the driver's documented recipe), so
    the host's engine keeps its own settings.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        with engine.begin() as connection:
            yield connection
        return
    migration_engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)

    @event.listens_for(migration_engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(migration_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with migration_engine.begin() as connection:
            yield connection
    finally:
        migration_engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
