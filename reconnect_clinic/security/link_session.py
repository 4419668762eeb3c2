"""Turning a partner's link into a browser session, and proving a posted page came from it.

The token is exchanged once for a signed session entry and the partner is sent on to
addresses that carry only the link's id, so the token does not sit in the address bar,
the history of every page, or the access log of each page they fill in. A browser may
hold several links at once (two partners sharing one computer), each under its own id,
so one partner's pages never act on the other's link.

Every page a partner can send carries a signed reference to its link (``link_ref``).
A post is accepted only with a valid one, which both stops cross-site posts and lets a
page that stayed open past the browser session's idle limit still be saved. The link's
state is read from the database on every request, so revoking it takes effect at once.
"""

from __future__ import annotations

import time
import uuid

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import ClientLink
from ..state import config, db_session

_KEY = "reconnect_clinic_links"  # {link id: last seen (epoch seconds)}
_SALT = "reconnect_clinic.link-ref"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)  # type: ignore[arg-type]


def start_link_session(link: ClientLink) -> None:
    links = dict(session.get(_KEY) or {})
    links[str(link.id)] = time.time()
    session[_KEY] = links


def end_link_session(link_id: uuid.UUID) -> None:
    links = dict(session.get(_KEY) or {})
    if links.pop(str(link_id), None) is not None:
        session[_KEY] = links


def session_link(link_id: uuid.UUID, purpose: str) -> ClientLink | None:
    """The link ``link_id`` if this browser opened it and has not gone idle since."""
    links = session.get(_KEY)
    if not isinstance(links, dict):
        return None
    seen = links.get(str(link_id))
    if not isinstance(seen, int | float):
        return None
    if time.time() - seen > config("LINK_IDLE_TIMEOUT"):
        end_link_session(link_id)
        return None
    return _load(link_id, purpose)


def link_ref(link: ClientLink) -> str:
    """A signed, timestamped reference to ``link`` for the pages its partner may send."""
    return _serializer().dumps(str(link.id))


def link_from_ref(ref: str | None, link_id: uuid.UUID, purpose: str) -> ClientLink | None:
    """The link a posted page belongs to: the signature must be valid, not older than
    ``RECONNECT_CLINIC_FORM_LIFETIME`` seconds, and name the link in the address."""
    if not ref or not isinstance(ref, str) or len(ref) > 300:
        return None
    try:
        value = _serializer().loads(ref, max_age=config("FORM_LIFETIME"))
    except BadSignature:
        return None
    if value != str(link_id):
        return None
    return _load(link_id, purpose)


def _load(link_id: uuid.UUID, purpose: str) -> ClientLink | None:
    link = db_session().get(ClientLink, link_id)
    if link is None or link.purpose != purpose:
        return None
    return link


def end_all_link_sessions() -> None:
    """Forget every link this browser holds (the partner pressed "Exit this page"): going
    back to a partner page afterwards shows only the plain "link does not work" page."""
    session.pop(_KEY, None)
