"""A partner's risk state as stored: what they disclosed (first seen when) and the
therapist's word on it. The decisions over these rows are in ``risk/core.py``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..state import get_state
from .base import TABLE_PREFIX, ClinicModel, RecordMixin, utcnow
from .people import Partner, Therapist
from .sealed import Sealed, SealedRow

# What the sealed facts may hold. The database can no longer check sealed values, so
# the models do, before sealing them.
KINDS = frozenset({"safety", "self_harm", "active_affair"})
LEVELS = frozenset({1, 2})
SOURCES = frozenset({"safety_answer", "safety_note", "measure_item"})
STATUSES = frozenset({"open", "acknowledged", "resolved"})
# The fingerprint's HMAC context (see ``FieldCipher.fingerprint``).
FINGERPRINT_CONTEXT = "clinic_risk_disclosure once per occasion v1"


def _known(name: str, value: object, allowed: frozenset[Any]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown risk {name} {value!r}")


class DisclosureFacts(TypedDict):
    """What a disclosure's sealed ``facts`` hold."""

    kind: str
    level: int
    source: str
    item: str


class AssessmentFacts(TypedDict):
    """What an assessment's sealed ``facts`` hold."""

    kind: str
    level: int


class _DisclosureFacts(Sealed[DisclosureFacts]):
    """The sealed facts of a disclosure; setting them also sets the row's fingerprint,
    under the current key (so key rotation, which sets every sealed value again,
    refreshes fingerprints too)."""

    def __set__(self, obj: SealedRow, value: DisclosureFacts) -> None:
        super().__set__(obj, value)
        if value is None:  # a disclosure always has facts: the NOT NULL column refuses it
            return
        # This attribute is declared on RiskDisclosure alone, so the row is one.
        row = cast(RiskDisclosure, obj)
        row.fingerprint = get_state().cipher.fingerprint(
            FINGERPRINT_CONTEXT,
            {
                "partner_id": str(row.partner_id),
                "occasion_id": str(row.occasion_id),
                "kind": value["kind"],
                "source": value["source"],
                "item": value["item"],
            },
        )


class RiskDisclosure(RecordMixin, ClinicModel):
    """One thing a partner disclosed, kept from the moment it was first saved.

    It names the question (``item``), never the answer: the answer stays in the sealed
    intake page or measure result it came from (``occasion_id``). One row per partner,
    kind, source, item and occasion, so saving the same answer again changes nothing (and
    reopens nothing), while the same question answered in a later intake or measure is a
    new disclosure. A partner changing an answer back to "no" removes nothing here: what
    was once disclosed stays for the therapist to assess.

    What was disclosed (kind, level, source, item) is sealed in ``facts``: a dump must not
    show that a partner disclosed self-harm or strangulation. "Once per occasion" is kept
    by a unique ``fingerprint``, a keyed hash (HMAC-SHA256) of the partner, occasion,
    kind, source and item, which only the key's holder can tell the meaning of.
    """

    __tablename__ = f"{TABLE_PREFIX}risk_disclosure"

    partner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}partner.id"))
    facts_sealed: Mapped[str] = mapped_column("facts", sa.Text)
    facts = _DisclosureFacts("facts", as_json=True)
    # Unique: the same answer saved again (or by two requests at once) inserts nothing.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The intake response, or the measure result given outside an intake, it came from.
    occasion_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The therapist's email ("a case needs your attention"): due for the disclosure that
    # opened a risk, when email was set up then; ``alerted_at`` records it went out.
    alert_due: Mapped[bool] = mapped_column(default=False)
    alerted_at: Mapped[datetime | None] = mapped_column(default=None)

    partner: Mapped[Partner] = relationship()

    def __init__(self, *, kind: str, level: int, source: str, item: str, **fields: Any) -> None:
        # The keys first: the fingerprint covers them.
        super().__init__(**fields)
        _known("kind", kind, KINDS)
        _known("level", level, LEVELS)
        _known("source", source, SOURCES)
        if not item or len(item) > 60:
            raise ValueError(f"a risk item is a question's slug, not {item!r}")
        self.facts = {"kind": kind, "level": level, "source": source, "item": item}

    @property
    def kind(self) -> str:
        return self.facts["kind"]

    @property
    def level(self) -> int:
        return self.facts["level"]

    @property
    def source(self) -> str:
        return self.facts["source"]

    @property
    def item(self) -> str:
        return self.facts["item"]


class RiskAssessment(RecordMixin, ClinicModel):
    """The therapist's word on one kind of risk for one partner: acknowledged (with a
    short plan), resolved, or opened by the therapist themselves. Never edited: each
    word is a new row, and the latest one counts.

    Which kind of risk, and how urgent, are sealed in ``facts``; the status stays in
    clear (``models/at_rest.py`` says why)."""

    __tablename__ = f"{TABLE_PREFIX}risk_assessment"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status_known"),
    )

    partner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}partner.id"), index=True
    )
    facts_sealed: Mapped[str] = mapped_column("facts", sa.Text)
    facts = Sealed[AssessmentFacts]("facts", as_json=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    therapist_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The short plan (or why it was resolved or opened): clinical free text, sealed.
    plan_sealed: Mapped[str | None] = mapped_column("plan", sa.Text, default=None)
    plan = Sealed[str | None]("plan")

    partner: Mapped[Partner] = relationship()
    therapist: Mapped[Therapist] = relationship()

    def __init__(self, *, kind: str, level: int = 1, **fields: Any) -> None:
        super().__init__(**fields)
        _known("kind", kind, KINDS)
        _known("level", level, LEVELS)
        _known("status", self.status, STATUSES)
        self.facts = {"kind": kind, "level": level}

    @property
    def kind(self) -> str:
        return self.facts["kind"]

    @property
    def level(self) -> int:
        return self.facts["level"]
