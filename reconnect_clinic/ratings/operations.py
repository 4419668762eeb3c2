"""Changing ratings: sending rating links, storing a rating, keeping the flags current.

Operations flush; the view commits once. Every change is audited in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..models import (
    AllianceFlag,
    CaseStatus,
    ClientLink,
    Couple,
    LinkPurpose,
    RatingRequest,
    SessionRating,
    Therapist,
    TherapySession,
    utcnow,
)
from ..security.audit.log import record_event
from ..security.links.tokens import IssuedLink, issue_link
from ..state import config, db_session
from .alliance import Flag, SessionScores, Thresholds, flags
from .items import RatingMeasure, clean_answers, score
from .queries import attended, configured_thresholds, rating_of, scores_of

PURPOSE = LinkPurpose.RATING.value


class RatingError(Exception):
    """A rating that cannot be made or stored, with the reason in words."""


def case_open(couple: Couple) -> bool:
    """Ratings are asked and taken only while the case is neither closed nor deleted."""
    return couple.status != CaseStatus.CLOSED and couple.deleted_at is None


@dataclass(frozen=True)
class IssuedRating:
    role: str
    issued: IssuedLink


def send_rating_links(
    therapy_session: TherapySession,
    therapist: Therapist,
    *,
    only: str | None = None,
    now: datetime | None = None,
) -> list[IssuedRating]:
    """A rating link for each partner who attended ``therapy_session`` and has not rated
    it yet (flushed, not committed). A partner who was not there gets none. A new link
    replaces the partner's earlier unused rating link (one way in, as every link).
    ``only`` ("a" or "b") makes the link of that partner alone."""
    couple = therapy_session.couple
    if not case_open(couple):
        raise RatingError("This case is closed: its sessions are no longer rated.")
    if therapy_session.deleted_at is not None:
        raise RatingError("This session was deleted.")
    made = []
    for partner in couple.partners:
        if not attended(therapy_session, partner.role) or only not in (None, partner.role):
            continue
        if rating_of(therapy_session.id, partner.id) is not None:
            continue
        issued = issue_link(
            partner,
            PURPOSE,
            created_by=therapist,
            lifetime=timedelta(days=config("RATING_LINK_LIFETIME_DAYS")),
            now=now,
        )
        request = RatingRequest(
            link_id=issued.link.id, therapy_session_id=therapy_session.id, partner_id=partner.id
        )
        db_session().add(request)
        db_session().flush()
        record_event("link.create", actor=therapist, record=issued.link, couple_id=couple.id)
        made.append(IssuedRating(partner.role, issued))
    if not made:
        raise RatingError(
            "No link was made: every partner who attended this session has rated it already."
        )
    return made


def record_rating(
    link: ClientLink,
    request: RatingRequest,
    answers: dict[str, object],
    measure: RatingMeasure,
    *,
    thresholds: Thresholds | None = None,
) -> tuple[SessionRating, bool]:
    """Store the rating a partner sent through ``link``; sent twice, it is stored once.

    Returns the rating and whether it was new. Refuses (RatingError) a partner who did
    not attend the session, a closed case, and answers off the scale (ValueError).
    """
    therapy_session = request.therapy_session
    partner = link.partner
    if request.link_id != link.id or request.partner_id != partner.id:
        raise RatingError("This link is not for this session.")
    if not case_open(partner.couple) or therapy_session.deleted_at is not None:
        raise RatingError("This case is closed: its sessions are no longer rated.")
    if not attended(therapy_session, partner.role):
        raise RatingError("Only a partner who was at a session can rate it.")
    cleaned = clean_answers(measure, answers)
    existing = rating_of(therapy_session.id, partner.id)
    if existing is not None:
        return existing, False
    session = db_session()
    rating = SessionRating(
        therapy_session_id=therapy_session.id,
        partner_id=partner.id,
        link_id=link.id,
        measure=measure.slug,
        measure_version=measure.version,
        rated_at=utcnow(),
    )
    rating.answers = cleaned
    rating.score = score(measure, cleaned)
    try:
        with session.begin_nested():
            session.add(rating)
    except IntegrityError:
        # Sent twice at once: the other request stored it first.
        found = rating_of(therapy_session.id, partner.id)
        if found is None:
            raise
        return found, False
    if link.used_at is None:
        link.used_at = utcnow()  # purpose done: the link now only shows the thanks
    record_event("rating.submit", actor=link, record=rating, couple_id=partner.couple_id)
    refresh_flags(partner.couple, thresholds or configured_thresholds(), actor=link)
    return rating, True


def refresh_flags(
    couple: Couple, thresholds: Thresholds, *, actor: Therapist | ClientLink | None
) -> list[Flag]:
    """Bring the couple's stored split-alliance flags in line with its ratings (the
    dashboard counts them): new ones are added, gone ones removed, each audited."""
    session = db_session()
    partners = {p.role: p for p in couple.partners}
    sessions = list(
        session.scalars(
            sa.select(TherapySession).where(
                TherapySession.couple_id == couple.id, TherapySession.deleted_at.is_(None)
            )
        )
    )
    ratings = list(
        session.scalars(
            sa.select(SessionRating).where(
                SessionRating.therapy_session_id.in_([s.id for s in sessions])
            )
        )
    )
    scores = scores_of(ratings)
    series = [
        SessionScores(
            s.id,
            s.held_on,
            scores.get((s.id, partners["a"].id)),
            scores.get((s.id, partners["b"].id)),
        )
        for s in sessions
    ]
    wanted = set(flags(series, thresholds))
    stored = {
        Flag(row.therapy_session_id, row.kind, row.role): row
        for row in session.scalars(
            sa.select(AllianceFlag).where(AllianceFlag.couple_id == couple.id)
        )
    }
    for flag in sorted(wanted - set(stored)):
        row = AllianceFlag(
            couple_id=couple.id, therapy_session_id=flag.session_id, kind=flag.kind, role=flag.role
        )
        session.add(row)
        session.flush()
        record_event(
            "alliance.flag",
            actor=actor,
            record=row,
            couple_id=couple.id,
            detail={"kind": flag.kind, "role": flag.role},
        )
    for flag in sorted(set(stored) - wanted):
        row = stored[flag]
        record_event(
            "alliance.unflag",
            actor=actor,
            record=row,
            couple_id=couple.id,
            detail={"kind": flag.kind, "role": flag.role},
        )
        session.delete(row)
    session.flush()
    return sorted(wanted)
