"""Loading one partner's answers for the FHIR export (the builders take plain data)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..intake.content import pages_for
from ..models import IntakeResponse, IntakeStatus, MeasureResult, Partner
from ..state import db_session, get_state
from .builders import (
    IntakeFacts,
    MeasureFacts,
    PartnerFacts,
    PartnerRecord,
    Resource,
    partner_bundle,
)


def _intake_facts(response: IntakeResponse) -> IntakeFacts:
    saved = [page.saved_at for page in response.pages]
    authored = response.submitted_at or max(saved, default=response.updated_at)
    return IntakeFacts(
        id=response.id,
        submitted=response.status == IntakeStatus.SUBMITTED.value,
        authored=authored,
        taxonomy_version=response.taxonomy_version,
        pages=response.page_values(),
        # Kept with each answer since answers can be given in Spanish (i18n): read where
        # the record has it, so older records and older schemas still export.
        language=getattr(response, "language", None),
    )


def _measure_facts(result: MeasureResult) -> MeasureFacts:
    return MeasureFacts(
        id=result.id,
        instrument=result.instrument,
        total=result.total,
        band=result.band,
        item_points=tuple(int(points) for points in result.item_points),
        administered_at=result.administered_at,
        language=getattr(result, "language", None),
        instrument_version=result.instrument_version,
    )


def partner_record(partner: Partner) -> PartnerRecord:
    """Everything ``partner`` answered (never the other partner's): their intakes, drafts
    included, and every measure result, the intake's and any given later."""
    session = db_session()
    responses = session.scalars(
        sa.select(IntakeResponse)
        .where(IntakeResponse.partner_id == partner.id, IntakeResponse.deleted_at.is_(None))
        .order_by(IntakeResponse.created_at, IntakeResponse.id)
    ).all()
    results = session.scalars(
        sa.select(MeasureResult)
        .where(MeasureResult.partner_id == partner.id, MeasureResult.deleted_at.is_(None))
        .order_by(MeasureResult.administered_at, MeasureResult.id)
    ).all()
    taxonomy = get_state().taxonomy
    return PartnerRecord(
        partner=PartnerFacts(
            id=partner.id,
            role=partner.role,
            first_name=partner.first_name,
            last_name=partner.last_name,
        ),
        intake_pages=pages_for(taxonomy),
        intake_version=taxonomy.version,
        intakes=tuple(_intake_facts(response) for response in responses),
        measures=tuple(_measure_facts(result) for result in results),
    )


def bundle_for(partner: Partner, *, generated_at: datetime) -> Resource:
    """``partner``'s FHIR Bundle, as of ``generated_at``."""
    return partner_bundle(partner_record(partner), generated_at=generated_at)
