"""A partner's intake answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin
from .people import Partner


class IntakeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class IntakeResponse(RecordMixin, SoftDeleteMixin, ClinicModel):
    """One partner's intake, saved as a draft page by page and then submitted once.

    Answers keep the taxonomy version and item ids they were given under, so a later
    taxonomy never rewrites what a partner said.
    """

    __tablename__ = f"{TABLE_PREFIX}intake_response"
    __table_args__ = (sa.CheckConstraint("status IN ('draft', 'submitted')", name="status_known"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}partner.id"), index=True
    )
    # One response per link: a second submit finds the same row.
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}client_link.id"), unique=True, default=None
    )
    taxonomy_version: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default=IntakeStatus.DRAFT.value)
    current_page: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)

    partner: Mapped[Partner] = relationship()
