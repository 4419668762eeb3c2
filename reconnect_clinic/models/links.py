"""Private links through which a partner reaches their own forms."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin

if TYPE_CHECKING:
    from .people import Partner


class LinkPurpose(StrEnum):
    INTAKE = "intake"
    HOMEWORK = "homework"
    # The chosen measures again, through treatment (measures-only link).
    MEASURES = "measures"
    # One partner's rating of one session they attended.
    RATING = "rating"


class ClientLink(RecordMixin, ClinicModel):
    """A signed, expiring, revocable link for one partner and one purpose.

    Only a SHA-256 of the random token is stored: a leaked database holds no usable link.
    """

    __tablename__ = f"{TABLE_PREFIX}client_link"
    __table_args__ = (
        sa.CheckConstraint(
            "purpose IN ('intake', 'homework', 'measures', 'rating')", name="purpose_known"
        ),
    )

    partner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}partner.id"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), default=None
    )
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_opened_at: Mapped[datetime | None] = mapped_column(default=None)

    partner: Mapped[Partner] = relationship(back_populates="links")
