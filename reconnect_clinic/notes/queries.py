"""Loading a couple's sessions and the note templates in use, for the pages and reports
that show them."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import selectinload

from ..models import Couple, SessionNote, TherapySession
from ..state import config, db_session
from .templates import NoteTemplate, note_templates


def configured_templates() -> dict[str, NoteTemplate]:
    """The built-in note templates plus the practice's own (RECONNECT_CLINIC_NOTE_TEMPLATES)."""
    return note_templates(config("NOTE_TEMPLATES"))


def couple_sessions(couple: Couple) -> list[TherapySession]:
    """The couple's sessions not deleted, newest first, each note and its addenda loaded."""
    return list(
        db_session().scalars(
            sa.select(TherapySession)
            .where(TherapySession.couple_id == couple.id, TherapySession.deleted_at.is_(None))
            .options(selectinload(TherapySession.note).selectinload(SessionNote.addenda))
            .order_by(TherapySession.held_on.desc(), TherapySession.created_at.desc())
        )
    )


def session_or_404(couple: Couple, session_id: uuid.UUID) -> TherapySession:
    """The couple's session (not deleted), or 404."""
    therapy_session = db_session().get(TherapySession, session_id)
    if (
        therapy_session is None
        or therapy_session.couple_id != couple.id
        or therapy_session.deleted_at is not None
    ):
        abort(404)
    return therapy_session
