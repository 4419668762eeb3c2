"""Reading the stored risk state: each partner's risks (``core.partner_risks`` over their
rows), one couple's rows for its pages, and every case's marker for the dashboard in one
statement."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..models import CaseStatus, Couple, Partner, RiskAssessment, RiskDisclosure, Therapist
from ..security.access import VIEWER_PARAMETER, sees_all_cases, visible_couples_criteria
from ..security.encryption.cipher import cipher
from ..state import db_session
from .core import (
    Assessment,
    Disclosure,
    DisclosureSource,
    PartnerRisk,
    RiskKind,
    RiskLevel,
    RiskStatus,
    highest_open_level,
    partner_risks,
)


def as_disclosure(row: RiskDisclosure) -> Disclosure:
    return Disclosure(
        RiskKind(row.kind),
        RiskLevel(row.level),
        DisclosureSource(row.source),
        row.item,
        row.first_seen_at,
    )


def as_assessment(row: RiskAssessment) -> Assessment:
    return Assessment(
        RiskKind(row.kind), RiskStatus(row.status), row.assessed_at, RiskLevel(row.level)
    )


@dataclass(frozen=True)
class RiskRecords:
    """One couple's (or one partner's) stored risk rows, oldest first."""

    disclosures: Sequence[RiskDisclosure]
    assessments: Sequence[RiskAssessment]

    def risks(self, partner_id: uuid.UUID) -> tuple[PartnerRisk, ...]:
        """``partner_id``'s risks, most urgent first."""
        return partner_risks(
            (as_disclosure(d) for d in self.disclosures if d.partner_id == partner_id),
            (as_assessment(a) for a in self.assessments if a.partner_id == partner_id),
        )

    def by_partner(
        self, partner_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[PartnerRisk, ...]]:
        return {partner_id: self.risks(partner_id) for partner_id in partner_ids}


def risk_records(partner_ids: Sequence[uuid.UUID]) -> RiskRecords:
    """The stored rows of these partners (two statements, whatever their number)."""
    session = db_session()
    disclosures = session.scalars(
        sa.select(RiskDisclosure)
        .where(RiskDisclosure.partner_id.in_(partner_ids))
        .order_by(RiskDisclosure.first_seen_at, RiskDisclosure.id)
    ).all()
    assessments = session.scalars(
        sa.select(RiskAssessment)
        .where(RiskAssessment.partner_id.in_(partner_ids))
        .options(joinedload(RiskAssessment.therapist))
        .order_by(RiskAssessment.assessed_at, RiskAssessment.id)
    ).all()
    return RiskRecords(disclosures, assessments)


def couple_risk_records(
    couple: Couple,
) -> tuple[RiskRecords, dict[uuid.UUID, tuple[PartnerRisk, ...]]]:
    """A couple's rows and each partner's risks."""
    partner_ids = [p.id for p in couple.partners]
    records = risk_records(partner_ids)
    return records, records.by_partner(partner_ids)


def risks_by_role(couple: Couple) -> dict[str, tuple[PartnerRisk, ...]]:
    """Each partner's risks by role ("a", "b"), from the stored state (two statements):
    what homework may be given, for instance."""
    _, risks = couple_risk_records(couple)
    return {p.role: risks[p.id] for p in couple.partners}


# --- the dashboard ---------------------------------------------------------------------

_DISCLOSED, _ASSESSED = "d", "a"


@cache
def caseload_risk_statement(
    *, sees_all: bool, shown: str
) -> sa.CompoundSelect[uuid.UUID, uuid.UUID, str, uuid.UUID, str, str | None, datetime]:
    """Every disclosure and assessment of the cases a therapist may see (the therapist
    is the bind parameter ``VIEWER_PARAMETER``), filtered as the dashboard's list is:
    one statement for the whole dashboard, built once per argument pair."""
    criteria = visible_couples_criteria(sees_all=sees_all)
    if shown == "open":
        criteria.append(Couple.status != CaseStatus.CLOSED.value)
    elif shown == "closed":
        criteria.append(Couple.status == CaseStatus.CLOSED.value)
    elif shown != "all":
        raise ValueError(f"unknown filter {shown!r}")
    # Kind and level are sealed: each row comes with its id and sealed facts, opened by
    # :func:`open_levels`.
    disclosed = (
        sa.select(
            Partner.couple_id,
            RiskDisclosure.partner_id,
            sa.literal(_DISCLOSED).label("row_kind"),
            RiskDisclosure.id.label("row_id"),
            RiskDisclosure.facts_sealed.label("facts"),
            sa.cast(sa.null(), sa.String).label("status"),
            RiskDisclosure.first_seen_at.label("at"),
        )
        .join(Partner, Partner.id == RiskDisclosure.partner_id)
        .join(Couple, Couple.id == Partner.couple_id)
        .where(*criteria)
    )
    assessed = (
        sa.select(
            Partner.couple_id,
            RiskAssessment.partner_id,
            sa.literal(_ASSESSED),
            RiskAssessment.id,
            RiskAssessment.facts_sealed,
            RiskAssessment.status,
            RiskAssessment.assessed_at,
        )
        .join(Partner, Partner.id == RiskAssessment.partner_id)
        .join(Couple, Couple.id == Partner.couple_id)
        .where(*criteria)
    )
    return sa.union_all(disclosed, assessed)


def opened_rows(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """The rows of :func:`caseload_risk_statement` with each one's sealed facts opened:
    (couple id, partner id, row kind, kind, level, status, at)."""
    opener = cipher()
    tables = {_DISCLOSED: RiskDisclosure.__tablename__, _ASSESSED: RiskAssessment.__tablename__}
    for couple_id, partner_id, row_kind, row_id, sealed, status, at in rows:
        place = {"table": tables[row_kind], "column": "facts", "row_id": row_id}
        facts = json.loads(opener.open(sealed, **place))
        yield couple_id, partner_id, row_kind, facts["kind"], facts["level"], status, at


def open_levels(rows: Iterable[Sequence[Any]]) -> dict[uuid.UUID, RiskLevel]:
    """Each couple's most urgent open risk level, from the rows of
    :func:`caseload_risk_statement` as :func:`opened_rows` gives them; couples with
    nothing open are left out."""
    by_partner: dict[tuple[uuid.UUID, uuid.UUID], tuple[list[Disclosure], list[Assessment]]] = {}
    for couple_id, partner_id, row_kind, kind, level, status, at in rows:
        found, assessed = by_partner.setdefault((couple_id, partner_id), ([], []))
        if row_kind == _DISCLOSED:
            # Source and item do not change the state; the marker needs none of them.
            found.append(
                Disclosure(RiskKind(kind), RiskLevel(level), DisclosureSource.SAFETY_ANSWER, "", at)
            )
        else:
            assessed.append(Assessment(RiskKind(kind), RiskStatus(status), at, RiskLevel(level)))
    levels: dict[uuid.UUID, RiskLevel] = {}
    for (couple_id, _), (found, assessed) in by_partner.items():
        level = highest_open_level(partner_risks(found, assessed))
        if level is not None and level > levels.get(couple_id, 0):
            levels[couple_id] = level
    return levels


def caseload_open_levels(therapist: Therapist, shown: str) -> Mapping[uuid.UUID, RiskLevel]:
    """The most urgent open risk of each case ``therapist`` may see (one statement)."""
    statement = caseload_risk_statement(sees_all=sees_all_cases(therapist), shown=shown)
    rows = db_session().execute(statement, {VIEWER_PARAMETER: therapist.id})
    return open_levels(opened_rows(rows))
