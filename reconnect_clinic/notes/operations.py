"""Therapy sessions and their notes. Operations flush; the view commits once.

A note is a draft until signed; a signed note never changes again (a correction is an
addendum, signed on its own). Saving a draft names the version it was based on, so two
people editing the same draft cannot silently overwrite each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from ..models import (
    Couple,
    NoteAddendum,
    NoteStatus,
    SessionNote,
    Therapist,
    TherapySession,
    utcnow,
)
from ..security.audit.log import record_event
from ..state import db_session


class NoteLocked(ValueError):
    """The note is signed: it cannot change; add an addendum instead."""


class NoteConflict(ValueError):
    """The note changed since the editor opened it (another tab or another person).
    ``current`` is the note as it is now: None when it was deleted under the editor."""

    def __init__(self, current: SessionNote | None) -> None:
        super().__init__("the note was changed since it was opened")
        self.current = current


@dataclass(frozen=True)
class SessionDetails:
    held_on: date
    duration_minutes: int
    format: str
    attendance: str


def create_session(couple: Couple, therapist: Therapist, details: SessionDetails) -> TherapySession:
    therapy_session = TherapySession(
        couple_id=couple.id,
        therapist_id=therapist.id,
        held_on=details.held_on,
        duration_minutes=details.duration_minutes,
        format=details.format,
        attendance=details.attendance,
    )
    session = db_session()
    session.add(therapy_session)
    session.flush()
    record_event("session.create", actor=therapist, record=therapy_session, couple_id=couple.id)
    return therapy_session


def update_session(
    therapy_session: TherapySession, therapist: Therapist, details: SessionDetails
) -> None:
    if therapy_session.note is not None and therapy_session.note.is_signed:
        raise NoteLocked("The note for this session is signed, so its details cannot change.")
    therapy_session.held_on = details.held_on
    therapy_session.duration_minutes = details.duration_minutes
    therapy_session.format = details.format
    therapy_session.attendance = details.attendance
    db_session().flush()
    record_event(
        "session.update",
        actor=therapist,
        record=therapy_session,
        couple_id=therapy_session.couple_id,
    )


def save_note(
    therapy_session: TherapySession,
    therapist: Therapist,
    *,
    template: str,
    content: dict[str, Any],
    based_on_version: int | None,
) -> SessionNote:
    """Save the draft note. ``based_on_version`` is the version the editor loaded (None
    for a new note); anything else means someone saved in between: NoteConflict."""
    session = db_session()
    note = therapy_session.note
    if note is None:
        if based_on_version is not None:
            raise NoteConflict(note)  # deleted under the editor
        note = SessionNote(therapy_session=therapy_session, template=template, content=content)
        session.add(note)
    else:
        if note.is_signed:
            raise NoteLocked("This note is signed and cannot be changed. Add an addendum instead.")
        if based_on_version != note.version:
            raise NoteConflict(note)
        note.template = template
        note.content = content
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        current = session.get(SessionNote, note.id, populate_existing=True)
        raise NoteConflict(current) from None
    record_event("note.save", actor=therapist, record=note, couple_id=therapy_session.couple_id)
    return note


def sign_note(note: SessionNote, therapist: Therapist, *, based_on_version: int) -> SessionNote:
    if note.is_signed:
        raise NoteLocked("This note is already signed.")
    if based_on_version != note.version:
        raise NoteConflict(note)
    note.status = NoteStatus.SIGNED.value
    note.signed_at = utcnow()
    note.signed_by_id = therapist.id
    try:
        db_session().flush()
    except StaleDataError:
        db_session().rollback()
        raise NoteConflict(note) from None
    record_event(
        "note.sign", actor=therapist, record=note, couple_id=note.therapy_session.couple_id
    )
    return note


def add_addendum(note: SessionNote, therapist: Therapist, body: str) -> NoteAddendum:
    if not note.is_signed:
        raise ValueError("Addenda are for signed notes; edit the draft instead.")
    addendum = NoteAddendum(note_id=note.id, body=body, signed_by_id=therapist.id)
    session = db_session()
    session.add(addendum)
    session.flush()
    session.refresh(note, ["addenda"])
    record_event(
        "note.addendum",
        actor=therapist,
        record=addendum,
        couple_id=note.therapy_session.couple_id,
    )
    return addendum
