"""The job queue (reconnect_clinic/tasks/) against the real Redis at 127.0.0.1:6379.

Each test has a queue of its own (a random name) and deletes its jobs after; jobs run in
this process on RQ's SimpleWorker (what ``flask clinic worker`` runs), except in
``test_a_real_worker_process_renders_a_batch``, which starts ``flask clinic worker``.
Skipped, saying so, where no Redis answers.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic.models import AuditEvent, StoredReport
from reconnect_clinic.reports.pdf import pool as pdf_pool
from reconnect_clinic.state import db_session
from reconnect_clinic.tasks import jobs, queue
from tests import factories
from tests.helpers import TEST_KEYS, login

redis = pytest.importorskip("redis", reason="the redis client is not installed ([queue] extra)")
rq = pytest.importorskip("rq", reason="RQ is not installed (pip install 'reconnect-clinic[queue]')")

REDIS_URL = os.environ.get("RECONNECT_CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today()  # noqa: DTZ011 - the practice's own day, as the product


def _redis_or_skip() -> Any:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); CI runs one (issue 19)")
    return client


def delete_queue_jobs(rq_queue: Any) -> None:
    """Every job the queue has had, its result with it, and the queue itself."""
    from rq.job import Job

    ids = set(rq_queue.job_ids)
    for registry in (
        rq_queue.started_job_registry,
        rq_queue.finished_job_registry,
        rq_queue.failed_job_registry,
        rq_queue.deferred_job_registry,
        rq_queue.scheduled_job_registry,
    ):
        ids.update(registry.get_job_ids())
    for job in Job.fetch_many(sorted(ids), connection=rq_queue.connection):
        if job is not None:
            job.delete()
    rq_queue.delete(delete_jobs=True)


@pytest.fixture
def on_queue(app: Flask) -> Iterator[Any]:
    """The test app with a queue of its own in the real Redis; its jobs run in this
    process's app (as ``flask clinic worker`` runs them in its own)."""
    _redis_or_skip()
    name = f"reconnect-clinic-test-{uuid.uuid4().hex[:10]}"
    before = {key: app.config[key] for key in ("RECONNECT_CLINIC_TASK_QUEUE",)}
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = REDIS_URL
    app.config["RECONNECT_CLINIC_TASK_QUEUE_NAME"] = name
    jobs.use_app(app)
    rq_queue = queue.get_queue()
    yield rq_queue
    delete_queue_jobs(rq_queue)
    jobs.use_app(None)
    app.config.update(before, RECONNECT_CLINIC_TASK_QUEUE_NAME="reconnect-clinic")


def work(rq_queue: Any) -> None:
    """Run every job on the queue, here, and return when it is empty."""
    db_session().commit()  # the test's transaction holds SQLite's write lock
    worker = rq.SimpleWorker([rq_queue], connection=rq_queue.connection)
    worker.work(burst=True, logging_level="WARNING")


def _case(**kwargs: Any) -> tuple[Any, Any, Any]:
    owner = factories.therapist()
    couple = factories.couple(owner, label="Harbour Lights", **kwargs)
    therapy = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=2))
    factories.signed_note(owner, therapy)
    return owner, couple, therapy


def _task_id(response: Any) -> uuid.UUID:
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert "/clinic/tasks/" in location, location
    return uuid.UUID(location.rsplit("/", 1)[1])


# --- without a queue: as before -----------------------------------------------------------


def test_without_a_queue_the_export_downloads_at_once(app, client):
    owner, couple, _ = _case()
    login(client, owner.email)
    response = client.get(f"/clinic/couples/{couple.id}/export.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "record.json" in names


def test_without_a_queue_the_task_pages_are_not_found(app, client):
    owner, _, _ = _case()
    login(client, owner.email)
    assert client.get(f"/clinic/tasks/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/clinic/tasks/{uuid.uuid4()}/download").status_code == 404


# --- the record export as a job -----------------------------------------------------------


def test_an_export_on_the_queue_shows_progress_then_downloads(app, client, on_queue):
    owner, couple, _ = _case()
    login(client, owner.email)
    task_id = _task_id(client.get(f"/clinic/couples/{couple.id}/export.zip"))
    waiting = client.get(f"/clinic/tasks/{task_id}")
    assert waiting.status_code == 200
    assert "Waiting for a worker" in waiting.text
    assert "tasks.js" in waiting.text
    assert f"/clinic/tasks/{task_id}/download" not in waiting.text
    assert client.get(f"/clinic/tasks/{task_id}/download").status_code == 404

    work(on_queue)

    done = client.get(f"/clinic/tasks/{task_id}")
    assert f"/clinic/tasks/{task_id}/download" in done.text
    download = client.get(f"/clinic/tasks/{task_id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert "harbour-lights" in download.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert "reports/progress-report.pdf" in names
    assert sum(name.startswith("reports/session-") for name in names) == 1


def test_the_export_job_is_audited_as_the_therapists(app, client, on_queue):
    owner, couple, _ = _case()
    login(client, owner.email)
    _task_id(client.get(f"/clinic/couples/{couple.id}/export.zip"))
    work(on_queue)
    event = db_session().scalar(sa.select(AuditEvent).where(AuditEvent.action == "couple.export"))
    assert event is not None
    assert event.actor_id == str(owner.id)
    assert event.detail["via"] == "queue"


def test_a_partners_export_on_the_queue_holds_no_session_report(app, client, on_queue):
    owner, couple, _ = _case()
    login(client, owner.email)
    task_id = _task_id(client.get(f"/clinic/couples/{couple.id}/export.zip?for=a"))
    work(on_queue)
    download = client.get(f"/clinic/tasks/{task_id}/download")
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert not [name for name in names if name.startswith("reports/session-")]
    assert "partner-a" in download.headers["Content-Disposition"]


def test_only_the_therapist_who_asked_sees_the_job(app, client, on_queue):
    owner, couple, _ = _case()
    other = factories.therapist()
    login(client, owner.email)
    task_id = _task_id(client.get(f"/clinic/couples/{couple.id}/export.zip"))
    work(on_queue)
    stranger = app.test_client()
    login(stranger, other.email)
    assert stranger.get(f"/clinic/tasks/{task_id}").status_code == 404
    assert stranger.get(f"/clinic/tasks/{task_id}/download").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/clinic/tasks/{task_id}/download").status_code == 302  # to login


def test_the_result_sits_in_redis_sealed_and_for_a_limited_time(app, client, on_queue):
    app.config["RECONNECT_CLINIC_TASK_RESULT_TTL"] = 120
    try:
        owner, couple, _ = _case()
        login(client, owner.email)
        task_id = _task_id(client.get(f"/clinic/couples/{couple.id}/export.zip"))
        work(on_queue)
    finally:
        app.config["RECONNECT_CLINIC_TASK_RESULT_TTL"] = 3600
    connection = on_queue.connection
    stored = b"".join(_values(connection, key) for key in connection.scan_iter(f"*{task_id}*"))
    assert len(stored) > 1000  # the result is there...
    assert b"Harbour" not in stored
    # ...but sealed: RQ keeps a result pickled and base64-encoded, so a zip in clear would
    # not show as "PK" in Redis's bytes; the job's own return value is what is checked.
    result = rq.job.Job.fetch(str(task_id), connection=connection).return_value()
    assert isinstance(result, bytes)
    assert not result.startswith(b"PK\x03\x04")
    assert b"%PDF" not in result
    assert queue.open_result(task_id, result).startswith(b"PK\x03\x04")
    ttls = [connection.ttl(key) for key in connection.scan_iter(f"*{task_id}*")]
    assert ttls
    assert all(0 < ttl <= 120 for ttl in ttls), ttls


def _values(connection: Any, key: bytes) -> bytes:
    """Every byte Redis holds under ``key``: a job (hash) or its results (stream)."""
    kind = connection.type(key)
    if kind == b"hash":
        return b"".join(connection.hgetall(key).values())
    if kind == b"stream":
        return b"".join(value for _, entry in connection.xrange(key) for value in entry.values())
    assert kind == b"string", kind
    return bytes(connection.get(key))


def test_a_result_opens_only_as_its_own_jobs(app):
    sealed = queue.seal_result(uuid.UUID(int=1), b"%PDF-1.7 the report")
    assert queue.open_result(uuid.UUID(int=1), sealed) == b"%PDF-1.7 the report"
    with pytest.raises(ValueError):
        queue.open_result(uuid.UUID(int=2), sealed)


def test_a_failed_export_says_so(app, client, on_queue, monkeypatch):
    owner, couple, _ = _case()
    login(client, owner.email)
    task_id = _task_id(client.get(f"/clinic/couples/{couple.id}/export.zip"))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the PDF layer is down")

    monkeypatch.setattr(jobs, "record_export", broken)
    work(on_queue)
    page = client.get(f"/clinic/tasks/{task_id}")
    assert "could not be made" in page.text
    assert client.get(f"/clinic/tasks/{task_id}/download").status_code == 404


# --- the public function, and one warm pool per worker --------------------------------------


def _signed_session_id() -> uuid.UUID:
    """A signed session's id, with the test's transaction ended (on SQLite it would hold
    the write lock the job needs; reading an attribute after a commit starts one)."""
    _, _, therapy = _case()
    session_id = therapy.id
    db_session().commit()
    return session_id


def test_render_session_report_returns_the_stored_pdf(app):
    session_id = _signed_session_id()
    pdf = jobs.render_session_report(app, session_id)
    assert pdf.startswith(b"%PDF")
    stored = db_session().scalars(sa.select(StoredReport)).all()
    assert len(stored) == 1  # kept on first use, as a download would
    assert stored[0].pdf == pdf
    db_session().commit()
    assert jobs.render_session_report(app, str(session_id)) == pdf


def test_render_session_report_builds_the_app_from_an_import_string(app, monkeypatch):
    session_id = _signed_session_id()
    module = type(sys)("clinic_test_host")
    module.create_app = lambda: app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "clinic_test_host", module)
    pdf = jobs.render_session_report("clinic_test_host:create_app", session_id)
    assert pdf.startswith(b"%PDF")
    assert jobs.load_app("clinic_test_host:create_app") is app


def test_a_job_with_no_app_is_refused_clearly(app):
    jobs.use_app(None)
    with pytest.raises(jobs.TaskRefused, match="RECONNECT_CLINIC_TASK_APP"):
        jobs.load_app(None)


def test_a_worker_renders_every_job_with_the_same_warm_pdf_workers(app, on_queue):
    _, couple, first = _case()
    owner = couple.therapist
    second = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=1))
    factories.signed_note(owner, second)
    pids = []
    for therapy in (first, second):
        queue.submit("session-report", jobs.session_report_job, (str(therapy.id),))
        work(on_queue)
        pids.append(sorted(worker.process.pid for worker in pdf_pool.get_pool()._all))
    assert pids[0]
    assert pids[0] == pids[1]


# --- signing, reminders ---------------------------------------------------------------------


def _sign_through_the_page(client: Any, couple: Any, therapy: Any) -> Any:
    from tests.helpers import csrf_from

    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    token = csrf_from(client.get(url).text)
    note = {
        "template": "dap",
        "section_data": "Both spoke about the harbour.",
        "section_assessment": "Some warmth returning.",
        "section_plan": "Keep the check-in.",
        "interventions": ["improve_communication"],
        "risk_level": "none",
        "risk_notes": "",
        "version": "",
    }
    return client.post(
        url, data={**note, "action": "sign", "confirm_sign": "y", "csrf_token": token}
    )


def test_signing_on_the_queue_leaves_the_report_to_a_worker(app, client, on_queue):
    owner = factories.therapist()
    couple = factories.couple(owner, label="Harbour Lights")
    therapy = factories.therapy_session(owner, couple)
    login(client, owner.email)
    signed = _sign_through_the_page(client, couple, therapy)
    assert signed.status_code == 302
    assert db_session().scalars(sa.select(StoredReport)).all() == []
    work(on_queue)
    assert len(db_session().scalars(sa.select(StoredReport)).all()) == 1
    # The same job again (a retry) keeps no second revision of the same report.
    queue.submit("signed-report", jobs.signed_report_job, (str(therapy.id),))
    work(on_queue)
    assert len(db_session().scalars(sa.select(StoredReport)).all()) == 1


def test_signing_with_redis_down_keeps_the_report_at_once(app, client, on_queue):
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = "redis://127.0.0.1:1/0"
    owner = factories.therapist()
    couple = factories.couple(owner)
    therapy = factories.therapy_session(owner, couple)
    login(client, owner.email)
    assert _sign_through_the_page(client, couple, therapy).status_code == 302
    assert len(db_session().scalars(sa.select(StoredReport)).all()) == 1
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = REDIS_URL


def test_an_export_with_redis_down_downloads_at_once(app, client, on_queue):
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = "redis://127.0.0.1:1/0"
    owner, couple, _ = _case()
    login(client, owner.email)
    response = client.get(f"/clinic/couples/{couple.id}/export.zip")
    app.config["RECONNECT_CLINIC_TASK_QUEUE"] = REDIS_URL
    assert response.status_code == 200
    assert response.mimetype == "application/zip"


def test_reminders_run_as_a_job(app, on_queue):
    task_id = queue.submit("reminders", jobs.reminders_job, (TODAY.isoformat(),))
    work(on_queue)
    job = rq.job.Job.fetch(str(task_id), connection=on_queue.connection)
    assert job.return_value() == [0, 0]


# --- the batch ------------------------------------------------------------------------------


def _batch(count: int) -> list[Any]:
    owner = factories.therapist()
    couple = factories.couple(owner, label="Batch")
    sessions = []
    for n in range(count):
        therapy = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(n))
        factories.signed_note(owner, therapy)
        sessions.append(therapy)
    return sessions


def test_render_reports_no_queue_renders_here_though_one_is_configured(
    app, cli, on_queue, tmp_path
):
    sessions = _batch(2)
    since = (TODAY - timedelta(days=5)).isoformat()
    result = cli.invoke(
        args=["clinic", "render-reports", "--since", since, "--out", str(tmp_path), "--no-queue"]
    )
    assert result.exit_code == 0, result.output
    assert "on the queue" not in result.output
    assert len(list(tmp_path.iterdir())) == len(sessions)
    assert on_queue.count == 0


def _worker_env(database_url: str, instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LIVE_SECRET_KEY": "tasks-test",
        "LIVE_DATABASE_URL": database_url,
        "LIVE_ENCRYPTION_KEYS": json.dumps(TEST_KEYS),
        "LIVE_ENCRYPTION_KEY_ID": "k1",
        "LIVE_INSTANCE_PATH": str(instance),
    }


def test_a_real_worker_process_renders_a_batch(app, cli, on_queue, database_url, tmp_path):
    sessions = _batch(3)
    db_session().commit()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "tests.live_wsgi:app",
            "clinic",
            "worker",
            "--url",
            REDIS_URL,
            "--queue",
            on_queue.name,
            # As beside a web server: only CPU time nothing else wants (PostgreSQL only).
            *(["--idle"] if database_url.startswith("postgresql") else []),
        ],
        cwd=ROOT,
        env=_worker_env(database_url, tmp_path / "instance"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        since = (TODAY - timedelta(days=5)).isoformat()
        out = tmp_path / "out"
        result = cli.invoke(args=["clinic", "render-reports", "--since", since, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert len(list(out.iterdir())) == len(sessions)
        assert len(db_session().scalars(sa.select(StoredReport)).all()) == len(sessions)
        if database_url.startswith("postgresql"):
            # Taken by the worker once started (its PDF workers inherit it).
            assert os.sched_getscheduler(worker.pid) == os.SCHED_IDLE
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output


def test_an_idle_worker_is_refused_on_sqlite(app, cli, on_queue, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the refusal is SQLite's; PostgreSQL runs --idle in the test above")
    result = cli.invoke(args=["clinic", "worker", "--burst", "--idle", "--queue", on_queue.name])
    assert result.exit_code != 0
    assert "--idle needs PostgreSQL; on SQLite use --nice." in result.output
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # this process was left alone
