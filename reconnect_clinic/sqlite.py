"""SQLite settings for the embedded default (the demo and the test suite).

WAL lets readers carry on while one writer writes; ``busy_timeout`` makes a second
writer wait instead of failing with "database is locked"; SQLite enforces foreign keys
only when asked.

Transactions: Python's sqlite3 driver, left to itself, starts a transaction only at the
first write and commits on its own before DDL, so reads are not isolated and a
read-then-write can act on stale data. Here the driver's own handling is switched off
and every transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once,
so transactions that write run one after another, waiting (not failing) for their turn.
Nearly every request writes (the audit log records reads too), and each is short.

A view that never writes can say so with ``readonly.read_only`` (the dashboard does):
its transaction is then a plain ``BEGIN``, a read of a WAL snapshot that neither waits
for nor holds up a writer, and SQLite refuses any write in it (``PRAGMA query_only``), so
a view marked by mistake fails at once rather than racing for the lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .readonly import request_is_read_only


def configure_sqlite(engine: Engine, *, wal: bool = True) -> None:
    """Apply the pragmas and transaction handling to ``engine`` (no-op off SQLite)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        reading = request_is_read_only()
        # query_only stays set on the pooled connection: change it only when it differs.
        if connection.info.get("query_only", False) != reading:
            connection.exec_driver_sql(f"PRAGMA query_only = {'ON' if reading else 'OFF'}")
            connection.info["query_only"] = reading
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
