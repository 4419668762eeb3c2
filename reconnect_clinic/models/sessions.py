"""Therapy sessions and the notes written about them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin, utcnow
from .people import Couple, Therapist
from .sealed import Sealed


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
    # Encrypted at rest (see security/encryption/cipher.py): read and write ``content``.
    content_sealed: Mapped[str | None] = mapped_column("content", sa.Text, default=None)
    content = Sealed[dict[str, Any]]("content", as_json=True, empty=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default=NoteStatus.DRAFT.value)
    signed_at: Mapped[datetime | None] = mapped_column(default=None)
    signed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), default=None
    )
    # Optimistic locking: two therapists saving the same draft cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)

    therapy_session: Mapped[TherapySession] = relationship(back_populates="note")
    signed_by: Mapped[Therapist | None] = relationship(foreign_keys=[signed_by_id])
    addenda: Mapped[list[NoteAddendum]] = relationship(
        back_populates="note", order_by="NoteAddendum.signed_at"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's API

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED


class NoteAddendum(RecordMixin, ClinicModel):
    """A correction or addition to a signed note: signed itself, never edited."""

    __tablename__ = f"{TABLE_PREFIX}note_addendum"

    note_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}session_note.id"), index=True
    )
    body_sealed: Mapped[str] = mapped_column("body", sa.Text)
    body = Sealed[str]("body")
    signed_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    note: Mapped[SessionNote] = relationship(back_populates="addenda")
    signed_by: Mapped[Therapist] = relationship()


class StoredReport(RecordMixin, ClinicModel):
    """A report rendered once and kept: the signed record, served as it was printed.

    ``content_sha256`` fingerprints what the report says (it is printed in the PDF's
    footer and metadata); ``pdf_sha256`` fingerprints the stored file itself (the
    plaintext PDF, which is sealed as a whole: ``pdf`` reads and writes its bytes).
    """

    __tablename__ = f"{TABLE_PREFIX}stored_report"
    __table_args__ = (sa.UniqueConstraint("therapy_session_id", "kind", "revision"),)

    therapy_session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapy_session.id"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(30))
    # Each addendum re-issues the report as a new revision; earlier ones are kept.
    revision: Mapped[int] = mapped_column(default=1)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    # A checkpoint of the audit log when the report was issued (its line count and last
    # line's hash, also printed in the PDF), MACed with the audit key together with this
    # report's id ("<key id>.<hex>"): `flask clinic audit-verify` checks that the log
    # still holds that line at that place. NULL on reports from before keyed auditing.
    audit_lines: Mapped[int | None] = mapped_column(default=None)
    audit_head: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    audit_mac: Mapped[str | None] = mapped_column(sa.String(140), default=None)
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    pdf_sealed: Mapped[bytes] = mapped_column("pdf", sa.LargeBinary)
    pdf = Sealed[bytes]("pdf", as_bytes=True)
