"""Intake operations: find or start a partner's response, save a page, submit once.

Operations flush; the view that calls them commits. Each is written so that a double
click, a second tab or a retry after a lost connection stores exactly one thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..models import (
    ClientLink,
    IntakePage,
    IntakeResponse,
    IntakeStatus,
    MeasureResult,
    Partner,
    utcnow,
)
from ..security.audit import record_event
from ..state import db_session
from ..taxonomy import Taxonomy
from .content import page_slugs
from .scoring import score_intake


class IntakeIncomplete(ValueError):
    """Submission was asked for before every page was complete; ``page`` is the first
    page still needing answers."""

    def __init__(self, page: str) -> None:
        super().__init__(f"page {page!r} is not complete")
        self.page = page


def response_for_link(link: ClientLink, taxonomy: Taxonomy) -> IntakeResponse:
    """The response belonging to ``link``, started on first use.

    Two first requests at once (a double click on the emailed link) both try to insert;
    the unique link_id lets one win, and the other reads the winner's row.
    """
    session = db_session()
    query = sa.select(IntakeResponse).where(IntakeResponse.link_id == link.id)
    response = session.scalar(query)
    if response is not None:
        return response
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


def save_page(
    response: IntakeResponse,
    page: str,
    values: dict[str, str],
    *,
    complete: bool,
    next_page: str | None,
    now: datetime | None = None,
) -> IntakePage:
    """Keep what the partner entered on ``page`` (valid or not) and where they are."""
    if response.status != IntakeStatus.DRAFT:
        raise ValueError("a submitted intake cannot change")
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
    if next_page is not None:
        response.current_page = next_page
    response.updated_at = now
    session.flush()
    return row


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
    consent_name: str,
    now: datetime | None = None,
) -> Submission:
    """Score and submit the intake exactly once.

    The status moves from draft to submitted with a guarded UPDATE, so of two submits
    racing each other only one writes scores and measure results; the other is told the
    intake was already in.
    """
    now = now or utcnow()
    session = db_session()
    if response.status == IntakeStatus.SUBMITTED:
        return Submission(response, newly_submitted=False)
    missing = first_incomplete_page(response, taxonomy)
    if missing is not None:
        raise IntakeIncomplete(missing)
    scores = score_intake(taxonomy, response.page_values())
    claimed = session.execute(
        sa.update(IntakeResponse)
        .where(IntakeResponse.id == response.id, IntakeResponse.status == IntakeStatus.DRAFT)
        .values(
            status=IntakeStatus.SUBMITTED.value,
            submitted_at=now,
            consent_name=consent_name,
            consent_at=now,
            scores=scores.as_json(),
            current_page=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(response)
    if claimed != 1:
        return Submission(response, newly_submitted=False)
    for slug, measure in scores.measures.items():
        session.add(
            MeasureResult(
                partner_id=response.partner_id,
                instrument=slug,
                total=measure.total,
                band=measure.band,
                flags=sorted(measure.flags),
                item_points=scores.item_points[slug],
                administered_at=now,
                intake_response_id=response.id,
            )
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


def _couple_id(partner_id: object) -> object:
    return db_session().scalar(sa.select(Partner.couple_id).where(Partner.id == partner_id))
