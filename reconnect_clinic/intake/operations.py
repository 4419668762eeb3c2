"""Intake operations: find or start a partner's response, save a page, submit once.

Operations flush; the view that calls them commits. Each is written so that a double
click, a second tab or a retry after a lost connection stores exactly one thing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..measures.operations import store_measure_result
from ..models import (
    ClientLink,
    IntakePage,
    IntakeResponse,
    IntakeStatus,
    MeasureResult,
    Partner,
    utcnow,
)
from ..risk.operations import record_intake_disclosures
from ..security.audit.log import record_event
from ..state import db_session
from ..taxonomy import Taxonomy
from .consent import CONSENT_PAGE, ConsentDocument, configured_consent
from .content import page_slugs
from .scoring import score_intake


class IntakeClosed(ValueError):
    """The intake was submitted (perhaps a moment ago, from another tab): nothing changes."""


class IntakeIncomplete(ValueError):
    """Submission was asked for before every page was complete; ``page`` is the first
    page still needing answers."""

    def __init__(self, page: str) -> None:
        super().__init__(f"page {page!r} is not complete")
        self.page = page


def response_for_link(link: ClientLink, taxonomy: Taxonomy) -> IntakeResponse:
    """The response belonging to ``link``, started on first use.

    A partner's unfinished intake moves to a new link the therapist makes for them (the
    old one expired, or was lost), so they carry on where they stopped. Two first
    requests at once (a double click on the emailed link) both try to insert; the unique
    link_id lets one win, and the other reads the winner's row.
    """
    session = db_session()
    query = sa.select(IntakeResponse).where(IntakeResponse.link_id == link.id)
    response = session.scalar(query)
    if response is not None:
        return response
    draft = session.scalar(
        sa.select(IntakeResponse)
        .where(
            IntakeResponse.partner_id == link.partner_id,
            IntakeResponse.status == IntakeStatus.DRAFT.value,
            IntakeResponse.deleted_at.is_(None),
        )
        .order_by(IntakeResponse.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if draft is not None:
        draft.link_id = link.id
        session.flush()
        return draft
    response = IntakeResponse(
        partner_id=link.partner_id,
        link_id=link.id,
        taxonomy_version=taxonomy.version,
        current_page=page_slugs(taxonomy)[0],
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        response = session.scalars(query).one()
    return response


def lock_draft(response: IntakeResponse) -> None:
    """Lock the response row for this transaction and check it is still a draft.

    A save and a submit of the same intake (two tabs, or an autosave landing during the
    final click) then run one after the other: a save never lands after a submit, and a
    submit scores exactly the pages as they are. SQLite gets the same order from the
    write lock its transactions take at the start (see ``reconnect_clinic.sqlite``).
    """
    session = db_session()
    status = session.scalar(
        sa.select(IntakeResponse.status)
        .where(IntakeResponse.id == response.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    session.refresh(response)
    if status != IntakeStatus.DRAFT:
        raise IntakeClosed("the intake was already submitted")


def save_page(
    response: IntakeResponse,
    page: str,
    values: dict[str, str],
    *,
    complete: bool,
    next_page: str | None,
    actor: ClientLink | None = None,
    now: datetime | None = None,
) -> IntakePage:
    """Keep what the partner entered on ``page`` (valid or not) and where they are."""
    lock_draft(response)
    now = now or utcnow()
    session = db_session()
    row = session.scalar(
        sa.select(IntakePage).where(IntakePage.response_id == response.id, IntakePage.page == page)
    )
    if row is None:
        row = IntakePage(response_id=response.id, page=page)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the same page saved from another tab at the same moment
            row = session.scalars(
                sa.select(IntakePage).where(
                    IntakePage.response_id == response.id, IntakePage.page == page
                )
            ).one()
    row.values = values
    row.complete = complete
    row.saved_at = now
    if page == CONSENT_PAGE and complete:
        # Kept as the partner signs, not at submission: a consent signed first (see
        # RECONNECT_CLINIC_CONSENT_FIRST) is the text they read then, whatever changes later.
        sign_consent(response, configured_consent())
    if next_page is not None:
        response.current_page = next_page
    response.updated_at = now
    session.flush()
    # A disclosure counts the moment it is saved, draft or not (see risk/core.py).
    record_intake_disclosures(response, {page: values}, now=now)
    if actor is not None:
        record_event(
            "intake.save",
            actor=actor,
            record=response,
            couple_id=actor.partner.couple_id,
            detail={"page": page, "complete": complete},
        )
    return row


def sign_consent(response: IntakeResponse, document: ConsentDocument) -> None:
    """Keep ``document`` as the consent this intake's partner signed: its exact text
    (sealed) and its SHA-256."""
    response.consent_text = document.signed_text
    response.consent_sha256 = document.sha256


def first_incomplete_page(response: IntakeResponse, taxonomy: Taxonomy) -> str | None:
    done = {page.page for page in response.pages if page.complete}
    for slug in page_slugs(taxonomy):
        if slug not in done:
            return slug
    return None


@dataclass(frozen=True)
class Submission:
    response: IntakeResponse
    newly_submitted: bool  # False when this was a repeat of an earlier submit


def submit_intake(
    response: IntakeResponse,
    link: ClientLink,
    taxonomy: Taxonomy,
    *,
    consent_name: str = "",
    now: datetime | None = None,
) -> Submission:
    """Score and submit the intake exactly once.

    The response row is locked first (``lock_draft``), so of two submits racing each
    other only one writes scores and measure results; the other finds the intake
    already in and is told so.

    The signature is the one saved on the consent page (``consent_name`` only when that
    page holds none): with the consent page first, the page submitted is another one.
    """
    now = now or utcnow()
    session = db_session()
    try:
        lock_draft(response)
    except IntakeClosed:
        return Submission(response, newly_submitted=False)
    session.expire(response, ["pages"])
    missing = first_incomplete_page(response, taxonomy)
    if missing is not None:
        raise IntakeIncomplete(missing)
    scores = score_intake(taxonomy, response.page_values())
    response.status = IntakeStatus.SUBMITTED.value
    response.submitted_at = now
    signed = response.page_values().get(CONSENT_PAGE, {}).get("signature", "").strip()
    response.consent_name = signed or consent_name
    response.consent_at = now
    if response.consent_sha256 is None:  # a draft whose consent page predates keeping it
        sign_consent(response, configured_consent())
    response.scores = scores.as_json()
    response.current_page = None
    response.updated_at = now
    # Every page as submitted: a disclosure saved before risk state was kept, or by an
    # older page, is recorded now (what was recorded already is not recorded again).
    record_intake_disclosures(response, response.page_values(), now=now)
    for slug, measure in scores.measures.items():
        store_measure_result(
            MeasureResult.from_score(
                measure,
                partner_id=response.partner_id,
                item_points=scores.item_points[slug],
                administered_at=now,
                intake_response_id=response.id,
            ),
            now=now,
        )
    link.used_at = now
    session.flush()
    record_event(
        "intake.submit",
        actor=link,
        record=response,
        couple_id=_couple_id(response.partner_id),
    )
    return Submission(response, newly_submitted=True)


def _couple_id(partner_id: uuid.UUID) -> uuid.UUID | None:
    return db_session().scalar(sa.select(Partner.couple_id).where(Partner.id == partner_id))
