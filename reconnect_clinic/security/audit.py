"""Writing the audit log.

Callers record an event in the same transaction as the change it describes, so a change
is never committed without its log line, and a failed change leaves no line behind.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import has_request_context, request

from ..models import AuditEvent, ClientLink, Therapist
from ..state import db_session


def record_event(
    action: str,
    *,
    actor: Therapist | ClientLink | None,
    record: Any = None,
    couple_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event for ``action`` (e.g. ``"couple.view"``) and flush it."""
    if isinstance(actor, Therapist):
        actor_kind, actor_id = "therapist", str(actor.id)
    elif isinstance(actor, ClientLink):
        # The link's row id, never its token: tokens must not reach any log.
        actor_kind, actor_id = "link", str(actor.id)
    else:
        actor_kind, actor_id = "system", None
    event = AuditEvent(
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        record_type=type(record).__name__ if record is not None else None,
        record_id=str(record.id) if record is not None else None,
        couple_id=couple_id,
        remote_addr=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    session = db_session()
    session.add(event)
    session.flush()
    return event
