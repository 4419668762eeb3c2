"""Keeping the clinic's tables out of a host app's own Alembic history.

The clinic migrates its tables itself (``flask clinic db-upgrade``, see ``migrate.py``)
and records its revision in its own version table. A host's autogenerate (Flask-Migrate's
``flask db migrate``, or Alembic's ``alembic revision --autogenerate``) compares the host's
models with every table in the database, so without a filter it proposes to drop each
clinic table, its indexes and the clinic's version table. Pass the filters here to the
host's Alembic configuration::

    from flask_migrate import Migrate
    from reconnect_clinic.alembic_filter import exclude_clinic_tables

    migrate = Migrate(app, db, **exclude_clinic_tables())

Flask-Migrate hands extra keyword arguments of ``Migrate(...)`` (or ``init_app``) to
Alembic's ``context.configure``; in a plain Alembic ``env.py``, pass them to
``context.configure(...)`` yourself. A host with filters of its own passes them in, and an
object is then compared only when both the host's filter and the clinic's include it.

Only the clinic's own tables (by exact name) and their columns, indexes and constraints
are hidden, so a host table is never hidden, whatever its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .migrate import VERSION_TABLE

IncludeName = Callable[[str | None, str, Mapping[str, str | None]], bool]
IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]

# The kinds of object Alembic compares that belong to a table.
_TABLE_PARTS = ("column", "index", "unique_constraint", "foreign_key_constraint")


def clinic_table_names() -> frozenset[str]:
    """Every table the clinic's migrations create, and its version table."""
    from .models import metadata

    return frozenset(metadata.tables) | {VERSION_TABLE}


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's ``include_name`` hook: leave the clinic's tables unreflected.

    Called for names found in the database; a clinic table (or a column, index or
    constraint of one) is not reflected, so autogenerate proposes nothing for it.
    """
    if type_ == "table":
        return name not in clinic_table_names()
    if type_ in _TABLE_PARTS:
        return parent_names.get("table_name") not in clinic_table_names()
    return True


def include_object(
    object_: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: skip the clinic's tables on either side.

    Also covers a host whose own metadata happens to hold the clinic's tables (which
    would otherwise be proposed for creation, as the database's copy is not reflected).
    """
    if type_ == "table":
        return name not in clinic_table_names()
    if type_ in _TABLE_PARTS:
        table = getattr(object_, "table", None)
        return getattr(table, "name", None) not in clinic_table_names()
    return True


def exclude_clinic_tables(
    *,
    include_name: IncludeName | None = None,
    include_object: IncludeObject | None = None,
) -> dict[str, Callable[..., bool]]:
    """Keyword arguments for ``Migrate(app, db, ...)`` or Alembic's ``context.configure``.

    ``include_name`` and ``include_object`` are the host's own filters, if it has any:
    they still decide for the host's tables.
    """
    return {
        "include_name": _both(_include_name, include_name),
        "include_object": _both(_include_object, include_object),
    }


_include_name = include_name
_include_object = include_object


def _both(clinic: Callable[..., bool], host: Callable[..., bool] | None) -> Callable[..., bool]:
    if host is None:
        return clinic

    def combined(*args: Any) -> bool:
        return clinic(*args) and bool(host(*args))

    return combined
