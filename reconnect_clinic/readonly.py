"""Views that never write to the database, and how each database reads for them.

A view says so with :func:`read_only` (the dashboard does: it is the page a therapist
opens most). What that changes:

- On SQLite (``reconnect_clinic.sqlite``): its transaction is a plain ``BEGIN``, a read
  of a WAL snapshot beside any writer, with ``PRAGMA query_only`` so that a write fails
  at once.
- On PostgreSQL: its queries run without a transaction (autocommit), which saves the
  ``BEGIN`` and ``ROLLBACK`` round trips to the server: half of a small page's round
  trips. Nothing checks writes there; the test suite runs on SQLite too, where a view
  marked by mistake fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, has_request_context, request

F = TypeVar("F", bound=Callable[..., Any])
_READ_ONLY = "_reconnect_clinic_read_only"


def read_only(view: F) -> F:
    """Mark a view that never writes to the database."""
    setattr(view, _READ_ONLY, True)
    return view


def request_is_read_only() -> bool:
    """Whether the current request's view is marked :func:`read_only`."""
    if not has_request_context() or request.endpoint is None:
        return False
    return getattr(current_app.view_functions.get(request.endpoint), _READ_ONLY, False)


def read_without_transaction() -> None:
    """Before a read-only view on PostgreSQL: take the session's connection in autocommit
    mode, which SQLAlchemy undoes when the connection goes back to the pool.

    Left alone if the session already has a transaction (a host's hook read something
    first): its connection is the one the view's queries will use."""
    from .models import Couple
    from .state import db_session

    if not request_is_read_only():
        return
    session = db_session()
    # db_session() is the scoped session; in_transaction() is its current Session's.
    if session.registry().in_transaction():
        return
    if session.get_bind(mapper=Couple).dialect.name != "postgresql":
        return
    session.connection(
        bind_arguments={"mapper": Couple}, execution_options={"isolation_level": "AUTOCOMMIT"}
    )
