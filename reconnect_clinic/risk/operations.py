"""Writing the risk state: disclosures as they are first saved, and the therapist's
assessments. Operations flush; the view or CLI command commits.

Disclosures are recorded by the operations that store what a partner said (an intake
page saved, even as a draft; an intake submitted; a measure result stored), so no path
that keeps an answer can skip them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..models import (
    IntakeResponse,
    MeasureResult,
    Partner,
    RiskAssessment,
    RiskDisclosure,
    Therapist,
    utcnow,
)
from ..security.audit.log import record_event
from ..state import db_session
from . import alerts
from .core import (
    Disclosure,
    RiskKind,
    RiskLevel,
    RiskStatus,
    intake_disclosures,
    measure_disclosures,
    newly_disclosed,
    partner_risks,
)
from .queries import as_assessment, as_disclosure


def record_disclosures(
    partner_id: uuid.UUID,
    found: Iterable[Disclosure],
    *,
    occasion_id: uuid.UUID,
    alert: bool = True,
) -> tuple[RiskDisclosure, ...]:
    """Store what ``found`` holds that this partner's ``occasion`` (an intake response or
    a measure result) had not disclosed before; returns the rows added.

    The first new disclosure of a kind that was not open for the partner owes the
    therapist an email (sent after the commit, see ``alerts``), when ``alert`` is on and
    email is set up: one email per risk opened, however many answers open it.
    """
    found = tuple(found)
    if not found:
        return ()
    session = db_session()
    existing = session.scalars(
        sa.select(RiskDisclosure).where(RiskDisclosure.partner_id == partner_id)
    ).all()
    new = newly_disclosed(
        (as_disclosure(row) for row in existing if row.occasion_id == occasion_id), found
    )
    if not new:
        return ()
    assessments = session.scalars(
        sa.select(RiskAssessment).where(RiskAssessment.partner_id == partner_id)
    ).all()
    before = partner_risks(
        (as_disclosure(row) for row in existing), (as_assessment(row) for row in assessments)
    )
    owed = alert and alerts.enabled()
    open_kinds = {risk.kind for risk in before if risk.needs_attention}
    added = []
    for disclosure in new:
        row = RiskDisclosure(
            partner_id=partner_id,
            kind=disclosure.kind.value,
            level=int(disclosure.level),
            source=disclosure.source.value,
            item=disclosure.item,
            occasion_id=occasion_id,
            first_seen_at=disclosure.at,
            alert_due=owed and disclosure.kind not in open_kinds,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # stored a moment ago by another request: nothing new
            continue
        open_kinds.add(disclosure.kind)
        added.append(row)
    alerts.after_commit(row.id for row in added if row.alert_due)
    return tuple(added)


def record_intake_disclosures(
    response: IntakeResponse, values: dict[str, dict[str, str]], *, now: datetime
) -> tuple[RiskDisclosure, ...]:
    """What pages of ``response`` (``values``: page slug -> answers, a draft's or a
    submitted intake's) disclose, first seen ``now``."""
    return record_disclosures(
        response.partner_id, intake_disclosures(values, at=now), occasion_id=response.id
    )


def record_measure_disclosures(
    result: MeasureResult, *, now: datetime | None = None
) -> tuple[RiskDisclosure, ...]:
    """What a stored measure result discloses (PHQ-9 item 9 above 0). A result given
    within an intake belongs to that intake's occasion: its item 9 was already recorded
    when the draft was saved, and is not recorded twice."""
    found = measure_disclosures(result.instrument, list(result.item_points), at=now or utcnow())
    return record_disclosures(
        result.partner_id, found, occasion_id=result.intake_response_id or result.id
    )


class AssessmentRefused(ValueError):
    """The therapist asked for something the risk's state does not allow (say,
    acknowledging a risk that is not there)."""


@dataclass(frozen=True)
class AssessmentDetails:
    kind: RiskKind
    status: RiskStatus
    level: RiskLevel = RiskLevel.CONCERN
    plan: str = ""
    # The latest disclosure the therapist's page showed: an acknowledgement or a
    # resolution covers only what they saw (None: no check; the view always gives it).
    seen_up_to: datetime | None = None


def allowed_statuses(current: RiskStatus | None) -> frozenset[RiskStatus]:
    """What a therapist may record on a risk in state ``current`` (None: the partner has
    no risk of that kind yet). Opening is always allowed: the therapist may see a risk
    no answer disclosed, or judge a resolved one current again."""
    if current is None:
        return frozenset({RiskStatus.OPEN})
    if current is RiskStatus.OPEN:
        return frozenset({RiskStatus.ACKNOWLEDGED, RiskStatus.RESOLVED, RiskStatus.OPEN})
    if current is RiskStatus.ACKNOWLEDGED:
        return frozenset({RiskStatus.RESOLVED, RiskStatus.OPEN, RiskStatus.ACKNOWLEDGED})
    return frozenset({RiskStatus.OPEN})


def unseen(rows: Iterable[RiskDisclosure], seen_up_to: datetime | None) -> bool:
    """Whether any of ``rows`` was first seen after ``seen_up_to`` (the latest one the
    therapist's page showed; None when it showed none)."""
    latest = max((row.first_seen_at for row in rows), default=None)
    if latest is None:
        return False
    return seen_up_to is None or latest > seen_up_to


def assess(
    partner: Partner,
    therapist: Therapist,
    details: AssessmentDetails,
    *,
    now: datetime | None = None,
) -> RiskAssessment:
    """Record the therapist's word on one of ``partner``'s risks, and audit it."""
    session = db_session()
    # The kind is sealed: the partner's rows are read and sorted here.
    rows = [
        row
        for row in session.scalars(
            sa.select(RiskDisclosure).where(RiskDisclosure.partner_id == partner.id)
        )
        if row.kind == details.kind.value
    ]
    earlier = [
        row
        for row in session.scalars(
            sa.select(RiskAssessment).where(RiskAssessment.partner_id == partner.id)
        )
        if row.kind == details.kind.value
    ]
    current = next(iter(partner_risks(map(as_disclosure, rows), map(as_assessment, earlier))), None)
    if details.status not in allowed_statuses(current.status if current else None):
        raise AssessmentRefused(f"cannot record {details.status.value} on this risk")
    checked = details.seen_up_to is not None and details.status is not RiskStatus.OPEN
    if checked and unseen(rows, details.seen_up_to):
        # Disclosed after the page was drawn: the therapist has not read it yet.
        raise AssessmentRefused("something was disclosed since the page was drawn")
    now = now or utcnow()
    latest = max((a.assessed_at for a in earlier), default=None)
    if latest is not None and now <= latest:
        # Two words at the same instant would leave "the latest" undecided.
        now = latest + timedelta(microseconds=1)
    assessment = RiskAssessment(
        partner_id=partner.id,
        kind=details.kind.value,
        status=details.status.value,
        level=int(details.level),
        therapist_id=therapist.id,
        assessed_at=now,
        plan=details.plan or None,
    )
    session.add(assessment)
    session.flush()
    record_event(
        f"risk.{details.status.value}",
        actor=therapist,
        record=assessment,
        couple_id=partner.couple_id,
        # Not the kind: the audit log is readable without the data keys, and the kind
        # (self-harm, safety) is what was disclosed. The record it names holds it, sealed.
        detail={"partner": partner.role},
    )
    return assessment


def backfill(*, now: datetime | None = None) -> int:
    """Record the disclosures of every intake and measure stored before risk state was
    kept (migration 0012), dated when they were saved. Safe to run again: what is
    recorded already is not recorded twice. Sends no email (those cases were shown as
    flagged already). Returns the number of disclosures added."""
    session = db_session()
    added = 0
    responses = session.scalars(
        sa.select(IntakeResponse).where(IntakeResponse.deleted_at.is_(None))
    ).all()
    for response in responses:
        for page in response.pages:
            found = intake_disclosures({page.page: dict(page.values)}, at=page.saved_at)
            added += len(
                record_disclosures(response.partner_id, found, occasion_id=response.id, alert=False)
            )
    results = session.scalars(
        sa.select(MeasureResult).where(
            MeasureResult.deleted_at.is_(None), MeasureResult.intake_response_id.is_(None)
        )
    ).all()
    for result in results:
        found = measure_disclosures(
            result.instrument, list(result.item_points), at=result.administered_at
        )
        added += len(
            record_disclosures(result.partner_id, found, occasion_id=result.id, alert=False)
        )
    session.flush()
    return added
