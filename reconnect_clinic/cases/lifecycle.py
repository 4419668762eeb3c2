"""A case's records over its life: retention after closing, export for a records
request, and the purge of cases past retention (never of one on legal hold)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..models import (
    AuditEvent,
    ClientLink,
    Couple,
    HomeworkAssignment,
    HomeworkCheckIn,
    IntakePage,
    IntakeResponse,
    MeasureResult,
    NoteAddendum,
    Partner,
    ReminderSent,
    SessionNote,
    StoredReport,
    SuggestionDecision,
    TherapySession,
)
from ..security.audit import record_event
from ..state import db_session


def retention_until(closed_on: date, last_session: date | None, years: int) -> date:
    """Records are kept ``years`` after the later of the last session and the closing."""
    start = max(d for d in (closed_on, last_session) if d is not None)
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def last_session_on(couple_id: uuid.UUID) -> date | None:
    return db_session().scalar(
        sa.select(sa.func.max(TherapySession.held_on)).where(
            TherapySession.couple_id == couple_id, TherapySession.deleted_at.is_(None)
        )
    )


def _plain(row: Any, *names: str) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(row, name)
        if isinstance(value, uuid.UUID | date):
            value = value.isoformat() if isinstance(value, date) else str(value)
        out[name] = value
    return out


def export_record(couple: Couple) -> dict[str, Any]:
    """Everything held about a case, as plain JSON-able data (free text opened)."""
    session = db_session()
    partner_ids = [p.id for p in couple.partners]
    responses = session.scalars(
        sa.select(IntakeResponse).where(IntakeResponse.partner_id.in_(partner_ids))
    ).all()
    assignments = session.scalars(
        sa.select(HomeworkAssignment).where(HomeworkAssignment.couple_id == couple.id)
    ).all()
    sessions = session.scalars(
        sa.select(TherapySession).where(TherapySession.couple_id == couple.id)
    ).all()
    return {
        "couple": _plain(
            couple,
            "id",
            "label",
            "status",
            "opened_on",
            "closed_on",
            "retention_until",
            "legal_hold",
        ),
        "partners": [
            _plain(p, "id", "role", "first_name", "last_name", "email", "pronouns")
            for p in couple.partners
        ],
        "intake": [
            {
                **_plain(r, "id", "partner_id", "status", "taxonomy_version", "consent_name"),
                "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                "scores": r.scores,
                "pages": r.page_values(),
            }
            for r in responses
        ],
        "measures": [
            {
                **_plain(m, "partner_id", "instrument", "total", "band"),
                "administered_at": m.administered_at.isoformat(),
                "item_points": m.item_points,
            }
            for m in session.scalars(
                sa.select(MeasureResult).where(MeasureResult.partner_id.in_(partner_ids))
            )
        ],
        "homework": [
            {
                **_plain(
                    a,
                    "id",
                    "title",
                    "healing_step",
                    "assignee",
                    "starts_on",
                    "due_on",
                    "frequency",
                    "times_per_week",
                    "closed_on",
                ),
                "therapist_note": a.therapist_note,
                "content": a.content,
                "check_ins": [
                    {
                        **_plain(
                            c,
                            "partner_id",
                            "checked_in_on",
                            "completion",
                            "helpfulness",
                            "share_with_partner",
                            "late",
                        ),
                        "reflection": c.reflection,
                    }
                    for c in a.check_ins
                ],
            }
            for a in assignments
        ],
        "sessions": [
            {
                **_plain(s, "id", "held_on", "duration_minutes", "format", "attendance"),
                "note": None
                if s.note is None
                else {
                    **_plain(s.note, "template", "status", "version"),
                    "signed_at": s.note.signed_at.isoformat() if s.note.signed_at else None,
                    "content": s.note.content,
                    "addenda": [
                        {
                            "body": a.body,
                            "signed_at": a.signed_at.isoformat(),
                            "signed_by_id": str(a.signed_by_id),
                        }
                        for a in s.note.addenda
                    ],
                },
            }
            for s in sessions
        ],
        "audit": [
            {
                **_plain(
                    e,
                    "id",
                    "actor_kind",
                    "actor_id",
                    "action",
                    "record_type",
                    "record_id",
                    "remote_addr",
                ),
                "occurred_at": e.occurred_at.isoformat(),
                "row_hash": e.row_hash,
            }
            for e in session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.couple_id == couple.id)
                .order_by(AuditEvent.id)
            )
        ],
    }


def export_zip(couple: Couple, pdfs: dict[str, bytes]) -> bytes:
    """The case's record as ``record.json`` plus its PDFs, in one zip file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "record.json", json.dumps(export_record(couple), indent=2, ensure_ascii=False)
        )
        for name, pdf in sorted(pdfs.items()):
            archive.writestr(f"reports/{name}", pdf)
    return buffer.getvalue()


@dataclass(frozen=True)
class PurgeCandidate:
    couple_id: uuid.UUID
    label: str
    retention_until: date


def purge_candidates(today: date) -> list[PurgeCandidate]:
    """Closed cases whose retention date has passed and that are not on legal hold."""
    rows = db_session().execute(
        sa.select(Couple.id, Couple.label, Couple.retention_until).where(
            Couple.status == "closed",
            Couple.retention_until.is_not(None),
            Couple.retention_until < today,
            Couple.legal_hold.is_(False),
        )
    )
    return [PurgeCandidate(*row) for row in rows]


def purge_case(couple_id: uuid.UUID) -> None:
    """Remove every record of a case (flushed). The audit log keeps its lines: they name
    ids and actions, never clinical text, and show that the purge happened."""
    session = db_session()
    partner_ids = list(session.scalars(sa.select(Partner.id).where(Partner.couple_id == couple_id)))
    assignment_ids = list(
        session.scalars(
            sa.select(HomeworkAssignment.id).where(HomeworkAssignment.couple_id == couple_id)
        )
    )
    session_ids = list(
        session.scalars(sa.select(TherapySession.id).where(TherapySession.couple_id == couple_id))
    )
    note_ids = list(
        session.scalars(
            sa.select(SessionNote.id).where(SessionNote.therapy_session_id.in_(session_ids))
        )
    )
    response_ids = list(
        session.scalars(
            sa.select(IntakeResponse.id).where(IntakeResponse.partner_id.in_(partner_ids))
        )
    )
    for statement in (
        sa.delete(ReminderSent).where(ReminderSent.assignment_id.in_(assignment_ids)),
        sa.delete(HomeworkCheckIn).where(HomeworkCheckIn.assignment_id.in_(assignment_ids)),
        sa.delete(HomeworkAssignment).where(HomeworkAssignment.id.in_(assignment_ids)),
        sa.delete(SuggestionDecision).where(SuggestionDecision.couple_id == couple_id),
        sa.delete(NoteAddendum).where(NoteAddendum.note_id.in_(note_ids)),
        sa.delete(SessionNote).where(SessionNote.id.in_(note_ids)),
        sa.delete(StoredReport).where(StoredReport.therapy_session_id.in_(session_ids)),
        sa.delete(TherapySession).where(TherapySession.id.in_(session_ids)),
        sa.delete(MeasureResult).where(MeasureResult.partner_id.in_(partner_ids)),
        sa.delete(IntakePage).where(IntakePage.response_id.in_(response_ids)),
        sa.delete(IntakeResponse).where(IntakeResponse.id.in_(response_ids)),
        sa.delete(ClientLink).where(ClientLink.partner_id.in_(partner_ids)),
        sa.delete(Partner).where(Partner.id.in_(partner_ids)),
        sa.delete(Couple).where(Couple.id == couple_id),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    session.flush()
    record_event(
        "couple.purge", actor=None, couple_id=couple_id, detail={"reason": "retention period ended"}
    )
