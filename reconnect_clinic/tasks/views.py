"""A queued job as its therapist sees it: a progress page, then the download.

Only the therapist who asked for a job sees it; to anyone else, and when no queue is
configured, both pages are 404. The progress page updates itself through
``static/tasks.js`` (the CSP allows no inline script); without script it says to reload.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, render_template

from ..blueprint import RouteTable, signed_in_therapist, therapist_required
from ..downloads import PDF, ZIP, download, download_name
from ..security.access import couple_or_404
from ..state import db_session
from . import queue

routes = RouteTable()

# Each result's file: its type, and the "kind" part of its name.
_FILES = {
    "export": (ZIP, "zip", "case record"),
    "session-report": (PDF, "pdf", "session report"),
}


def _status_or_404(task_id: uuid.UUID) -> queue.TaskStatus:
    if not queue.enabled():
        abort(404)
    status = queue.task_status(task_id, signed_in_therapist().id)
    if status is None:
        abort(404)
    return status


@routes.route("/tasks/<uuid:task_id>")
@therapist_required
def task_progress(task_id: uuid.UUID) -> Any:
    """How far the job is; once it is done, its download."""
    status = _status_or_404(task_id)
    couple = None
    if status.couple_id is not None:
        couple = couple_or_404(status.couple_id, signed_in_therapist())
    db_session().commit()
    return render_template(
        "reconnect_clinic/task_progress.html",
        status=status,
        couple=couple,
        downloadable=status.kind in _FILES,
    )


@routes.route("/tasks/<uuid:task_id>/download")
@therapist_required
def task_download(task_id: uuid.UUID) -> Any:
    """The job's result, to the therapist who asked for it."""
    therapist = signed_in_therapist()
    status = _status_or_404(task_id)
    if not status.finished or status.kind not in _FILES:
        abort(404)
    result = queue.task_result(task_id, therapist.id)
    if result is None:
        abort(404)  # its time in Redis is over
    label = "couple"
    if status.couple_id is not None:
        label = couple_or_404(status.couple_id, therapist).label
    mimetype, extension, kind = _FILES[status.kind]
    if status.detail:
        kind = f"{kind} {status.detail}"
    db_session().commit()
    today = date.today()  # noqa: DTZ011 - the practice's own day, as other downloads
    return download(result, download_name(label, today, kind, extension), mimetype)
