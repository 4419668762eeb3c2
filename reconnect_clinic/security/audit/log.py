"""Writing and checking the audit log.

Callers record an event in the same transaction as the change it describes, so a change
is never committed without its log line, and a failed change leaves no line behind.

Each line carries an HMAC-SHA256, under a key from configuration, of its content and of
the line before it, so an edited, removed or inserted line breaks the chain from that
point on, and the chain cannot be recomputed after an edit without the key: ``flask
clinic audit-verify`` finds it. Writers take turns at the end of the chain (a
transaction-level advisory lock on PostgreSQL; SQLite's transactions already run one at
a time), and the database itself refuses to change or delete a line (triggers created by
the migrations).

A key alone cannot show that lines were removed from the *end* of the log, nor a chain
recomputed by someone who holds the key. Checkpoints do: the line count and last hash,
MACed, kept where the database's editors cannot silently rewrite them. Each stored
signed report carries one (and prints it in its PDF, which is sealed), and ``audit-verify
--checkpoint`` prints one for the operator to keep elsewhere; verification checks that
the log still holds, at each checkpoint's place, the line it recorded.

Keys (``RECONNECT_CLINIC_AUDIT_KEYS`` / ``_AUDIT_KEY_ID``, the shape of the encryption
keys): each line records the id of the key that MACed it, so a new key takes over for
new lines while old ones keep verifying under theirs; nothing is ever re-MACed, since
the log is append-only. Unset, a key is derived from each encryption key (HKDF-SHA256,
an info string of its own, the same id), so deployments keep working with no new
setting. Lines from before keyed auditing (migration 0011) carry a plain SHA-256 and
``key_id`` NULL; they verify as a prefix only: an unkeyed line after a keyed one is a
break.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import has_request_context, request

from ...models import AuditEvent, ClientLink, StoredReport, Therapist, utcnow
from ...state import db_session, get_state
from ..encryption.cipher import FieldCipher

GENESIS = "0" * 64
# Any fixed number: the key of the advisory lock that orders writers on PostgreSQL.
_CHAIN_LOCK = 0x636C696E6963  # "clinic"

# Where the app's audit keys live (built and checked at ``init_app``).
# Distinct contexts: a line's MAC can never pass for a checkpoint's, nor a derived audit
# key for the encryption key it comes from.
_LINE_CONTEXT = "reconnect_clinic audit line v1"
_CHECKPOINT_CONTEXT = "reconnect_clinic audit checkpoint v1"
HKDF_INFO = b"reconnect_clinic audit chain key v1"
MIN_KEY_BYTES = 32
MAX_KEY_ID = 64  # clinic_audit_event.key_id
CHECKPOINT_PREFIX = "clinic-audit-checkpoint v1"


class AuditKeyError(ValueError):
    """The audit keys in configuration are unusable; the message says what to change."""


@dataclass(frozen=True)
class AuditKeys:
    """The keys that MAC audit lines and checkpoints, by id, and the one new lines use."""

    keys: Mapping[str, bytes]
    current: str
    # True when derived from the encryption keys (no audit keys configured).
    derived: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AuditKeys:
        """The keys a configuration names; raises AuditKeyError saying what is wrong."""
        given = config.get("RECONNECT_CLINIC_AUDIT_KEYS")
        current = config.get("RECONNECT_CLINIC_AUDIT_KEY_ID")
        if not given and not current:
            return cls.derive(
                FieldCipher.from_config(
                    config.get("RECONNECT_CLINIC_ENCRYPTION_KEYS"),
                    config.get("RECONNECT_CLINIC_ENCRYPTION_KEY_ID"),
                )
            )
        if not given or not current:
            raise AuditKeyError(
                "set both RECONNECT_CLINIC_AUDIT_KEYS = {'<id>': '<key>'} and "
                "RECONNECT_CLINIC_AUDIT_KEY_ID = '<id>', or neither (the audit keys are "
                "then derived from the encryption keys)"
            )
        decoded = {}
        for key_id, text in given.items():
            _check_key_id(key_id)
            try:
                raw = base64.urlsafe_b64decode(text)
            except (binascii.Error, ValueError, TypeError):
                raise AuditKeyError(f"audit key {key_id!r} is not base64") from None
            if len(raw) < MIN_KEY_BYTES:
                raise AuditKeyError(
                    f"audit key {key_id!r} must be at least {MIN_KEY_BYTES} bytes "
                    "(`flask clinic new-key` makes one)"
                )
            decoded[key_id] = raw
        if current not in decoded:
            raise AuditKeyError(f"RECONNECT_CLINIC_AUDIT_KEY_ID {current!r} is not a key")
        return cls(keys=decoded, current=current)

    @classmethod
    def derive(cls, cipher: FieldCipher) -> AuditKeys:
        """One audit key per encryption key, under the same id (HKDF-SHA256)."""
        for key_id in cipher.keys:
            _check_key_id(key_id, spaces=True)  # an encryption key's id, kept as it is
        return cls(
            keys={key_id: derive_key(raw) for key_id, raw in cipher.keys.items()},
            current=cipher.current,
            derived=True,
        )

    def mac(self, key_id: str, message: str) -> str | None:
        """The HMAC-SHA256 of ``message`` under ``key_id``; None if that key is unknown."""
        key = self.keys.get(key_id)
        if key is None:
            return None
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def mac_current(self, message: str) -> str:
        """The HMAC-SHA256 of ``message`` under the current key."""
        return hmac.new(
            self.keys[self.current], message.encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def as_config(self) -> dict[str, str]:
        """The keys in the form of ``RECONNECT_CLINIC_AUDIT_KEYS``."""
        return {
            key_id: base64.urlsafe_b64encode(raw).decode("ascii")
            for key_id, raw in self.keys.items()
        }

    def missing_key_hint(self, key_id: str) -> str:
        if self.derived:
            return (
                f"; the audit keys are derived from the encryption keys, so keep encryption "
                f"key {key_id!r} listed, or list its audit key in RECONNECT_CLINIC_AUDIT_KEYS"
            )
        return "; old audit keys must stay in RECONNECT_CLINIC_AUDIT_KEYS for good"


def _check_key_id(key_id: Any, *, spaces: bool = False) -> None:
    # No dots: a stored report keeps "<key id>.<mac>". The id is the last field of a
    # checkpoint line, so even spaces would read back; new ids are kept plain anyway.
    if not isinstance(key_id, str) or not key_id or "." in key_id or len(key_id) > MAX_KEY_ID:
        raise AuditKeyError(
            f"audit key id {key_id!r} must be text of 1 to {MAX_KEY_ID} characters, no dots"
        )
    if not spaces and key_id != "".join(key_id.split()):
        raise AuditKeyError(f"audit key id {key_id!r} must have no spaces")


def derive_key(encryption_key: bytes) -> bytes:
    """The audit key derived from an encryption key (used when none is configured)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        encryption_key
    )


def audit_keys() -> AuditKeys:
    """The current app's audit keys (checked at ``init_app``)."""
    return get_state().audit_keys


# --- lines ---------------------------------------------------------------------------


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


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The unkeyed SHA-256 of lines written before keyed auditing (verification only)."""
    return hashlib.sha256(f"{prev_hash}\n{_canonical(fields)}".encode()).hexdigest()


def line_message(key_id: str, prev_hash: str, fields: dict[str, Any]) -> str:
    """What a keyed line's MAC is taken of: its key's id, the line before, its content."""
    return f"{_LINE_CONTEXT}\n{key_id}\n{prev_hash}\n{_canonical(fields)}"


def chain_line(event: AuditEvent, prev_hash: str, keys: AuditKeys) -> None:
    """Link ``event`` after the line whose hash is ``prev_hash``, MACed with the current
    key (for writers that insert lines themselves, in chain order)."""
    event.prev_hash = prev_hash
    event.key_id = keys.current
    event.row_hash = keys.mac_current(line_message(keys.current, prev_hash, event_fields(event)))


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
    keys = audit_keys()
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
    )
    chain_line(event, prev_hash, keys)
    session.add(event)
    session.flush()
    return event


def line_problems(
    event: AuditEvent, *, previous: str, keyed_before: bool, keys: AuditKeys
) -> list[str]:
    """What is wrong with one line, given the hash of the line before it and whether a
    keyed line came earlier (a pure decision: no database)."""
    problems = []
    if event.prev_hash != previous:
        problems.append("does not follow the line before it (a line removed, added or reordered)")
    fields = event_fields(event)
    if event.key_id is None:
        if keyed_before:
            problems.append(
                "an unkeyed line after keyed ones (only lines from before keyed auditing, "
                "at the start of the log, may be unkeyed): written or recomputed without "
                "the audit key"
            )
        elif event.row_hash != chain_hash(event.prev_hash or "", fields):
            problems.append("its content does not match its hash (edited)")
        return problems
    expected = keys.mac(event.key_id, line_message(event.key_id, event.prev_hash or "", fields))
    if expected is None:
        problems.append(
            f"MACed with audit key {event.key_id!r}, which is not configured"
            + keys.missing_key_hint(event.key_id)
        )
    elif not hmac.compare_digest(expected, event.row_hash or ""):
        problems.append(
            "its content does not match its MAC (edited, or recomputed without the audit key)"
        )
    return problems


# --- checkpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The log's head at some moment: it had ``lines`` lines, the last hashing to
    ``head``. ``scope`` says where it was made (and is MACed with it): ``at=<time>`` for
    an operator's line, ``stored_report=<id>`` for a report's."""

    lines: int
    head: str
    scope: str
    key_id: str
    mac: str
    label: str = field(default="", compare=False)  # how messages name it

    @property
    def message(self) -> str:
        return checkpoint_message(self.key_id, self.lines, self.head, self.scope)


def checkpoint_message(key_id: str, lines: int, head: str, scope: str) -> str:
    return f"{_CHECKPOINT_CONTEXT}\n{key_id}\n{lines}\n{head}\n{scope}"


def make_checkpoint(
    keys: AuditKeys, lines: int, head: str, scope: str, label: str = ""
) -> Checkpoint:
    mac = keys.mac_current(checkpoint_message(keys.current, lines, head, scope))
    return Checkpoint(lines, head, scope, keys.current, mac, label or scope)


def log_head() -> tuple[int, str]:
    """How many lines the log has and the last one's hash, from one statement (so one
    snapshot: writers commit in chain order, so the lines seen are a prefix of it)."""
    count = sa.select(sa.func.count()).select_from(AuditEvent).scalar_subquery()
    last = sa.select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1).scalar_subquery()
    lines, head = db_session().execute(sa.select(count, last)).one()
    return int(lines), head or GENESIS


def report_checkpoint(report_id: uuid.UUID) -> Checkpoint:
    """A checkpoint of the log now, for the stored report ``report_id`` to carry."""
    lines, head = log_head()
    return make_checkpoint(audit_keys(), lines, head, f"stored_report={report_id}")


def report_mac(checkpoint: Checkpoint) -> str:
    """How a stored report keeps its checkpoint's MAC: ``<key id>.<hex>``."""
    return f"{checkpoint.key_id}.{checkpoint.mac}"


def stored_report_checkpoints() -> list[Checkpoint]:
    """The checkpoint of every stored report that carries one."""
    rows = db_session().execute(
        sa.select(
            StoredReport.id,
            StoredReport.revision,
            StoredReport.audit_lines,
            StoredReport.audit_head,
            StoredReport.audit_mac,
        )
        .where(StoredReport.audit_lines.is_not(None))
        .order_by(StoredReport.created_at)
    )
    found = []
    for report_id, revision, lines, head, stored_mac in rows:
        key_id, _, mac = (stored_mac or "").partition(".")
        found.append(
            Checkpoint(
                lines or 0,  # never None: the query selects only rows with lines
                head or "",
                f"stored_report={report_id}",
                key_id,
                mac,
                label=f"the checkpoint of stored report {report_id} (revision {revision})",
            )
        )
    return found


def checkpoint_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def operator_checkpoint(lines: int, head: str, at: datetime) -> Checkpoint:
    time = checkpoint_time(at)
    return make_checkpoint(audit_keys(), lines, head, f"at={time}", f"the checkpoint of {time}")


def checkpoint_line(checkpoint: Checkpoint) -> str:
    """An operator's checkpoint as one line of text (the key id last: it may be any text
    without dots or spaces)."""
    time = checkpoint.scope.removeprefix("at=")
    return (
        f"{CHECKPOINT_PREFIX} lines={checkpoint.lines} head={checkpoint.head} at={time} "
        f"mac={checkpoint.mac} key={checkpoint.key_id}"
    )


def parse_checkpoint_line(text: str) -> Checkpoint:
    """The checkpoint a line from :func:`checkpoint_line` states; ValueError if the text
    is not one (its MAC is checked later, with the log)."""
    rest = text.lstrip().rstrip("\r\n")
    if not rest.startswith(CHECKPOINT_PREFIX + " "):
        raise ValueError(f"not a checkpoint line (it starts {CHECKPOINT_PREFIX!r})")
    fields, _, key_id = rest[len(CHECKPOINT_PREFIX) :].partition(" key=")
    parts = dict(part.partition("=")[::2] for part in fields.split())
    try:
        lines = int(parts["lines"])
        head, time, mac = parts["head"], parts["at"], parts["mac"]
        if not key_id:
            raise KeyError("key")
        datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ")  # noqa: DTZ007 - a UTC stamp by format
    except (KeyError, ValueError):
        raise ValueError("not a checkpoint line (lines, head, at, mac and key expected)") from None
    if lines < 0 or len(head) != 64:
        raise ValueError("not a checkpoint line (a line count and a 64-digit head expected)")
    return Checkpoint(lines, head, f"at={time}", key_id, mac, f"the checkpoint of {time}")


def checkpoint_problems(
    checkpoint: Checkpoint, *, keys: AuditKeys, checked: int, hash_at: Mapping[int, str]
) -> list[str]:
    """What is wrong with the log, or the checkpoint, given the number of lines walked and
    the hash at each checkpointed place (a pure decision)."""
    expected = keys.mac(checkpoint.key_id, checkpoint.message)
    if expected is None:
        return [
            f"{checkpoint.label} was MACed with audit key {checkpoint.key_id!r}, which is not "
            "configured" + keys.missing_key_hint(checkpoint.key_id)
        ]
    if not hmac.compare_digest(expected, checkpoint.mac):
        return [
            f"{checkpoint.label} does not verify (it was altered, or not made with this "
            "clinic's audit key)"
        ]
    if checkpoint.lines > checked:
        return [
            f"the log has {checked} lines but {checkpoint.label} recorded {checkpoint.lines}: "
            "lines were removed from its end"
        ]
    if hash_at.get(checkpoint.lines, GENESIS) != checkpoint.head:
        return [
            f"line {checkpoint.lines} is not the one {checkpoint.label} recorded: the log "
            "was rewritten up to there (lines changed, removed or recomputed)"
        ]
    return []


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    # The line where the problem shows; None for a checkpoint the log no longer reaches.
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int  # lines walked
    head: str  # the last line's hash (GENESIS for an empty log)
    unkeyed: int  # lines from before keyed auditing, at the start
    checkpoints: int  # checkpoints held against the log
    breaks: list[ChainBreak]


def verify_log(
    checkpoints: Iterable[Checkpoint] = (), *, stored_reports: bool = True, batch: int = 1000
) -> Verification:
    """Walk the whole log in order and hold it against ``checkpoints`` and (by default)
    every stored report's; return what was checked and every break."""
    keys = audit_keys()
    session = db_session()
    # Read the reports' checkpoints first: each names only lines committed before it, so
    # the walk that follows sees them all.
    held = [*checkpoints, *(stored_report_checkpoints() if stored_reports else ())]
    places = {checkpoint.lines for checkpoint in held}
    hash_at: dict[int, str] = {}
    id_at: dict[int, int] = {}
    breaks: list[ChainBreak] = []
    previous = GENESIS
    checked = unkeyed = 0
    keyed_before = False
    for event in _in_order(session, batch):
        checked += 1
        for reason in line_problems(event, previous=previous, keyed_before=keyed_before, keys=keys):
            breaks.append(ChainBreak(event.id, reason))
        if event.key_id is None and not keyed_before:
            unkeyed += 1
        keyed_before = keyed_before or event.key_id is not None
        previous = event.row_hash or ""
        if checked in places:
            hash_at[checked], id_at[checked] = previous, event.id
    for checkpoint in held:
        for reason in checkpoint_problems(checkpoint, keys=keys, checked=checked, hash_at=hash_at):
            breaks.append(ChainBreak(id_at.get(checkpoint.lines), reason))
    return Verification(checked, previous, unkeyed, len(held), breaks)


def verify_chain(batch: int = 1000) -> tuple[int, list[ChainBreak]]:
    """Walk the whole log in order; return how many lines were checked and every break
    (stored reports' checkpoints included)."""
    result = verify_log(batch=batch)
    return result.checked, result.breaks


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
