"""The job queue as the web and the commands see it: whether one is configured, putting
work on it, and what a therapist may learn of a job (its state, its sealed result).

A job is an RQ job on the queue named by ``RECONNECT_CLINIC_TASK_QUEUE_NAME`` in the
Redis at ``RECONNECT_CLINIC_TASK_QUEUE``. What goes to Redis with a job is ids only (of
the session, the couple, the therapist who asked); what comes back, a PDF or a zip, is
sealed with the clinic's cipher under the job's id before it leaves the worker, and kept
for ``RECONNECT_CLINIC_TASK_RESULT_TTL`` seconds. Nothing clinical sits in Redis in clear.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import current_app

from ..security.encryption.cipher import cipher

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue
    from rq.job import Job

# The cipher's associated data for a job's result: a result opens only as the result of
# the job it was made by (see FieldCipher.seal_bytes).
RESULT_TABLE = "task"
RESULT_COLUMN = "result"

#: What a job is, as the progress page names it.
KIND_NAMES = {
    "export": "case record",
    "session-report": "session report",
    "session-reports": "session reports",
    "signed-report": "signed report",
    "reminders": "homework reminders",
}


class QueueNotConfigured(RuntimeError):
    """``RECONNECT_CLINIC_TASK_QUEUE`` is unset: the work runs where it is asked for."""


def queue_url() -> str | None:
    url = current_app.config.get("RECONNECT_CLINIC_TASK_QUEUE")
    return str(url) if url else None


def enabled() -> bool:
    """Whether long work goes on the queue (else it runs in the request or command)."""
    return queue_url() is not None


@cache
def _connection(url: str) -> Redis:
    from redis import Redis

    # A Redis that does not answer fails a request in seconds, not minutes (the web then
    # does the work itself, see cases/views.py and notes/views.py).
    return Redis.from_url(url, socket_connect_timeout=3)


def connection(url: str | None = None) -> Redis:
    """This process's Redis client for the queue (one per address)."""
    url = url or queue_url()
    if url is None:
        raise QueueNotConfigured("RECONNECT_CLINIC_TASK_QUEUE is not set")
    return _connection(url)


def get_queue(url: str | None = None, name: str | None = None) -> Queue:
    from rq import Queue

    return Queue(
        name or str(current_app.config["RECONNECT_CLINIC_TASK_QUEUE_NAME"]),
        connection=connection(url),
    )


def submit(
    kind: str,
    function: Callable[..., Any],
    args: Sequence[Any],
    *,
    therapist_id: uuid.UUID | None = None,
    couple_id: uuid.UUID | None = None,
    detail: str | None = None,
    queue: Queue | None = None,
) -> uuid.UUID:
    """Put ``function(app_ref, task_id, *args)`` on the queue; returns the job's id.

    ``therapist_id`` is who may see the job and download its result (None: a command's
    job, seen by no one on the web); ``detail`` a word or two more, never clinical (it
    sits in Redis in clear), e.g. which partner's record an export is."""
    config = current_app.config
    task_id = uuid.uuid4()
    (queue or get_queue()).enqueue_call(
        function,
        args=(config["RECONNECT_CLINIC_TASK_APP"], str(task_id), *args),
        job_id=str(task_id),
        timeout=int(config["RECONNECT_CLINIC_TASK_TIMEOUT"]),
        result_ttl=int(config["RECONNECT_CLINIC_TASK_RESULT_TTL"]),
        failure_ttl=int(config["RECONNECT_CLINIC_TASK_RESULT_TTL"]),
        meta={
            "kind": kind,
            "therapist": str(therapist_id) if therapist_id else None,
            "couple": str(couple_id) if couple_id else None,
            "detail": detail,
            "done": 0,
            "total": 0,
        },
        description=f"reconnect_clinic {kind}",
    )
    return task_id


def seal_result(task_id: uuid.UUID, data: bytes) -> bytes:
    """A job's result as it may sit in Redis (by the worker, which has the keys)."""
    return cipher().seal_bytes(data, table=RESULT_TABLE, column=RESULT_COLUMN, row_id=task_id)


def open_result(task_id: uuid.UUID, sealed: bytes) -> bytes:
    return cipher().open_bytes(sealed, table=RESULT_TABLE, column=RESULT_COLUMN, row_id=task_id)


@dataclass(frozen=True)
class TaskStatus:
    """What the progress page shows of one job."""

    task_id: uuid.UUID
    kind: str
    #: "queued", "started", "finished" or "failed" (RQ's deferred, scheduled and stopped
    #: count as queued and failed).
    state: str
    done: int
    total: int
    couple_id: uuid.UUID | None
    detail: str | None = None
    #: Of a batch (tasks/batches.py): how many of its ``total`` could not be made (their
    #: job failed, or is no longer in Redis), and whose sessions those were.
    failed_count: int = 0
    failed_ids: tuple[uuid.UUID, ...] = ()

    @property
    def name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def batch(self) -> bool:
        return self.kind == "session-reports"

    @property
    def finished(self) -> bool:
        return self.state == "finished"

    @property
    def failed(self) -> bool:
        return self.state == "failed"


_STATES = {
    "queued": "queued",
    "deferred": "queued",
    "scheduled": "queued",
    "started": "started",
    "finished": "finished",
    "failed": "failed",
    "stopped": "failed",
    "canceled": "failed",
}


def job_state(job: Job) -> str:
    """The job's state as :class:`TaskStatus` names it (read as the job was fetched)."""
    status = job.get_status(refresh=False)
    return _STATES.get(str(getattr(status, "value", status)), "queued")


def _owned_job(task_id: uuid.UUID, therapist_id: uuid.UUID) -> Job | None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(str(task_id), connection=connection())
    except NoSuchJobError:
        return None
    if job.meta.get("therapist") != str(therapist_id):
        return None  # someone else's job, or a command's: as if there were none
    return job


def task_status(task_id: uuid.UUID, therapist_id: uuid.UUID) -> TaskStatus | None:
    """The job's state, when it exists and ``therapist_id`` asked for it; else None."""
    job = _owned_job(task_id, therapist_id)
    if job is None:
        return None
    job.get_status(refresh=True)
    state = job_state(job)
    meta = job.get_meta(refresh=True)
    couple = meta.get("couple")
    return TaskStatus(
        task_id=task_id,
        kind=str(meta.get("kind", "")),
        state=state,
        done=int(meta.get("done") or 0),
        total=int(meta.get("total") or 0),
        couple_id=uuid.UUID(couple) if couple else None,
        detail=meta.get("detail"),
    )


def task_result(task_id: uuid.UUID, therapist_id: uuid.UUID) -> bytes | None:
    """The finished job's result, opened, for the therapist who asked for it; else None."""
    job = _owned_job(task_id, therapist_id)
    if job is None:
        return None
    sealed = job.return_value(refresh=True)
    if not isinstance(sealed, bytes):
        return None
    return open_result(task_id, sealed)
