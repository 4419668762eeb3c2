"""What a worker runs: the clinic's long work as plain functions of ids.

:func:`render_session_report` is the public one, for any queue (RQ, Celery, a cron
script) to call. The ``*_job`` functions are what :mod:`.queue` puts on RQ: each takes
the app's reference and its own job id first, and returns its result sealed.

A worker gets its app once per process, from the reference each job carries
(``RECONNECT_CLINIC_TASK_APP``, the import string of the host's app or app factory, as
RQ and Celery users write it), or the app ``flask clinic worker`` registered with
:func:`use_app`. The PDF workers are started once per process too and kept warm between
jobs, so a worker must run its jobs in its own process: ``flask clinic worker`` does
(RQ's ``SimpleWorker``); with ``rq worker``, pass ``--worker-class rq.SimpleWorker``
(RQ's default worker forks a new process for every job, which would start new PDF
workers each time).
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TypeVar

from flask import Flask

from ..models import Couple, Therapist, TherapySession
from ..reports import service
from ..security.audit.log import record_event
from ..state import db_session
from . import queue
from .exports import record_export

T = TypeVar("T")

_apps: dict[str, Flask] = {}
_worker_app: Flask | None = None
_lock = threading.Lock()


class TaskRefused(Exception):
    """The job cannot be done as asked (a record that is gone, an unknown app)."""


def use_app(app: Flask | None) -> None:
    """Make ``app`` the one this process's jobs run in when they name none (what
    ``flask clinic worker`` does with the app it was started for)."""
    global _worker_app
    _worker_app = app


def load_app(app: Flask | str | None) -> Flask:
    """The app for a job: given, imported once per process from ``"module:name"`` (an
    app, or a factory called with no arguments), or the one :func:`use_app` set."""
    if isinstance(app, Flask):
        return app
    if app is None:
        if _worker_app is None:
            raise TaskRefused(
                "the job names no app (RECONNECT_CLINIC_TASK_APP is unset) and this worker "
                "has none: start it with `flask --app HOST clinic worker`, or set "
                "RECONNECT_CLINIC_TASK_APP to the import string of the host's app factory"
            )
        return _worker_app
    with _lock:
        if app not in _apps:
            module_name, _, attribute = app.partition(":")
            found = getattr(importlib.import_module(module_name), attribute or "app")
            built = found if isinstance(found, Flask) else found()
            if not isinstance(built, Flask):
                raise TaskRefused(f"{app!r} is not a Flask app or a factory of one")
            _apps[app] = built
        return _apps[app]


@contextmanager
def app_context(app: Flask | str | None) -> Iterator[Flask]:
    """The job's app context; its database session is ended after, whatever happened."""
    flask_app = load_app(app)
    with flask_app.app_context():
        try:
            yield flask_app
        finally:
            db_session().remove()


def _session_and_couple(session_id: uuid.UUID | str) -> tuple[TherapySession, Couple]:
    session = db_session()
    therapy_session = session.get(TherapySession, uuid.UUID(str(session_id)))
    if therapy_session is None or therapy_session.deleted_at is not None:
        raise TaskRefused(f"no session {session_id}")
    couple = session.get(Couple, therapy_session.couple_id)
    if couple is None or couple.deleted_at is not None:
        raise TaskRefused(f"no couple for session {session_id}")
    return therapy_session, couple


def _refusing_damaged(work: Callable[[], T], via: str) -> T:
    """``work()``; a stored report that fails its integrity check is recorded (audited
    and logged, committed) before the error goes on to the caller."""
    try:
        return work()
    except service.ReportIntegrityError as error:
        session = db_session()
        session.rollback()
        service.record_integrity_failure(error, actor=None, detail={"via": via})
        session.commit()
        raise


def session_report_pdf(session_id: uuid.UUID | str, *, via: str = "task") -> bytes:
    """The session report's PDF, in the current app context (committed): a signed
    note's as stored (kept now, on first use, if signing could not), a draft's rendered
    fresh. Raises ``service.ReportIntegrityError`` for a stored report that fails its
    check, :class:`TaskRefused` for a session that is gone."""
    therapy_session, couple = _session_and_couple(session_id)
    pdf = _refusing_damaged(lambda: service.session_report_pdf(couple, therapy_session), via)
    db_session().commit()
    return pdf


def render_session_report(app: Flask | str | None, session_id: uuid.UUID | str) -> bytes:
    """Render one session report and return its PDF: the function any queue calls.

    ``app`` is the host's Flask app, or the import string of it or of its factory
    (``"myhost.wsgi:create_app"``), built once per process; None for the app registered
    with :func:`use_app`. The PDF workers of this process are started on the first call
    and reused by every later one. A signed note's report is the stored one (kept in the
    database, sealed, on first use); the caller keeps the returned bytes safe.
    """
    with app_context(app):
        return session_report_pdf(session_id)


# --- what RQ runs ------------------------------------------------------------------------


def _progress(done: int, total: int) -> None:
    """Tell the progress page how far the current RQ job is."""
    from rq import get_current_job

    job = get_current_job()
    if job is None:
        return
    job.meta.update(done=done, total=total)
    # no-untyped-call: rq leaves save_meta unannotated.
    job.save_meta()  # type: ignore[no-untyped-call]


def session_report_job(app: str | None, task_id: str, session_id: str) -> bytes:
    """One session report, sealed under the job's id (a batch is many of these)."""
    with app_context(app):
        _progress(0, 1)
        pdf = session_report_pdf(session_id, via="queue")
        _progress(1, 1)
        return queue.seal_result(uuid.UUID(task_id), pdf)


def batch_report_job(app: str | None, task_id: str, session_id: str, therapist_id: str) -> bytes:
    """One report of a therapist's batch (see batches.py), sealed under its own job's id.

    The web chose the sessions from the therapist's own cases; a case given to another
    therapist (or deleted) while the job waited is refused here, so its report is never
    made for the one who asked."""
    with app_context(app):
        therapy_session, couple = _session_and_couple(session_id)
        if couple.therapist_id != uuid.UUID(therapist_id):
            raise TaskRefused(f"session {session_id} is not in a case of therapist {therapist_id}")
        pdf = _refusing_damaged(
            lambda: service.session_report_pdf(couple, therapy_session), "batch"
        )
        db_session().commit()
        return queue.seal_result(uuid.UUID(task_id), pdf)


def signed_report_job(app: str | None, task_id: str, session_id: str) -> None:
    """Keep the report of a note just signed (or added to), unless the latest stored
    revision already says what the note now says (it was kept on first download)."""
    with app_context(app):
        therapy_session, couple = _session_and_couple(session_id)
        stored = service.stored_session_report(therapy_session)
        report = service.load_session_report(couple, therapy_session)
        if stored is not None and stored.content_sha256 == report.fingerprint:
            return
        service.issue_session_report(couple, therapy_session)
        db_session().commit()


def export_job(
    app: str | None,
    task_id: str,
    couple_id: str,
    therapist_id: str,
    audience: str | None,
    today: str,
) -> bytes:
    """The case's record export (audited as the therapist's), sealed under the job's id."""
    with app_context(app):
        session = db_session()
        therapist = session.get(Therapist, uuid.UUID(therapist_id))
        couple = session.get(Couple, uuid.UUID(couple_id))
        if couple is None or couple.deleted_at is not None or therapist is None:
            raise TaskRefused(f"no couple {couple_id} for therapist {therapist_id}")
        export = _refusing_damaged(
            lambda: record_export(couple, audience, date.fromisoformat(today), _progress),
            "export",
        )
        record_event(
            "couple.export",
            actor=therapist,
            record=couple,
            couple_id=couple.id,
            detail={"files": list(export.files), "for": audience or "couple", "via": "queue"},
        )
        session.commit()
        return queue.seal_result(uuid.UUID(task_id), export.body)


def reminders_job(app: str | None, task_id: str, today: str) -> list[int]:
    """Send the homework reminders due on ``today``: [sent, failed] (no clinical data)."""
    from ..homework.reminders import send_reminders

    with app_context(app):
        sent, failed = send_reminders(date.fromisoformat(today))
        return [sent, failed]
