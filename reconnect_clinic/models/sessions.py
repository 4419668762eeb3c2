"""Therapy sessions and the notes written about them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin
from .people import Couple, Therapist


class SessionFormat(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class TherapySession(RecordMixin, SoftDeleteMixin, ClinicModel):
    """One meeting with a couple (several on one date are allowed)."""

    __tablename__ = f"{TABLE_PREFIX}therapy_session"
    __table_args__ = (
        sa.CheckConstraint("format IN ('in_person', 'video')", name="format_known"),
        sa.CheckConstraint("attendance IN ('a', 'b', 'both')", name="attendance_known"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), index=True
    )
    therapist_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    held_on: Mapped[date]
    duration_minutes: Mapped[int] = mapped_column(default=50)
    format: Mapped[str] = mapped_column(sa.String(20), default=SessionFormat.IN_PERSON.value)
    attendance: Mapped[str] = mapped_column(sa.String(4), default="both")

    couple: Mapped[Couple] = relationship()
    therapist: Mapped[Therapist] = relationship()
    note: Mapped[SessionNote | None] = relationship(back_populates="therapy_session")


class NoteStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class SessionNote(RecordMixin, ClinicModel):
    """The clinical note for a session: a draft until signed, immutable afterwards."""

    __tablename__ = f"{TABLE_PREFIX}session_note"
    __table_args__ = (sa.CheckConstraint("status IN ('draft', 'signed')", name="status_known"),)

    therapy_session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapy_session.id"), unique=True
    )
    template: Mapped[str] = mapped_column(sa.String(20), default="dap")
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default=NoteStatus.DRAFT.value)
    signed_at: Mapped[datetime | None] = mapped_column(default=None)
    signed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), default=None
    )
    # Optimistic locking: two therapists saving the same draft cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)

    therapy_session: Mapped[TherapySession] = relationship(back_populates="note")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's API
