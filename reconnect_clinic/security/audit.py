"""Writing and checking the audit log.

Callers record an event in the same transaction as the change it describes, so a change
is never committed without its log line, and a failed change leaves no line behind.

Each line carries a SHA-256 chained to the line before it, so an edited, removed or
inserted line breaks the chain from that point on: ``flask clinic audit-verify`` finds
it. Writers take turns at the end of the chain (a transaction-level advisory lock on
PostgreSQL; SQLite's transactions already run one at a time), and the database itself
refuses to change or delete a line (triggers created by the migrations).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request

from ..models import AuditEvent, ClientLink, Therapist, utcnow
from ..state import db_session

GENESIS = "0" * 64
# Any fixed number: the key of the advisory lock that orders writers on PostgreSQL.
_CHAIN_LOCK = 0x636C696E6963  # "clinic"


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """What an audit line says, in the form its hash is taken of."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "action": event.action,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "couple_id": str(event.couple_id) if event.couple_id else None,
        "remote_addr": event.remote_addr,
        "detail": event.detail,
    }


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def actor_fields(actor: Therapist | ClientLink | None) -> tuple[str, str | None]:
    """Who an audit line names as its actor: their kind and id."""
    if isinstance(actor, Therapist):
        return "therapist", str(actor.id)
    if isinstance(actor, ClientLink):
        # The link's row id, never its token: tokens must not reach any log.
        return "link", str(actor.id)
    return "system", None


def record_event(
    action: str,
    *,
    actor: Therapist | ClientLink | None,
    record: Any = None,
    couple_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event for ``action`` (e.g. ``"couple.view"``) and flush it."""
    actor_kind, actor_id = actor_fields(actor)
    session = db_session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    prev_hash = (
        session.scalar(sa.select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
        or GENESIS
    )
    event = AuditEvent(
        occurred_at=utcnow(),
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        record_type=type(record).__name__ if record is not None else None,
        record_id=str(record.id) if record is not None else None,
        couple_id=couple_id,
        remote_addr=request.remote_addr if has_request_context() else None,
        detail=detail,
        prev_hash=prev_hash,
    )
    event.row_hash = chain_hash(prev_hash, event_fields(event))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(batch: int = 1000) -> tuple[int, list[ChainBreak]]:
    """Walk the whole log in order; return how many lines were checked and every break."""
    session = db_session()
    breaks: list[ChainBreak] = []
    previous = GENESIS
    checked = 0
    for event in _in_order(session, batch):
        checked += 1
        if event.prev_hash != previous:
            breaks.append(
                ChainBreak(
                    event.id,
                    "does not follow the line before it (a line removed, added or reordered)",
                )
            )
        if event.row_hash != chain_hash(event.prev_hash or "", event_fields(event)):
            breaks.append(ChainBreak(event.id, "its content does not match its hash (edited)"))
        previous = event.row_hash or ""
    return checked, breaks


def _in_order(session: Any, batch: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def couple_log(couple_id: uuid.UUID, limit: int = 500) -> list[AuditEvent]:
    return list(
        db_session().scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.couple_id == couple_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
