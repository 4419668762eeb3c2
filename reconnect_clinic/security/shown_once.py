"""A secret shown to the therapist once, on a page of its own (post/redirect/get).

A private link's token and a set of recovery codes exist in clear only in the request
that makes them: the database keeps hashes. The view that makes one keeps it here, in
the therapist's session, for one showing, and answers with a redirect (303) to a page
that takes it out and shows it. Reload, or Back and Forward, then finds nothing to show
and nothing is made again (making a link again would revoke the one just sent).

The session is Flask's signed cookie: signed, not encrypted, so what it holds is sealed
(``crypto.FieldCipher``) and bound to the record it belongs to (the link, or the
therapist) and to its use. The cookie is ``HttpOnly`` (Flask's default, which the
demo app sets too), so no script on the page can read it, and the secret is never in
an address.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import session

from .encryption.cipher import EncryptionError, cipher

_PREFIX = "reconnect_clinic_shown_once_"
#: What a sealed value in the session is bound to, beside its record and its use.
_TABLE = "session"


def keep_to_show_once(use: str, record_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Keep ``payload`` (JSON) sealed in the session, for :func:`take_to_show` to show
    once. A newer one for the same use replaces the older."""
    sealed = cipher().seal(
        json.dumps(payload, sort_keys=True), table=_TABLE, column=use, row_id=record_id
    )
    session[_PREFIX + use] = {"record": str(record_id), "sealed": sealed}


def pending_record(use: str) -> uuid.UUID | None:
    """The record whose secret waits to be shown for ``use``, without taking it."""
    kept = session.get(_PREFIX + use)
    if not isinstance(kept, dict):
        return None
    try:
        return uuid.UUID(str(kept.get("record")))
    except ValueError:
        return None


def take_to_show(use: str) -> tuple[uuid.UUID, dict[str, Any]] | None:
    """The record and payload kept for ``use``, removed from the session: a second call
    finds nothing. None if nothing is kept, or if it no longer opens (a key retired
    since, say): then it is simply not shown, and a new one can be made."""
    kept = session.pop(_PREFIX + use, None)
    record_id = None
    if isinstance(kept, dict):
        try:
            record_id = uuid.UUID(str(kept.get("record")))
            text = cipher().open(
                str(kept.get("sealed")), table=_TABLE, column=use, row_id=record_id
            )
            payload = json.loads(text)
        except (ValueError, EncryptionError):
            return None
        if isinstance(payload, dict):
            return record_id, payload
    return None
