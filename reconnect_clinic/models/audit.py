"""The audit log: who read or changed which clinical record, when and from where."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_PREFIX, ClinicModel, utcnow


class AuditEvent(ClinicModel):
    """One append-only line of the audit log.

    A growing integer key (not a UUID) gives the log a total order, which the keyed hash
    chain that links each row to the one before it relies on.
    """

    __tablename__ = f"{TABLE_PREFIX}audit_event"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    action: Mapped[str] = mapped_column(sa.String(60))
    record_type: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    record_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    couple_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True, default=None)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(45), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    # An HMAC-SHA256 under the audit key ``key_id`` names; lines from before keyed
    # auditing (``key_id`` NULL) carry a plain SHA-256 and may only come first.
    row_hash: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    key_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
