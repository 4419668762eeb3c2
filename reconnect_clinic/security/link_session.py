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

_KEY = "reconnect_clinic_link_{}"  # one entry per purpose: intake and homework side by side


def start_link_session(link: ClientLink) -> None:
    session[_KEY.format(link.purpose)] = {"id": str(link.id), "seen": time.time()}


def end_link_session(purpose: str) -> None:
    session.pop(_KEY.format(purpose), None)


def current_link(purpose: str) -> tuple[ClientLink | None, LinkState | None]:
    """The link this browser opened for ``purpose`` and its state, or (None, None) when
    there is none or it went idle too long."""
    key = _KEY.format(purpose)
    entry = session.get(key)
    if not isinstance(entry, dict):
        return None, None
    now = time.time()
    try:
        seen = float(entry.get("seen", 0))
        link_id = uuid.UUID(str(entry.get("id")))
    except (TypeError, ValueError):
        end_link_session(purpose)
        return None, None
    if now - seen > config("LINK_IDLE_TIMEOUT"):
        end_link_session(purpose)
        return None, None
    link = db_session().get(ClientLink, link_id)
    if link is None or link.purpose != purpose:
        end_link_session(purpose)
        return None, None
    entry["seen"] = now
    session[key] = entry
    return link, state_of(link)
