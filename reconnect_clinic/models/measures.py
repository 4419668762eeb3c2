"""Measures repeated through treatment: each couple's schedule, and each administration
it calls for (one partner, one due date, the link that asked for it)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin
from .links import ClientLink
from .people import Couple, Partner


class Cadence(StrEnum):
    BEFORE_EVERY_SESSION = "before_every_session"
    EVERY_N_WEEKS = "every_n_weeks"
    ONCE = "once"


class MeasureSchedule(RecordMixin, ClinicModel):
    """Which measures a couple is asked again, and when. One per couple, changed in place
    (every change is audited). Which measures and how often are not clinical values, so
    they stay in clear: ``send-measures`` reads them without opening anything."""

    __tablename__ = f"{TABLE_PREFIX}measure_schedule"
    __table_args__ = (
        sa.CheckConstraint(
            "cadence IN ('before_every_session', 'every_n_weeks', 'once')", name="cadence_known"
        ),
        sa.CheckConstraint(
            "every_weeks IS NULL OR (every_weeks >= 1 AND every_weeks <= 52)",
            name="every_weeks_range",
        ),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), unique=True
    )
    # Instrument slugs, comma-separated, in the order they are asked ("csi4,phq9").
    instruments: Mapped[str] = mapped_column(sa.String(100))
    cadence: Mapped[str] = mapped_column(sa.String(30))
    every_weeks: Mapped[int | None] = mapped_column(default=None)
    starts_on: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), default=None
    )

    couple: Mapped[Couple] = relationship()

    @property
    def instrument_slugs(self) -> tuple[str, ...]:
        return tuple(slug for slug in self.instruments.split(",") if slug)


class MeasureAdministration(RecordMixin, ClinicModel):
    """One occasion on which one partner is asked the scheduled measures.

    Unique per partner and due date: ``send-measures`` run twice (or twice at once) finds
    the row the first run made and sends nothing again. ``link_id`` is the measures link
    that asked for it (replaced when the therapist makes a new link to copy);
    ``completed_at`` is set when the partner's answers are stored.
    """

    __tablename__ = f"{TABLE_PREFIX}measure_administration"
    __table_args__ = (sa.UniqueConstraint("partner_id", "due_on"),)

    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), index=True
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}partner.id"))
    due_on: Mapped[date]
    instruments: Mapped[str] = mapped_column(sa.String(100))
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}client_link.id"), unique=True, default=None
    )
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # "email" or "copy": how the link went out (copy: shown to the therapist or cron).
    sent_via: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    partner: Mapped[Partner] = relationship()
    link: Mapped[ClientLink | None] = relationship()

    @property
    def instrument_slugs(self) -> tuple[str, ...]:
        return tuple(slug for slug in self.instruments.split(",") if slug)
