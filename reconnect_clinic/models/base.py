"""The plugin's own declarative base.

The plugin keeps its tables on a MetaData of its own (never the host's ``db.Model``) so
that a host's ``db.create_all()`` and Alembic history never see them, and every table
carries the ``clinic_`` prefix so it cannot collide with a host table. Queries still go
through the host's Flask-SQLAlchemy session: one connection pool, one transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_PREFIX = "clinic_"

# A naming convention gives every constraint a stable name, which Alembic needs to
# alter or drop it later (and SQLite's batch mode needs it to rebuild a table).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """An aware UTC timestamp; every stored time is UTC, shown in local time only at the edge."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no timezone type and drops the offset; this keeps both databases returning
    the same aware values, so comparisons with ``utcnow()`` never mix naive and aware.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ClinicModel(DeclarativeBase):
    """Base for every plugin model: the plugin's own MetaData, UTC timestamps."""

    metadata = metadata
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy's API


class RecordMixin:
    """UUID key and created/updated stamps, shared by every clinical record."""

    def __init__(self, **kwargs: object) -> None:
        # The id is known from the start (not only at insert): encrypted fields bind their
        # ciphertext to the row they belong to.
        # The id goes first: attributes are set in the order given.
        super().__init__(**{"id": kwargs.pop("id", None) or uuid.uuid4(), **kwargs})

    # Random keys: they reveal nothing about how many cases a practice holds, and a
    # record's id is known before it is inserted (field encryption binds ciphertext to it).
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class SoftDeleteMixin:
    """Clinical rows are never hard-deleted by the UI; a purge past retention is the only delete."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
