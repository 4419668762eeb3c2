"""Reading ratings: the measure asked, the thresholds, and each couple's ratings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..models import (
    AllianceFlag,
    ClientLink,
    Couple,
    RatingRequest,
    SessionRating,
    TherapySession,
)
from ..state import config, db_session
from .alliance import Flag, SessionScores, Thresholds
from .items import RatingMeasure, measure_from_setting


def configured_measure() -> RatingMeasure:
    """The measure partners are asked (``RECONNECT_CLINIC_RATING_MEASURE``)."""
    return measure_from_setting(config("RATING_MEASURE"))


def configured_thresholds() -> Thresholds:
    return Thresholds(
        split_gap=float(config("ALLIANCE_SPLIT_GAP")), drop=float(config("ALLIANCE_DROP"))
    )


def attended(therapy_session: TherapySession, role: str) -> bool:
    """Whether the partner in ``role`` was at the session (only they may rate it)."""
    return therapy_session.attendance in (role, "both")


def request_for_link(link: ClientLink) -> RatingRequest | None:
    return db_session().scalar(sa.select(RatingRequest).where(RatingRequest.link_id == link.id))


def rating_of(therapy_session_id: uuid.UUID, partner_id: uuid.UUID) -> SessionRating | None:
    return db_session().scalar(
        sa.select(SessionRating).where(
            SessionRating.therapy_session_id == therapy_session_id,
            SessionRating.partner_id == partner_id,
        )
    )


def _couple_sessions(couple: Couple) -> list[TherapySession]:
    return list(
        db_session().scalars(
            sa.select(TherapySession)
            .where(TherapySession.couple_id == couple.id, TherapySession.deleted_at.is_(None))
            .order_by(TherapySession.held_on, TherapySession.created_at)
        )
    )


def _couple_ratings(couple: Couple) -> list[SessionRating]:
    return list(
        db_session().scalars(
            sa.select(SessionRating)
            .join(TherapySession, SessionRating.therapy_session_id == TherapySession.id)
            .where(TherapySession.couple_id == couple.id, TherapySession.deleted_at.is_(None))
        )
    )


@dataclass(frozen=True)
class RatingRow:
    """One session of a couple's ratings table: each partner's score and flags."""

    therapy_session: TherapySession
    scores: dict[str, float | None]  # role -> 0-10 score, None: not rated
    attended: dict[str, bool]
    flags: tuple[Flag, ...] = ()

    @property
    def split(self) -> bool:
        return any(flag.kind == "split" for flag in self.flags)

    def dropped(self, role: str) -> bool:
        return any(flag.kind == "drop" and flag.role == role for flag in self.flags)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True)
class CoupleRatings:
    rows: tuple[RatingRow, ...]
    thresholds: Thresholds
    names: dict[str, str] = field(default_factory=dict)

    @property
    def rated_rows(self) -> tuple[RatingRow, ...]:
        """Sessions at least one partner rated (the table and chart show only these)."""
        return tuple(row for row in self.rows if any(v is not None for v in row.scores.values()))

    @property
    def flagged_rows(self) -> tuple[RatingRow, ...]:
        return tuple(row for row in self.rows if row.flagged)


def scores_of(rows: list[SessionRating]) -> dict[tuple[uuid.UUID, uuid.UUID], float | None]:
    """(session id, partner id) -> score, each opened once."""
    found: dict[tuple[uuid.UUID, uuid.UUID], float | None] = {}
    for rating in rows:
        value = rating.score
        found[rating.therapy_session_id, rating.partner_id] = (
            float(value) if isinstance(value, int | float) else None
        )
    return found


def couple_ratings(couple: Couple) -> CoupleRatings:
    """Both partners' scores of each session, with the split-alliance flags of the
    current thresholds (computed here, so a changed threshold shows at once)."""
    from .alliance import flags as alliance_flags

    thresholds = configured_thresholds()
    partners = {p.role: p for p in couple.partners}
    scores = scores_of(_couple_ratings(couple))
    sessions = _couple_sessions(couple)
    series = [
        SessionScores(
            s.id,
            s.held_on,
            scores.get((s.id, partners["a"].id)),
            scores.get((s.id, partners["b"].id)),
        )
        for s in sessions
    ]
    by_session: dict[uuid.UUID, list[Flag]] = {}
    for flag in alliance_flags(series, thresholds):
        by_session.setdefault(flag.session_id, []).append(flag)
    rows = tuple(
        RatingRow(
            therapy_session=s,
            scores={"a": entry.a, "b": entry.b},
            attended={"a": attended(s, "a"), "b": attended(s, "b")},
            flags=tuple(sorted(by_session.get(s.id, []))),
        )
        for s, entry in zip(sessions, series, strict=True)
    )
    return CoupleRatings(
        rows=rows, thresholds=thresholds, names={r: p.first_name for r, p in partners.items()}
    )


@dataclass(frozen=True)
class PartnerRatingState:
    """What the session page shows for one partner: did they attend, is a link out,
    and their rating once given."""

    role: str
    name: str
    attended: bool
    rating: SessionRating | None
    link_sent_at: object | None  # datetime of the latest rating link made for it


@dataclass(frozen=True)
class SessionRatingPanel:
    partners: tuple[PartnerRatingState, ...]
    measure: RatingMeasure
    flags: tuple[Flag, ...]
    thresholds: Thresholds
    can_send: bool  # a partner attended and has not rated yet, and the case is open


def session_rating_panel(couple: Couple, therapy_session: TherapySession) -> SessionRatingPanel:
    """The session page's ratings section."""
    session = db_session()
    states = []
    for partner in couple.partners:
        latest = session.scalar(
            sa.select(ClientLink.created_at)
            .join(RatingRequest, RatingRequest.link_id == ClientLink.id)
            .where(
                RatingRequest.therapy_session_id == therapy_session.id,
                RatingRequest.partner_id == partner.id,
            )
            .order_by(ClientLink.created_at.desc())
            .limit(1)
        )
        states.append(
            PartnerRatingState(
                role=partner.role,
                name=partner.first_name,
                attended=attended(therapy_session, partner.role),
                rating=rating_of(therapy_session.id, partner.id),
                link_sent_at=latest,
            )
        )
    flags = next(
        (
            row.flags
            for row in couple_ratings(couple).rows
            if row.therapy_session.id == therapy_session.id
        ),
        (),
    )
    return SessionRatingPanel(
        partners=tuple(states),
        measure=configured_measure(),
        flags=flags,
        thresholds=configured_thresholds(),
        can_send=couple.status != "closed" and any(s.attended and s.rating is None for s in states),
    )


def stored_flags(couple: Couple) -> list[AllianceFlag]:
    return list(
        db_session().scalars(sa.select(AllianceFlag).where(AllianceFlag.couple_id == couple.id))
    )
