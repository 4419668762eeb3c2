"""Turning a partner's link into a short browser session.

The token is exchanged once for a signed session entry and the partner is sent on to
token-free addresses, so the token does not sit in the address bar, the browser history
of every page, or the server's access log for each page they fill in. Every request
re-reads the link from the database, so revoking it takes effect at once.
"""

from __future__ import annotations

import time
import uuid

from flask import session

from ..models import ClientLink
from ..state import config, db_session
from .links import LinkState, state_of

_KEY = "reconnect_clinic_link"


def start_link_session(link: ClientLink) -> None:
    session[_KEY] = {"id": str(link.id), "purpose": link.purpose, "seen": time.time()}


def end_link_session() -> None:
    session.pop(_KEY, None)


def current_link(purpose: str) -> tuple[ClientLink | None, LinkState | None]:
    """The link this browser opened for ``purpose`` and its state, or (None, None) when
    there is none or it went idle too long."""
    entry = session.get(_KEY)
    if not isinstance(entry, dict) or entry.get("purpose") != purpose:
        return None, None
    now = time.time()
    if now - float(entry.get("seen", 0)) > config("LINK_IDLE_TIMEOUT"):
        end_link_session()
        return None, None
    try:
        link_id = uuid.UUID(str(entry.get("id")))
    except ValueError:
        end_link_session()
        return None, None
    link = db_session().get(ClientLink, link_id)
    if link is None or link.purpose != purpose:
        end_link_session()
        return None, None
    entry["seen"] = now
    session[_KEY] = entry
    return link, state_of(link)
