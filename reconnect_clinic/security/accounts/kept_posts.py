"""A form post that arrives after the idle limit is kept, not lost.

The idle sign-out (``views._enforce_timeouts``) would otherwise drop what the therapist
typed (a session note of a long session, say). Instead the post's fields are kept in a
sealed row (``KeptForm``; never in the cookie, which would carry clinical text), keyed to
the therapist of the expired session. Nothing is saved from it: the therapist's identity
is proven again first (a new sign-in as that same therapist), and then the text only
goes back into the form, to be reviewed and saved (or signed) by hand. A replayed post
never signs a note.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from ...models import KeptForm, utcnow
from ...state import config, db_session

#: Endpoints whose posts are kept across an idle sign-out: the forms a therapist types
#: at length into.
KEEPABLE_ENDPOINTS = frozenset({"reconnect_clinic.session_detail"})
#: Never kept: the CSRF token (a new session gets a new one), what the post asked to do
#: (a restored post is never an instruction to save or sign) and a signing confirmation.
_DROPPED = frozenset({"csrf_token", "action", "confirm_sign"})
#: More than any form of the product posts; a bigger post is not kept.
MAX_KEPT_CHARS = 250_000


def keepable_fields(form: Mapping[str, Sequence[str]]) -> dict[str, list[str]] | None:
    """The fields of a post worth keeping, {name: [values]}, or None if the post is too
    big to keep (a pure decision, tested without a request)."""
    kept = {name: list(values) for name, values in form.items() if name not in _DROPPED}
    if sum(len(v) for values in kept.values() for v in values) > MAX_KEPT_CHARS:
        return None
    return kept


def kept_is_current(created_at: datetime, now: datetime, lifetime: int) -> bool:
    """Whether a kept post is still to be restored (older ones are deleted unread)."""
    return now - created_at <= timedelta(seconds=lifetime)


def keep_post(therapist_id: uuid.UUID, path: str, fields: dict[str, list[str]]) -> KeptForm:
    """Keep ``fields`` for the therapist, replacing what was kept for the same page.
    Flushes; the caller commits."""
    session = db_session()
    session.execute(
        sa.delete(KeptForm).where(KeptForm.therapist_id == therapist_id, KeptForm.path == path)
    )
    # Anyone's kept posts past their lifetime go too: one who never signed in again
    # leaves nothing behind for long.
    too_old = utcnow() - timedelta(seconds=config("KEPT_FORM_LIFETIME"))
    session.execute(sa.delete(KeptForm).where(KeptForm.created_at < too_old))
    kept = KeptForm(therapist_id=therapist_id, path=path)
    kept.fields = fields
    session.add(kept)
    session.flush()
    return kept


def take_kept(therapist_id: uuid.UUID, path: str) -> tuple[MultiDict[str, str] | None, bool]:
    """What was kept for this signed-in therapist and page, as form data (None if nothing
    current is kept), deleting it: it is restored once. Also drops this therapist's kept
    posts past their lifetime. The flag says whether any row was deleted, so that the
    caller commits only then. Flushes; the caller commits."""
    session = db_session()
    rows = session.scalars(sa.select(KeptForm).where(KeptForm.therapist_id == therapist_id)).all()
    now = utcnow()
    found = None
    deleted = False
    lifetime = config("KEPT_FORM_LIFETIME")
    for row in rows:
        current = kept_is_current(row.created_at, now, lifetime)
        if row.path == path and current:
            found = MultiDict([(k, v) for k, values in row.fields.items() for v in values])
        if row.path == path or not current:
            session.delete(row)
            deleted = True
    session.flush()
    return found, deleted
