"""Private client links: a long random token, stored only as its SHA-256.

A partner has no account. What lets them in is the token in their link, bound to one
partner and one purpose, expiring, revocable, and read-only once its purpose is done.
The raw token exists only in the link itself: the database keeps a hash, and the
therapist sees the link once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from ...models import ClientLink, Partner, Therapist, utcnow
from ...state import db_session

TOKEN_BYTES = 32  # 256 bits: not guessable, not enumerable
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_TOKEN_LENGTH = 100


class LinkState(StrEnum):
    USABLE = "usable"
    COMPLETED = "completed"  # purpose done: the partner may look, not change
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class IssuedLink:
    link: ClientLink
    token: str  # shown once to the therapist; never stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible_token(token: str) -> bool:
    """Cheap shape check before any database work (and before anything is logged)."""
    return 20 <= len(token) <= MAX_TOKEN_LENGTH and set(token) <= _TOKEN_ALPHABET


def link_state(
    *,
    now: datetime,
    expires_at: datetime,
    revoked_at: datetime | None,
    used_at: datetime | None,
) -> LinkState:
    """What a link allows right now. Revocation wins over everything; a completed link
    stays viewable (read-only) until it expires."""
    if revoked_at is not None:
        return LinkState.REVOKED
    if now >= expires_at:
        return LinkState.EXPIRED
    if used_at is not None:
        return LinkState.COMPLETED
    return LinkState.USABLE


def state_of(link: ClientLink, now: datetime | None = None) -> LinkState:
    return link_state(
        now=now or utcnow(),
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        used_at=link.used_at,
    )


def issue_link(
    partner: Partner,
    purpose: str,
    *,
    created_by: Therapist,
    lifetime: timedelta,
    now: datetime | None = None,
) -> IssuedLink:
    """Make a new link for ``partner``, revoking any earlier usable link for the same
    purpose, so there is only ever one way in (flushed, not committed)."""
    now = now or utcnow()
    session = db_session()
    # Lock the partner's row: two "make a link" clicks at once then run one after the
    # other, and the second revokes the first's link, leaving one way in.
    session.execute(sa.select(Partner.id).where(Partner.id == partner.id).with_for_update())
    for old in session.scalars(
        sa.select(ClientLink).where(
            ClientLink.partner_id == partner.id,
            ClientLink.purpose == purpose,
            ClientLink.revoked_at.is_(None),
            ClientLink.used_at.is_(None),
        )
    ):
        old.revoked_at = now
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ClientLink(
        partner=partner,
        purpose=purpose,
        token_hash=hash_token(token),
        created_by_id=created_by.id,
        expires_at=now + lifetime,
    )
    session.add(link)
    session.flush()
    return IssuedLink(link=link, token=token)


def find_link(token: str, purpose: str) -> ClientLink | None:
    """The link behind ``token`` for ``purpose``, whatever its state; None if unknown."""
    if not plausible_token(token):
        return None
    return db_session().scalar(
        sa.select(ClientLink).where(
            ClientLink.token_hash == hash_token(token), ClientLink.purpose == purpose
        )
    )
