"""Turning a partner's link into a browser session, and proving a posted page came from it.

The token is exchanged once for a signed session entry and the partner is sent on to
addresses that carry only the link's id, so the token does not sit in the address bar,
the history of every page, or the access log of each page they fill in. A browser may
hold several links at once (two partners sharing one computer), each under its own id,
so one partner's pages never act on the other's link.

Every page a partner can send carries a signed reference to its link (``link_ref``),
which also names the browser session it was drawn for. A post is accepted only with a
valid one (which stops cross-site posts), and only while this browser's session for the
link is live: a page left open past ``RECONNECT_CLINIC_LINK_IDLE_TIMEOUT`` does not let
whoever finds it on a shared device back in. What it carried is kept as a draft, never
shown, when the post provably comes from the same link session (see
:func:`posted_access`); the partner opens their link again to carry on. The link's
state is read from the database on every request, so revoking it takes effect at once.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app, session
from itsdangerous import BadData, URLSafeTimedSerializer

from ...models import ClientLink
from ...state import config, db_session

# {link id: {"seen": epoch seconds, "nonce": this link session's id, "out": why closed}}
_KEY = "reconnect_clinic_links"
_SALT = "reconnect_clinic.link-ref"


class TimedOut(StrEnum):
    """Why a link's pages are closed in this browser (kept in its session entry)."""

    IDLE = "idle"  # the idle limit passed; nothing was sent since
    KEPT = "kept"  # a page was sent after it, and what it carried was kept as a draft
    LOST = "lost"  # a page was sent after it, and could not be kept


class Access(StrEnum):
    """What a posted partner page may do (see :func:`posted_access`)."""

    LIVE = "live"  # an ordinary post
    KEEP = "keep"  # timed out, provably the same link session: keep it as a draft only
    TIMED_OUT = "timed_out"  # a genuine page of this link that cannot be kept
    STALE = "stale"  # the link is live here, but this page is too old to be sent
    UNKNOWN = "unknown"  # no valid reference for this link: a plain "does not work"


@dataclass(frozen=True)
class Posted:
    access: Access
    link: ClientLink | None


def _serializer() -> URLSafeTimedSerializer:
    # arg-type: secret_key is None only in an app without one, whose sessions fail anyway.
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)  # type: ignore[arg-type]


def _entries() -> dict[str, dict[str, object]]:
    links = session.get(_KEY)
    if not isinstance(links, dict):
        return {}
    # An entry from before entries had a nonce (a bare timestamp) stays usable while live.
    return {
        key: value if isinstance(value, dict) else {"seen": value, "nonce": ""}
        for key, value in links.items()
    }


def _entry(link_id: uuid.UUID) -> dict[str, object] | None:
    entry = _entries().get(str(link_id))
    if entry is None or not isinstance(entry.get("seen"), int | float):
        return None
    return entry


def _put(link_id: uuid.UUID, entry: dict[str, object]) -> None:
    links = _entries()
    links[str(link_id)] = entry
    session[_KEY] = links


def start_link_session(link: ClientLink) -> None:
    """Open (or reopen) ``link`` in this browser. Reopening keeps the link session's
    nonce, so pages drawn before still count as this session's."""
    entry = _entry(link.id)
    nonce = entry.get("nonce") if entry else None
    _put(link.id, {"seen": time.time(), "nonce": nonce or secrets.token_urlsafe(12)})


def _touch(link_id: uuid.UUID, entry: dict[str, object]) -> None:
    _put(link_id, {**entry, "seen": time.time()})


def end_link_session(link_id: uuid.UUID) -> None:
    links = _entries()
    if links.pop(str(link_id), None) is not None:
        session[_KEY] = links


def _idle(entry: dict[str, object]) -> bool:
    # arg-type: _entry has checked that "seen" is a number.
    return "out" in entry or time.time() - float(entry["seen"]) > config("LINK_IDLE_TIMEOUT")  # type: ignore[arg-type]


def _close(link_id: uuid.UUID, entry: dict[str, object] | None, why: TimedOut) -> None:
    """Mark the link's pages closed in this browser: each of them says so (not "this
    link does not work") until the partner opens the link again or leaves."""
    _put(link_id, {"seen": 0, "nonce": "", **(entry or {}), "out": why.value})


def timed_out(link_id: uuid.UUID) -> TimedOut | None:
    """Why ``link_id``'s pages are closed in this browser, if they are."""
    entry = _entry(link_id)
    if entry is None:
        return None
    if "out" in entry:
        try:
            return TimedOut(str(entry["out"]))
        except ValueError:
            return TimedOut.IDLE
    if _idle(entry):
        return TimedOut.IDLE
    return None


def session_link(link_id: uuid.UUID, purpose: str) -> ClientLink | None:
    """The link ``link_id`` if this browser opened it and has not gone idle since (each
    page it reads counts as activity). A link gone idle is marked closed here."""
    entry = _entry(link_id)
    if entry is None:
        return None
    if _idle(entry):
        if "out" not in entry:
            _close(link_id, entry, TimedOut.IDLE)
        return None
    link = _load(link_id, purpose)
    if link is not None:
        _touch(link_id, entry)
    return link


def link_ref(link: ClientLink) -> str:
    """A signed, timestamped reference to ``link`` and to this browser's session for it,
    for the pages its partner may send."""
    entry = _entry(link.id)
    nonce = str(entry.get("nonce") or "") if entry else ""
    return _serializer().dumps([str(link.id), nonce])


def _read_ref(ref: str | None, link_id: uuid.UUID) -> tuple[bool, str] | None:
    """(still fresh, session nonce) of a genuine reference to ``link_id``, else None."""
    if not ref or not isinstance(ref, str) or len(ref) > 300:
        return None
    try:
        value, signed_at = _serializer().loads(ref, return_timestamp=True)
    except BadData:
        return None
    fresh = time.time() - signed_at.timestamp() <= config("FORM_LIFETIME")
    if isinstance(value, str):  # a page drawn before references named their session
        value = [value, ""]
    if not isinstance(value, list) or len(value) != 2 or value[0] != str(link_id):
        return None
    return fresh, str(value[1] or "")


def posted_access(ref: str | None, link_id: uuid.UUID, purpose: str) -> Posted:
    """What a page posted to ``link_id``'s address may do.

    * ``LIVE``: this browser's session for the link is live (not idle), and the
      reference is fresh or was drawn for this very session: an ordinary post, which
      counts as activity.
    * ``STALE``: the session is live, but the page is older than
      ``RECONNECT_CLINIC_FORM_LIFETIME`` and from another link session: not saved, the
      session left as it is.
    * ``KEEP``: the session went idle (or was closed for it) but the post provably
      comes from the same link session: a fresh reference drawn for this very session
      (its nonce), in the browser that still holds it. It may be kept as a draft,
      never shown; the link's pages stay closed until the partner opens it again.
    * ``TIMED_OUT``: a genuine page of this link that cannot be proven to be the same
      session (the browser no longer holds it: closed, "Exit this page"; or the page is
      older than ``RECONNECT_CLINIC_FORM_LIFETIME``): nothing of it is kept.
    * ``UNKNOWN``: no valid reference to this link (forged, another link's, none).
    """
    read = _read_ref(ref, link_id)
    if read is None:
        return Posted(Access.UNKNOWN, None)
    link = _load(link_id, purpose)
    if link is None:
        return Posted(Access.UNKNOWN, None)
    fresh, nonce = read
    entry = _entry(link_id)
    if entry is None:
        return Posted(Access.TIMED_OUT, link)
    same_session = bool(nonce) and secrets.compare_digest(nonce, str(entry.get("nonce") or ""))
    if not _idle(entry):
        if fresh or same_session:
            _touch(link_id, entry)
            return Posted(Access.LIVE, link)
        return Posted(Access.STALE, link)
    if fresh and same_session:
        return Posted(Access.KEEP, link)
    return Posted(Access.TIMED_OUT, link)


def close_after_timeout(link_id: uuid.UUID, *, kept: bool) -> None:
    """After a post that came past the idle limit: the link's pages in this browser say
    the page timed out, and whether what it carried was kept."""
    _close(link_id, _entry(link_id), TimedOut.KEPT if kept else TimedOut.LOST)


def _load(link_id: uuid.UUID, purpose: str) -> ClientLink | None:
    link = db_session().get(ClientLink, link_id)
    if link is None or link.purpose != purpose:
        return None
    return link


def end_all_link_sessions() -> None:
    """Forget every link this browser holds (the partner pressed "Exit this page"): going
    back to a partner page afterwards shows only the plain "link does not work" page."""
    session.pop(_KEY, None)
