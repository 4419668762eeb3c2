"""What a therapist has looked at of a case, and when: the dashboard's "new since"."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_PREFIX, ClinicModel, RecordMixin


class CaseSeen(RecordMixin, ClinicModel):
    """When one therapist last opened one couple's page, and last had each partner's
    submitted intake shown: the dashboard counts what came after (new reflections, an
    intake submitted since) as needing them. One row per therapist and couple, written
    by ``cases/attention.py``'s operations; the dashboard only reads it."""

    __tablename__ = f"{TABLE_PREFIX}case_seen"
    __table_args__ = (sa.UniqueConstraint("therapist_id", "couple_id"),)

    therapist_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), index=True
    )
    # The couple's page (None until it is opened: the intake page alone writes the row).
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # Partner A's and partner B's submitted intake, shown on the couple's page or on the
    # partner's intake page.
    intake_a_read_at: Mapped[datetime | None] = mapped_column(default=None)
    intake_b_read_at: Mapped[datetime | None] = mapped_column(default=None)
