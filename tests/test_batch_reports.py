"""A therapist's batch of session reports from the browser (tasks/batches.py), against the
real Redis at 127.0.0.1:6379: the form, one job per report, the progress page counting
them, and the ZIP. Jobs run in this process on RQ's SimpleWorker (what ``flask clinic
worker`` runs), as in tests/test_tasks.py; skipped, saying so, where no Redis answers.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic.models import AuditEvent, Couple, StoredReport
from reconnect_clinic.reports import service
from reconnect_clinic.state import db_session
from reconnect_clinic.tasks import batches, jobs, queue
from tests import factories
from tests.helpers import csrf_from, login
from tests.test_tasks import REDIS_URL, TODAY, _redis_or_skip, delete_queue_jobs

rq = pytest.importorskip("rq", reason="RQ is not installed (pip install 'reconnect-clinic[queue]')")

PAGE = "/clinic/session-reports"


@dataclass
class Batches:
    """The test's own queue in the real Redis, and the batches it started (deleted after)."""

    app: Flask
    queue: Any
    started: list[uuid.UUID] = field(default_factory=list)

    def start(self, client: Any, since: Any) -> Any:
        token = csrf_from(client.get(PAGE).text)
        response = client.post(PAGE, data={"since": since.isoformat(), "csrf_token": token})
        if response.status_code == 303 and "/clinic/tasks/" in response.headers["Location"]:
            self.started.append(uuid.UUID(response.headers["Location"].rsplit("/", 1)[1]))
        return response

    def work(self, max_jobs: int | None = None) -> None:
        """Run the queue's jobs here (at most ``max_jobs``), and return."""
        db_session().commit()  # the test's transaction holds SQLite's write lock
        worker = rq.SimpleWorker([self.queue], connection=self.queue.connection)
        worker.work(burst=True, logging_level="ERROR", max_jobs=max_jobs)


@pytest.fixture
def on_queue(app: Flask) -> Iterator[Batches]:
    _redis_or_skip()
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = REDIS_URL
    app.config["RECONNECT_CLINIC_TASK_QUEUE_NAME"] = (
        f"reconnect-clinic-test-{uuid.uuid4().hex[:10]}"
    )
    jobs.use_app(app)
    made = Batches(app, queue.get_queue())
    yield made
    delete_queue_jobs(made.queue)
    for task_id in made.started:
        made.queue.connection.delete(batches.batch_key(task_id))
    jobs.use_app(None)
    app.config.update(
        RECONNECT_CLINIC_TASK_QUEUE=None,
        RECONNECT_CLINIC_TASK_QUEUE_NAME="reconnect-clinic",
        RECONNECT_CLINIC_TASK_RESULT_TTL=3600,
    )


@dataclass(frozen=True)
class Caseload:
    owner: Any
    couple: Any
    #: The owner's sessions with a signed note, held in the last ten days.
    printed: list[Any]


def _caseload() -> Caseload:
    """The owner's three signed sessions in the batch's ten days, and what must stay out
    of it: the owner's older signed session and unsigned one, and another therapist's
    signed session in the same days."""
    owner = factories.therapist()
    couple = factories.couple(owner, label="Harbour Lights")
    printed = []
    for days in (9, 5, 1):
        therapy = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days))
        factories.signed_note(owner, therapy)
        printed.append(therapy)
    older = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=20))
    factories.signed_note(owner, older)
    factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=2))  # no note
    other = factories.therapist()
    theirs = factories.couple(other, label="Other Shore")
    factories.signed_note(other, factories.therapy_session(other, theirs, held_on=TODAY))
    return Caseload(owner, couple, printed)


def _since() -> Any:
    return TODAY - timedelta(days=10)


def _task_id(response: Any) -> uuid.UUID:
    assert response.status_code == 303, (response.status_code, response.text[:2000])
    location = response.headers["Location"]
    assert "/clinic/tasks/" in location, location
    return uuid.UUID(location.rsplit("/", 1)[1])


def _count(page: Any) -> str:
    match = re.search(r"<p data-batch-count>([^<]*)</p>", page.text)
    assert match, page.text[:3000]
    return match.group(1)


def _names(download: Any) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(download.data)).namelist())


def _expected(sessions: list[Any]) -> set[str]:
    return {f"session-{s.held_on}-{s.id}.pdf" for s in sessions}


# --- the form -------------------------------------------------------------------------------


def test_the_dashboard_offers_the_batch_and_the_form_starts_from_a_month_ago(app, client, on_queue):
    owner = factories.therapist()
    login(client, owner.email)
    assert 'href="/clinic/session-reports"' in client.get("/clinic/").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Print session reports since" in page.text
    assert f'value="{(TODAY - timedelta(days=30)).isoformat()}"' in page.text


def test_without_a_queue_there_is_no_form_and_a_post_goes_back(app, client):
    owner = factories.therapist()
    login(client, owner.email)
    assert "/clinic/session-reports" not in client.get("/clinic/").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "not set up here" in page.text
    assert 'name="since"' not in page.text
    token = csrf_from(page.text)
    posted = client.post(PAGE, data={"since": _since().isoformat(), "csrf_token": token})
    assert posted.status_code == 303
    assert posted.headers["Location"].endswith(PAGE)


def test_a_post_without_its_csrf_token_is_refused_and_queues_nothing(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(PAGE, data={"since": _since().isoformat(), **data})
        assert response.status_code == 400
    assert on_queue.queue.count == 0
    assert not list(on_queue.queue.connection.scan_iter("reconnect_clinic:batch:*"))


def test_nothing_to_print_says_so_and_queues_nothing(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    response = on_queue.start(client, TODAY + timedelta(days=1))
    assert response.status_code == 200
    assert "No signed notes in your cases since" in response.text
    assert on_queue.queue.count == 0


def test_with_redis_down_the_page_says_so(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = "redis://127.0.0.1:1/0"
    try:
        response = on_queue.start(client, _since())
    finally:
        app.config["RECONNECT_CLINIC_TASK_QUEUE"] = REDIS_URL
    assert response.status_code == 503
    assert "cannot be reached" in response.text
    assert (
        db_session().scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.batch"))
        is None
    )


# --- the batch ------------------------------------------------------------------------------


def test_each_report_is_a_job_and_the_progress_counts_them(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    # One job per report, so every worker of the queue takes its share.
    assert on_queue.queue.count == len(case.printed)

    waiting = client.get(f"/clinic/tasks/{task_id}")
    assert waiting.status_code == 200
    assert _count(waiting) == "0 of 3 reports."
    assert "Waiting for a worker" in waiting.text
    assert "tasks.js" in waiting.text
    assert client.get(f"/clinic/tasks/{task_id}/download").status_code == 404

    on_queue.work(max_jobs=1)
    one = client.get(f"/clinic/tasks/{task_id}")
    assert _count(one) == "1 of 3 reports."
    assert 'data-task-status="started"' in one.text
    assert f"/clinic/tasks/{task_id}/download" not in one.text

    on_queue.work()
    done = client.get(f"/clinic/tasks/{task_id}")
    assert _count(done) == "3 of 3 reports."
    assert 'data-task-status="finished"' in done.text
    assert f"/clinic/tasks/{task_id}/download" in done.text


def test_the_zip_holds_exactly_the_therapists_own_reports(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    on_queue.work()
    download = client.get(f"/clinic/tasks/{task_id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    disposition = download.headers["Content-Disposition"]
    assert f"session-reports_{TODAY.isoformat()}_since-{_since().isoformat()}.zip" in disposition
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert set(archive.namelist()) == _expected(case.printed)
    # Each is the report as stored for its signed note.
    for therapy in case.printed:
        stored = db_session().scalar(
            sa.select(StoredReport).where(StoredReport.therapy_session_id == therapy.id)
        )
        assert stored is not None
        assert archive.read(f"session-{therapy.held_on}-{therapy.id}.pdf") == stored.pdf


def test_the_batch_and_each_download_are_audited(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    started = db_session().scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.batch"))
    assert started is not None
    assert started.actor_id == str(case.owner.id)
    assert started.detail == {
        "since": _since().isoformat(),
        "reports": 3,
        "task": str(task_id),
    }
    on_queue.work()
    assert client.get(f"/clinic/tasks/{task_id}/download").status_code == 200
    printed = (
        db_session().scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.print")).all()
    )
    assert sorted(event.record_id for event in printed) == sorted(
        str(therapy.id) for therapy in case.printed
    )
    assert all(event.couple_id == case.couple.id for event in printed)
    assert all(event.actor_id == str(case.owner.id) for event in printed)
    assert all(
        event.detail == {"kind": "session", "via": "batch", "task": str(task_id)}
        for event in printed
    )


def test_only_the_therapist_who_asked_sees_the_batch(app, client, on_queue):
    case = _caseload()
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    on_queue.work()
    stranger = app.test_client()
    login(stranger, factories.therapist().email)
    assert stranger.get(f"/clinic/tasks/{task_id}").status_code == 404
    assert stranger.get(f"/clinic/tasks/{task_id}/download").status_code == 404
    admin = app.test_client()
    login(admin, factories.therapist(admin=True).email)
    assert admin.get(f"/clinic/tasks/{task_id}/download").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/clinic/tasks/{task_id}/download").status_code == 302  # to login
    # Nor is one report of it reachable on its own, under its job's id.
    for child in on_queue.queue.finished_job_registry.get_job_ids():
        assert client.get(f"/clinic/tasks/{child}/download").status_code == 404
    assert client.get(f"/clinic/tasks/{task_id}/download").status_code == 200


def test_a_failed_report_is_named_and_the_others_still_download(app, client, on_queue, monkeypatch):
    case = _caseload()
    broken = case.printed[1]
    # Read now: reading it in the job would start a transaction here (SQLite's lock).
    broken_id = broken.id
    real = service.session_report_pdf

    def flaky(couple: Any, therapy: Any) -> bytes:
        if therapy.id == broken_id:
            raise RuntimeError("the PDF layer is down")
        return real(couple, therapy)

    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    monkeypatch.setattr(service, "session_report_pdf", flaky)
    on_queue.work()
    monkeypatch.undo()
    page = client.get(f"/clinic/tasks/{task_id}")
    assert _count(page) == "2 of 3 reports; 1 could not be made."
    assert 'data-task-status="finished"' in page.text
    assert f"Harbour Lights, session of {broken.held_on.isoformat()}" in page.text
    assert f"/sessions/{broken.id}" in page.text
    download = client.get(f"/clinic/tasks/{task_id}/download")
    assert download.status_code == 200
    assert _names(download) == _expected([case.printed[0], case.printed[2]])


def test_a_batch_of_which_nothing_was_made_says_so(app, client, on_queue, monkeypatch):
    case = _caseload()
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))

    def down(*args: Any) -> bytes:
        raise RuntimeError("the PDF layer is down")

    monkeypatch.setattr(service, "session_report_pdf", down)
    on_queue.work()
    page = client.get(f"/clinic/tasks/{task_id}")
    assert 'data-task-status="failed"' in page.text
    assert "None of the reports could be made." in page.text
    assert client.get(f"/clinic/tasks/{task_id}/download").status_code == 404


def test_a_case_given_to_another_therapist_while_queued_is_left_out(app, client, on_queue):
    case = _caseload()
    other_case = factories.couple(case.owner, label="Second Harbour")
    moved = factories.therapy_session(case.owner, other_case, held_on=TODAY - timedelta(days=3))
    factories.signed_note(case.owner, moved)
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    assert on_queue.queue.count == 4
    db_session().get(Couple, other_case.id).therapist_id = factories.therapist().id
    db_session().commit()
    on_queue.work()
    page = client.get(f"/clinic/tasks/{task_id}")
    assert _count(page) == "3 of 4 reports; 1 could not be made."
    assert "Second Harbour" not in page.text  # no longer theirs to name
    assert _names(client.get(f"/clinic/tasks/{task_id}/download")) == _expected(case.printed)


def test_the_reports_sit_in_redis_sealed_and_for_a_limited_time(app, client, on_queue):
    app.config["RECONNECT_CLINIC_TASK_RESULT_TTL"] = 120
    case = _caseload()
    login(client, case.owner.email)
    task_id = _task_id(on_queue.start(client, _since()))
    on_queue.work()
    connection = on_queue.queue.connection
    children = on_queue.queue.finished_job_registry.get_job_ids()
    assert len(children) == 3
    keys = [key for child in children for key in connection.scan_iter(f"*{child}*")]
    stored = b"".join(_values(connection, key) for key in keys)
    assert len(stored) > 3000  # the reports are there...
    assert b"%PDF" not in stored  # ...but none in clear
    assert b"Harbour" not in stored
    # RQ keeps a result as base64 of its pickle, so look at the result itself too: the
    # sealed bytes, which open (under their own job's id only) to the PDF.
    for child in children:
        sealed = rq.job.Job.fetch(child, connection=connection).return_value()
        assert isinstance(sealed, bytes)
        assert b"%PDF" not in sealed
        assert queue.open_result(uuid.UUID(child), sealed).startswith(b"%PDF")
    ttls = [connection.ttl(key) for key in keys]
    assert ttls
    assert all(0 < ttl <= 120 for ttl in ttls), ttls
    # The batch's record: ids and a date, kept no longer than its last report can be.
    record = connection.hgetall(batches.batch_key(task_id))
    assert set(record) == {b"therapist", b"since", b"children"}
    assert b"Harbour" not in b"".join(record.values())
    assert 0 < connection.ttl(batches.batch_key(task_id)) <= batches.WAIT + 600 + 120


def _values(connection: Any, key: bytes) -> bytes:
    """Every byte Redis holds under ``key``: a job (hash) or its results (stream)."""
    kind = connection.type(key)
    if kind == b"hash":
        return b"".join(connection.hgetall(key).values())
    if kind == b"stream":
        return b"".join(value for _, entry in connection.xrange(key) for value in entry.values())
    assert kind == b"string", kind
    return bytes(connection.get(key))
