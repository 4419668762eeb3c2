"""A therapist's batch of session reports on the job queue: the session report of every
signed note in their own cases since a date, one job per report, then one ZIP of them.

One job per report spreads a batch over every worker there is (each renders one report
at a time on its own warm PDF pool), so 1, 2 or 4 workers make it 1, 2 or 4 times as
fast, and the progress page counts reports as each one ends. What sits in Redis for a
batch is a hash of ids (the therapist's, each job's and its session's) and the date it
runs from; each report comes back sealed under its own job's id (``queue.seal_result``)
and is kept for ``RECONNECT_CLINIC_TASK_RESULT_TTL`` seconds, as every job's result is.

The ZIP is made when the therapist downloads it, not by a last job that waits for the
others: a job waiting on the others would have to be let run when some of them failed
(the rest must still download), would keep a second sealed copy of every PDF in Redis
for as long, and would take a worker's turn after the whole batch for work that is only
opening and joining PDFs already made (milliseconds a report, done in the web). Made on
download, it holds what is there at that moment: a report that failed is left out (the
progress page names it), and each download is audited as the reports it holds.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..downloads import download_name
from ..models import Couple, NoteStatus, SessionNote, Therapist, TherapySession
from ..security.audit.log import record_event
from ..state import db_session
from . import jobs, queue

if TYPE_CHECKING:
    from rq.job import Job

KIND = "session-reports"
#: The form's date, unless the therapist chooses another: the last month's reports.
DEFAULT_DAYS = 30
#: At most this many reports in one batch (a year of a full caseload is well under it);
#: more is a records request or the command (``flask clinic render-reports``).
MAX_REPORTS = 1000
#: How long a batch's reports may wait for a worker before RQ drops them (they then count
#: as not made); the batch's own record outlives its last possible result.
WAIT = 24 * 60 * 60

_KEY_PREFIX = "reconnect_clinic:batch:"


class NothingToPrint(ValueError):
    """No signed note of the therapist's cases since the date."""


class TooManyReports(ValueError):
    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"{count} reports; at most {MAX_REPORTS} in one batch")


class QueueUnavailable(RuntimeError):
    """Redis did not take the batch (nothing of it was queued)."""


def batch_key(task_id: uuid.UUID) -> str:
    """The Redis key of the batch's record."""
    return f"{_KEY_PREFIX}{task_id}"


def default_since(today: date) -> date:
    return today - timedelta(days=DEFAULT_DAYS)


def own_signed_sessions_since(therapist: Therapist, since: date) -> list[TherapySession]:
    """The sessions, held on or after ``since``, with a signed note, of the cases that are
    ``therapist``'s own (not every case an admin may see: a batch prints one's own)."""
    return list(
        db_session().scalars(
            sa.select(TherapySession)
            .join(Couple, Couple.id == TherapySession.couple_id)
            .join(SessionNote, SessionNote.therapy_session_id == TherapySession.id)
            .where(
                Couple.therapist_id == therapist.id,
                Couple.deleted_at.is_(None),
                TherapySession.deleted_at.is_(None),
                TherapySession.held_on >= since,
                SessionNote.status == NoteStatus.SIGNED.value,
            )
            .order_by(TherapySession.held_on, TherapySession.id)
        )
    )


def start_batch(therapist: Therapist, since: date) -> uuid.UUID:
    """Put a job for each report of :func:`own_signed_sessions_since` on the queue, and
    the batch's record beside them, in one Redis transaction; audit it (flushed, the
    caller commits). Returns the batch's id, the address of its progress page."""
    from redis.exceptions import RedisError
    from rq import Queue

    sessions = own_signed_sessions_since(therapist, since)
    if not sessions:
        raise NothingToPrint(since.isoformat())
    if len(sessions) > MAX_REPORTS:
        raise TooManyReports(len(sessions))
    config = current_app.config
    timeout = int(config["RECONNECT_CLINIC_TASK_TIMEOUT"])
    kept = int(config["RECONNECT_CLINIC_TASK_RESULT_TTL"])
    task_id = uuid.uuid4()
    children = [(str(uuid.uuid4()), str(therapy_session.id)) for therapy_session in sessions]
    meta = {
        # No therapist: a report of a batch is seen (and downloaded) only as part of it.
        "kind": "session-report",
        "therapist": None,
        "couple": None,
        "detail": None,
        "done": 0,
        "total": 0,
        "batch": str(task_id),
    }
    job_datas = [
        Queue.prepare_data(
            jobs.batch_report_job,
            args=(config["RECONNECT_CLINIC_TASK_APP"], child_id, session_id, str(therapist.id)),
            job_id=child_id,
            timeout=timeout,
            result_ttl=kept,
            failure_ttl=kept,
            ttl=WAIT,
            meta=meta,
            description=f"reconnect_clinic {KIND} {task_id}",
        )
        for child_id, session_id in children
    ]
    try:
        rq_queue = queue.get_queue()
        with rq_queue.connection.pipeline() as pipeline:  # MULTI: all of it, or none
            key = batch_key(task_id)
            pipeline.hset(
                key,
                mapping={
                    "therapist": str(therapist.id),
                    "since": since.isoformat(),
                    "children": json.dumps(children),
                },
            )
            pipeline.expire(key, WAIT + timeout + kept)
            rq_queue.enqueue_many(job_datas, pipeline=pipeline)
            pipeline.execute()
    except RedisError as error:
        raise QueueUnavailable(str(error)) from error
    record_event(
        "report.batch",
        actor=therapist,
        record=therapist,
        detail={"since": since.isoformat(), "reports": len(children), "task": str(task_id)},
    )
    return task_id


@dataclass(frozen=True)
class _Batch:
    since: str
    #: (job id, session id), in the order the reports were asked for.
    children: list[tuple[str, str]]
    jobs: list[Job | None]


def _owned_batch(task_id: uuid.UUID, therapist_id: uuid.UUID) -> _Batch | None:
    from rq.job import Job

    connection = queue.connection()
    record: dict[bytes, bytes] = connection.hgetall(batch_key(task_id))  # type: ignore[assignment]
    if not record or record.get(b"therapist", b"").decode() != str(therapist_id):
        return None  # gone, or someone else's: as if there were none
    children = [
        (str(job_id), str(session_id)) for job_id, session_id in json.loads(record[b"children"])
    ]
    found = Job.fetch_many([job_id for job_id, _ in children], connection=connection)
    return _Batch(record[b"since"].decode(), children, found)


def batch_status(task_id: uuid.UUID, therapist_id: uuid.UUID) -> queue.TaskStatus | None:
    """How far the batch is, counted from its jobs' states (a job no longer in Redis, its
    wait or its result's time over, counts as not made); None when it is not
    ``therapist_id``'s or is gone."""
    batch = _owned_batch(task_id, therapist_id)
    if batch is None:
        return None
    done = 0
    running = False
    failed: list[uuid.UUID] = []
    for (_, session_id), job in zip(batch.children, batch.jobs, strict=True):
        state = "failed" if job is None else queue.job_state(job)
        if state == "finished":
            done += 1
        elif state == "failed":
            failed.append(uuid.UUID(session_id))
        elif state == "started":
            running = True
    total = len(batch.children)
    if done + len(failed) == total:
        state = "finished" if done else "failed"
    elif done or failed or running:
        state = "started"
    else:
        state = "queued"
    return queue.TaskStatus(
        task_id=task_id,
        kind=KIND,
        state=state,
        done=done,
        total=total,
        couple_id=None,
        detail=batch.since,
        failed_count=len(failed),
        failed_ids=tuple(failed),
    )


def _own_sessions(therapist: Therapist, ids: list[uuid.UUID]) -> list[TherapySession]:
    """Those of ``ids`` that are still sessions of ``therapist``'s own cases (a case given
    to another therapist or deleted since the batch was asked for drops out)."""
    if not ids:
        return []
    return list(
        db_session().scalars(
            sa.select(TherapySession)
            .join(Couple, Couple.id == TherapySession.couple_id)
            .where(
                TherapySession.id.in_(ids),
                TherapySession.deleted_at.is_(None),
                Couple.therapist_id == therapist.id,
                Couple.deleted_at.is_(None),
            )
            .options(joinedload(TherapySession.couple))
            .order_by(TherapySession.held_on, TherapySession.id)
        )
    )


def failed_sessions(status: queue.TaskStatus, therapist: Therapist) -> list[TherapySession]:
    """The sessions whose reports the batch could not make, to name on its page."""
    return _own_sessions(therapist, list(status.failed_ids))


def report_file_name(therapy_session: TherapySession) -> str:
    """A report's name in the ZIP: the name ``flask clinic render-reports`` writes."""
    return f"session-{therapy_session.held_on}-{therapy_session.id}.pdf"


@dataclass(frozen=True)
class BatchDownload:
    body: bytes
    filename: str
    files: tuple[str, ...]


def batch_download(task_id: uuid.UUID, therapist: Therapist, today: date) -> BatchDownload | None:
    """The ZIP of every report of the batch that was made and is still kept, for the
    therapist who asked for it, each report audited as printed (flushed; the caller
    commits); None when there is none of it (or it is not theirs)."""
    batch = _owned_batch(task_id, therapist.id)
    if batch is None:
        return None
    pdfs: dict[uuid.UUID, bytes] = {}
    for (job_id, session_id), job in zip(batch.children, batch.jobs, strict=True):
        if job is None or queue.job_state(job) != "finished":
            continue
        sealed = job.return_value(refresh=True)
        if isinstance(sealed, bytes):  # else its time in Redis ended a moment ago
            pdfs[uuid.UUID(session_id)] = queue.open_result(uuid.UUID(job_id), sealed)
    sessions = _own_sessions(therapist, list(pdfs))
    if not sessions:
        return None
    body = io.BytesIO()
    # Stored, not deflated: a PDF's streams are compressed already.
    with zipfile.ZipFile(body, "w", zipfile.ZIP_STORED) as archive:
        for therapy_session in sessions:
            archive.writestr(report_file_name(therapy_session), pdfs[therapy_session.id])
    for therapy_session in sessions:
        record_event(
            "report.print",
            actor=therapist,
            record=therapy_session,
            couple_id=therapy_session.couple_id,
            detail={"kind": "session", "via": "batch", "task": str(task_id)},
        )
    filename = download_name("session reports", today, f"since {batch.since}", "zip")
    return BatchDownload(body.getvalue(), filename, tuple(report_file_name(s) for s in sessions))
