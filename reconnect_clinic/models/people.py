"""Therapists, couples (a case) and the two partners of each couple."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin
from .sealed import Sealed

if TYPE_CHECKING:
    from .links import ClientLink


class Therapist(RecordMixin, ClinicModel):
    """A clinician. Standalone, they log in with a password; inside a host app they are
    matched to the host's own user through ``host_user_id`` and have no password here."""

    __tablename__ = f"{TABLE_PREFIX}therapist"

    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), default=None)
    host_user_id: Mapped[str | None] = mapped_column(sa.String(200), unique=True, default=None)
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # Optional second factor (TOTP): the shared secret, encrypted at rest.
    totp_secret_sealed: Mapped[str | None] = mapped_column("totp_secret", sa.Text, default=None)
    totp_secret = Sealed[str | None]("totp_secret")
    # The time step of the last code accepted: a code is good once (see two_factor.py).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    # Standalone sign-in: each session carries the number current when it began (see
    # get_id), and one that no longer matches is signed out. Raising it (sign-out, a new
    # password, a change of the second factor, deactivation) ends every session at once,
    # which a session kept only in a signed cookie could not otherwise do.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    couples: Mapped[list[Couple]] = relationship(back_populates="therapist")

    # Flask-Login's user protocol, spelled out rather than inherited from UserMixin,
    # whose ``is_active`` would shadow the ``active`` column.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # What Flask-Login keeps in the session and hands back to the user loader, which
        # refuses a generation that is no longer the therapist's (its "alternative
        # tokens"): see security/therapists.session_user_id.
        return f"{self.id}:{self.session_generation}"


@sa.event.listens_for(Therapist.active, "set")
def _deactivating_ends_sessions(
    target: Therapist, value: object, oldvalue: object, initiator: object
) -> None:
    """A therapist made inactive is signed out everywhere, and stays signed out if made
    active again later (a session from before, say on a lost laptop, would otherwise
    come back to life with them). However the change is made through the ORM."""
    if value is False and oldvalue is not False and sa.inspect(target).persistent:
        # In SQL, so that a raise made at the same moment by another request is kept too.
        target.session_generation = Therapist.session_generation + 1


class RecoveryCode(RecordMixin, ClinicModel):
    """A single-use code that stands in for a therapist's authenticator app at sign-in,
    for the day the phone is lost. Shown once when issued; only its SHA-256 is kept."""

    __tablename__ = f"{TABLE_PREFIX}recovery_code"
    __table_args__ = (sa.UniqueConstraint("therapist_id", "code_hash"),)

    therapist_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


def person_name(first_name: str, last_name: str | None) -> str:
    """A partner's name as pages and reports print it: "First Last", or the first name
    alone when there is no last name."""
    return f"{first_name} {last_name or ''}".strip()


class PartnerRole(StrEnum):
    A = "a"
    B = "b"


class Couple(RecordMixin, SoftDeleteMixin, ClinicModel):
    """A case: one couple in treatment with one therapist."""

    __tablename__ = f"{TABLE_PREFIX}couple"
    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'paused', 'closed')", name="status_known"),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"
        ),
    )

    therapist_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), default=CaseStatus.ACTIVE.value)
    opened_on: Mapped[date]
    closed_on: Mapped[date | None] = mapped_column(default=None)
    # Records lifecycle: kept until this date, and never purged while on legal hold.
    retention_until: Mapped[date | None] = mapped_column(default=None)
    legal_hold: Mapped[bool] = mapped_column(default=False)

    therapist: Mapped[Therapist] = relationship(back_populates="couples")
    partners: Mapped[list[Partner]] = relationship(
        back_populates="couple", order_by="Partner.role", cascade="all, delete-orphan"
    )

    def partner(self, role: str) -> Partner:
        """The partner in ``role`` ("a" or "b")."""
        for partner in self.partners:
            if partner.role == role:
                return partner
        raise LookupError(f"couple {self.id} has no partner {role!r}")

    @property
    def partner_a(self) -> Partner:
        return self.partner(PartnerRole.A)

    @property
    def partner_b(self) -> Partner:
        return self.partner(PartnerRole.B)


class Partner(RecordMixin, ClinicModel):
    """One of the two people in a couple. Partners have no account: they reach their own
    forms through a private link (``ClientLink``)."""

    __tablename__ = f"{TABLE_PREFIX}partner"
    __table_args__ = (
        # Exactly two partners per couple: one "a" and one "b".
        sa.UniqueConstraint("couple_id", "role"),
        sa.CheckConstraint("role IN ('a', 'b')", name="role_known"),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}couple.id"))
    role: Mapped[str] = mapped_column(sa.String(1))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254), default=None)
    pronouns: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    # The language the therapist set for this partner's pages and emails (i18n.py); None:
    # the partner's browser decides. The partner's own switch outranks it.
    language: Mapped[str | None] = mapped_column(sa.String(8), default=None)

    couple: Mapped[Couple] = relationship(back_populates="partners")
    links: Mapped[list[ClientLink]] = relationship(back_populates="partner")

    @property
    def full_name(self) -> str:
        return person_name(self.first_name, self.last_name)
