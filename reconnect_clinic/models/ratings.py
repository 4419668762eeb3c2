"""Each partner's private rating of a session they attended, and what the ratings flag.

A rating is a clinical record: its answers are sealed. Which session a rating link was
made for is kept beside the link (``RatingRequest``), because a link itself names only
its partner and purpose. A split-alliance flag names a session and a kind, never a
score, so the dashboard can count flags without opening a sealed value.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, utcnow
from .links import ClientLink
from .people import Partner
from .sealed import Sealed
from .sessions import TherapySession


class RatingRequest(RecordMixin, ClinicModel):
    """The session a rating link was made for (one link, one session, one partner)."""

    __tablename__ = f"{TABLE_PREFIX}rating_request"

    link_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}client_link.id"), unique=True
    )
    therapy_session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapy_session.id"), index=True
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}partner.id"), index=True
    )

    link: Mapped[ClientLink] = relationship()
    therapy_session: Mapped[TherapySession] = relationship()
    partner: Mapped[Partner] = relationship()


class SessionRating(RecordMixin, ClinicModel):
    """One partner's rating of one session: stored once (the first sent is kept)."""

    __tablename__ = f"{TABLE_PREFIX}session_rating"
    __table_args__ = (sa.UniqueConstraint("therapy_session_id", "partner_id"),)

    therapy_session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapy_session.id"), index=True
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}partner.id"), index=True
    )
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}client_link.id"), default=None
    )
    # Which measure (built-in or the practice's own) and which version of it was asked.
    measure: Mapped[str] = mapped_column(sa.String(60))
    measure_version: Mapped[str] = mapped_column(sa.String(20))
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Encrypted at rest: {"<item key>": <int>, ...}; read and write ``answers``.
    answers_sealed: Mapped[str | None] = mapped_column("answers", sa.Text, default=None)
    answers = Sealed[dict[str, int]]("answers", as_json=True, empty=dict)
    # The answers as one 0-10 score (``ratings.items.score``), fixed when stored so a
    # later change of the practice's measure never rescores an old rating. Sealed too.
    score_sealed: Mapped[str | None] = mapped_column("score", sa.Text, default=None)
    score = Sealed[float | None]("score", as_json=True)
    # The language the partner's page was shown in when they rated (i18n.py).
    language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")

    therapy_session: Mapped[TherapySession] = relationship()
    partner: Mapped[Partner] = relationship()


class AllianceFlag(RecordMixin, ClinicModel):
    """A session the split-alliance rules flag: the partners' ratings of it differ
    ("split"), or one partner's rating fell from their previous session ("drop", with
    that partner). Kept so the dashboard can count them; recomputed when a rating comes."""

    __tablename__ = f"{TABLE_PREFIX}alliance_flag"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('split', 'drop')", name="kind_known"),
        sa.UniqueConstraint("therapy_session_id", "kind", "role"),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), index=True
    )
    therapy_session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapy_session.id")
    )
    kind: Mapped[str] = mapped_column(sa.String(10))
    # The partner whose rating fell ("a" or "b"); "" for a split between both.
    role: Mapped[str] = mapped_column(sa.String(1), default="")
