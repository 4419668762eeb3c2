"""SQLite settings for the embedded default (the demo and the test suite).

WAL lets readers carry on while one writer writes; ``busy_timeout`` makes a second writer
wait instead of failing with "database is locked"; SQLite enforces foreign keys only
when asked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_sqlite(engine: Engine, *, wal: bool = True) -> None:
    """Apply the pragmas to every new connection of ``engine`` (no-op for other databases)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
