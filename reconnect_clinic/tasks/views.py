"""A queued job as its therapist sees it: a progress page, then the download; and the
page a therapist starts a batch of session reports from (batches.py).

Only the therapist who asked for a job sees it; to anyone else, and when no queue is
configured, both pages are 404. The progress page updates itself through
``static/tasks.js`` (the CSP allows no inline script); without script it says to reload.

Without a queue, the batch page says so and offers no form (the dashboard has no link to
it): made in the request, a month of reports would hold a web worker for many seconds
(2.6 reports a second on two cores, measured for issue 19) and run into the server's
timeout as a caseload grows; each report still downloads from its session's page, and
``flask clinic render-reports`` prints them all.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for

from ..blueprint import RouteTable, signed_in_therapist, therapist_required
from ..downloads import PDF, ZIP, download, download_name
from ..security.access import couple_or_404
from ..state import db_session
from . import batches, queue
from .forms import SessionReportsForm

routes = RouteTable()

# Each result's file: its type, and the "kind" part of its name.
_FILES = {
    "export": (ZIP, "zip", "case record"),
    "session-report": (PDF, "pdf", "session report"),
    batches.KIND: (ZIP, "zip", "session reports"),
}


def _today() -> date:
    return date.today()  # noqa: DTZ011 - the practice's own day, as other downloads


@routes.context_processor
def _task_queue() -> dict[str, bool]:
    """Whether pages may offer work that needs the queue (the dashboard's batch link)."""
    return {"clinic_task_queue": queue.enabled()}


def _status_or_404(task_id: uuid.UUID) -> queue.TaskStatus:
    if not queue.enabled():
        abort(404)
    therapist_id = signed_in_therapist().id
    status = queue.task_status(task_id, therapist_id) or batches.batch_status(task_id, therapist_id)
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
    # Named once the batch has ended (the page then stops updating itself).
    failed = []
    if status.failed_count and status.state in ("finished", "failed"):
        failed = batches.failed_sessions(status, signed_in_therapist())
    db_session().commit()
    return render_template(
        "reconnect_clinic/task_progress.html",
        status=status,
        couple=couple,
        failed=failed,
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
    if status.batch:
        made = batches.batch_download(task_id, therapist, _today())
        if made is None:
            abort(404)  # its time in Redis is over
        db_session().commit()
        return download(made.body, made.filename, ZIP)
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
    return download(result, download_name(label, _today(), kind, extension), mimetype)


@routes.route("/session-reports", methods=["GET", "POST"])
@therapist_required
def session_reports() -> Any:
    """Start a batch of the therapist's own session reports since a day, on the queue;
    then its progress page. Without a queue, the page says how else to print them."""
    therapist = signed_in_therapist()
    on_queue = queue.enabled()
    form = SessionReportsForm()
    problem = None
    if request.method == "GET":
        form.since.data = batches.default_since(_today())
    elif not on_queue:
        return redirect(url_for("reconnect_clinic.session_reports"), 303)
    elif form.validate_on_submit() and form.since.data is not None:
        try:
            task_id = batches.start_batch(therapist, form.since.data)
        except batches.NothingToPrint:
            form.since.errors = (
                f"No signed notes in your cases since {form.since.data.isoformat()}.",
            )
        except batches.TooManyReports as error:
            form.since.errors = (
                f"That is {error.count} reports; at most {batches.MAX_REPORTS} go in one "
                "batch. Choose a later day.",
            )
        except batches.QueueUnavailable:
            current_app.logger.warning("The job queue is unreachable: no batch was started")
            problem = "The report workers cannot be reached just now. Please try again later."
        else:
            db_session().commit()
            return redirect(url_for("reconnect_clinic.task_progress", task_id=task_id), 303)
    db_session().commit()
    page = render_template(
        "reconnect_clinic/session_reports.html", form=form, on_queue=on_queue, problem=problem
    )
    return page, 503 if problem else 200
