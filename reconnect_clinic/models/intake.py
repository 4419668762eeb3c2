"""A partner's intake: pages saved as drafts, then submitted once; and measure results."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin, utcnow
from .people import Partner
from .sealed import Sealed

if TYPE_CHECKING:
    from ..measures.scoring import MeasureScore


class IntakeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class IntakeResponse(RecordMixin, SoftDeleteMixin, ClinicModel):
    """One partner's intake, filled in page by page through their link and submitted once.

    ``scores`` is computed at submission and keeps the taxonomy version and item ids it was
    scored under, so a later taxonomy never rewrites what a partner said.
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
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    # The typed signature, and the scores with their flags: sealed (security/encryption/cipher.py).
    consent_name_sealed: Mapped[str | None] = mapped_column("consent_name", sa.Text, default=None)
    consent_name = Sealed[str | None]("consent_name")
    consent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The exact consent the partner signed (the practice's text with its no-secrets policy,
    # as shown to them), and its SHA-256: a later change to the configured text never
    # rewrites what was signed. The text is sealed; the hash says which version it was.
    consent_sha256: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    consent_text_sealed: Mapped[str | None] = mapped_column("consent_text", sa.Text, default=None)
    consent_text = Sealed[str | None]("consent_text")
    scores_sealed: Mapped[str | None] = mapped_column("scores", sa.Text, default=None)
    scores = Sealed[dict[str, Any] | None]("scores", as_json=True)
    # The language the partner was shown the questions in (i18n.py), last page saved.
    language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")

    partner: Mapped[Partner] = relationship()
    pages: Mapped[list[IntakePage]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    def page_values(self) -> dict[str, dict[str, str]]:
        return {page.page: dict(page.values) for page in self.pages}


class IntakePage(RecordMixin, ClinicModel):
    """What a partner entered on one intake page, saved every time they leave the page.

    One row per page, so two tabs saving different pages never overwrite each other.
    ``complete`` says the page passed validation; a page with errors is kept as typed.
    """

    __tablename__ = f"{TABLE_PREFIX}intake_page"
    __table_args__ = (sa.UniqueConstraint("response_id", "page"),)

    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}intake_response.id")
    )
    page: Mapped[str] = mapped_column(sa.String(40))
    values_sealed: Mapped[str | None] = mapped_column("values", sa.Text, default=None)
    values = Sealed[dict[str, str]]("values", as_json=True, empty=dict)  # encrypted at rest
    complete: Mapped[bool] = mapped_column(default=False)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[IntakeResponse] = relationship(back_populates="pages")


class MeasureResult(RecordMixin, SoftDeleteMixin, ClinicModel):
    """One administration of a validated measure (CSI-16, PHQ-9, GAD-7) for a partner.

    Kept apart from the intake so the same measures can be given again later and charted
    over treatment.
    """

    __tablename__ = f"{TABLE_PREFIX}measure_result"
    __table_args__ = (sa.UniqueConstraint("link_id", "instrument"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}partner.id"), index=True
    )
    instrument: Mapped[str] = mapped_column(sa.String(20))
    # What the partner answered and what it means: sealed. No query reads them (charts
    # and reports open them row by row), so none has to stay in clear.
    total_sealed: Mapped[str] = mapped_column("total", sa.Text)
    total = Sealed[int]("total", as_json=True)
    band_sealed: Mapped[str] = mapped_column("band", sa.Text)
    band = Sealed[str]("band")
    flags_sealed: Mapped[str] = mapped_column("flags", sa.Text)
    flags = Sealed[list[str]]("flags", as_json=True, empty=list)
    item_points_sealed: Mapped[str] = mapped_column("item_points", sa.Text)
    item_points = Sealed[list[int]]("item_points", as_json=True, empty=list)
    administered_at: Mapped[datetime] = mapped_column(default=utcnow)
    intake_response_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}intake_response.id"), default=None
    )
    # A repeated administration (measures/): the measures link it came through (one
    # result per link and instrument, so a form sent twice is stored once), and which
    # wording and key it was asked in (measures.instruments.instrument_version).
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}client_link.id"), default=None
    )
    instrument_version: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    # The language the instrument was shown in: its original English unless an official
    # translation was (measures/instruments.py).
    language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")

    partner: Mapped[Partner] = relationship()

    @classmethod
    def from_score(
        cls,
        score: MeasureScore,
        *,
        partner_id: uuid.UUID,
        item_points: list[int],
        administered_at: datetime,
        intake_response_id: uuid.UUID | None = None,
    ) -> MeasureResult:
        """The stored record of one scored administration of ``score.slug``."""
        return cls(
            partner_id=partner_id,
            instrument=score.slug,
            total=score.total,
            band=score.band,
            flags=sorted(score.flags),
            item_points=list(item_points),
            administered_at=administered_at,
            intake_response_id=intake_response_id,
        )
