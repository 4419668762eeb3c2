"""Queued work in a real browser: a record export and a batch of session reports, whose
progress page updates by itself (static tasks.js under the clinic's CSP, no inline
script) until the therapist downloads the zip. Against the real Redis (skipped, saying
so, without one) and Debian's Chromium."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, timedelta

import pytest

from reconnect_clinic.tasks import batches, jobs, queue
from tests import factories
from tests.test_tasks import REDIS_URL, _redis_or_skip, delete_queue_jobs

YESTERDAY = date.today() - timedelta(days=1)  # noqa: DTZ011 - the practice's own day
rq = pytest.importorskip("rq", reason="RQ is not installed (pip install 'reconnect-clinic[queue]')")


def test_the_progress_page_updates_and_the_export_downloads(server, browser):
    _redis_or_skip()
    base, app = server
    config = {
        "RECONNECT_CLINIC_TASK_QUEUE": REDIS_URL,
        "RECONNECT_CLINIC_TASK_QUEUE_NAME": f"reconnect-clinic-test-{uuid.uuid4().hex[:10]}",
    }
    kept = {key: app.config[key] for key in config}
    app.config.update(config)
    jobs.use_app(app)
    with app.app_context():
        owner = factories.therapist(email="queue-browser@example.org")
        couple = factories.couple(owner, label="Queue Harbour")
        therapy = factories.therapy_session(owner, couple, held_on=YESTERDAY)
        factories.signed_note(owner, therapy)
        couple_id = couple.id
        rq_queue = queue.get_queue()
    context = browser.new_context(accept_downloads=True)  # the clinic's CSP in force
    try:
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        navigations: list[str] = []
        page.goto(f"{base}/clinic/login")
        page.fill("#email", "queue-browser@example.org")
        page.fill("#password", factories.PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/clinic/")

        page.goto(f"{base}/clinic/couples/{couple_id}/export.zip")
        assert "/clinic/tasks/" in page.url
        assert "Waiting for a worker" in page.locator("#task-status").inner_text()
        page.on("framenavigated", lambda frame: navigations.append(frame.url))

        with app.app_context():
            rq.SimpleWorker([rq_queue], connection=rq_queue.connection).work(
                burst=True, logging_level="WARNING"
            )
        link = page.locator("[data-task-download]")
        link.wait_for(timeout=15_000)  # tasks.js polls every 2 s
        assert navigations == []  # updated in place, not reloaded
        with page.expect_download() as downloading:
            link.click()
        path = downloading.value.path()
        names = zipfile.ZipFile(io.BytesIO(path.read_bytes())).namelist()
        assert "record.json" in names
        assert downloading.value.suggested_filename.endswith("case-record.zip")
        assert not [text for text in refused if "Content Security Policy" in text]
    finally:
        context.close()
        with app.app_context():
            delete_queue_jobs(rq_queue)
        app.config.update(kept)
        jobs.use_app(None)


def test_a_batch_started_from_the_dashboard_counts_its_reports_and_downloads(server, browser):
    """The therapist starts a batch from the form (reached from the dashboard), watches
    "N of M reports" change in place as a worker makes them, and downloads the ZIP."""
    _redis_or_skip()
    base, app = server
    config = {
        "RECONNECT_CLINIC_TASK_QUEUE": REDIS_URL,
        "RECONNECT_CLINIC_TASK_QUEUE_NAME": f"reconnect-clinic-test-{uuid.uuid4().hex[:10]}",
    }
    kept = {key: app.config[key] for key in config}
    app.config.update(config)
    jobs.use_app(app)
    with app.app_context():
        owner = factories.therapist(email="batch-browser@example.org")
        couple = factories.couple(owner, label="Batch Harbour")
        expected = set()
        for days in (1, 3):
            therapy = factories.therapy_session(owner, couple, held_on=YESTERDAY - timedelta(days))
            factories.signed_note(owner, therapy)
            expected.add(f"session-{therapy.held_on}-{therapy.id}.pdf")
        rq_queue = queue.get_queue()
    context = browser.new_context(accept_downloads=True)  # the clinic's CSP in force
    task_id = None
    try:
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        page.goto(f"{base}/clinic/login")
        page.fill("#email", "batch-browser@example.org")
        page.fill("#password", factories.PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/clinic/")

        page.get_by_role("link", name="Print session reports").click()
        page.wait_for_url(f"{base}/clinic/session-reports")
        assert page.get_by_label("Print session reports since").input_value() == (
            (date.today() - timedelta(days=30)).isoformat()  # noqa: DTZ011
        )
        page.get_by_role("button", name="Print the reports").click()
        page.wait_for_url(f"{base}/clinic/tasks/*")
        task_id = uuid.UUID(page.url.rsplit("/", 1)[1])
        count = page.locator("[data-batch-count]")
        assert count.inner_text() == "0 of 2 reports."
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))

        def work(max_jobs: int | None = None) -> None:
            with app.app_context():
                rq.SimpleWorker([rq_queue], connection=rq_queue.connection).work(
                    burst=True, logging_level="WARNING", max_jobs=max_jobs
                )

        work(max_jobs=1)
        page.locator("[data-batch-count]", has_text="1 of 2 reports.").wait_for(timeout=15_000)
        work()
        link = page.locator("[data-task-download]")
        link.wait_for(timeout=15_000)  # tasks.js polls every 2 s
        assert count.inner_text() == "2 of 2 reports."
        assert navigations == []  # updated in place, not reloaded
        with page.expect_download() as downloading:
            link.click()
        names = zipfile.ZipFile(io.BytesIO(downloading.value.path().read_bytes())).namelist()
        assert set(names) == expected
        assert downloading.value.suggested_filename.startswith("session-reports_")
        assert not [text for text in refused if "Content Security Policy" in text]
    finally:
        context.close()
        with app.app_context():
            delete_queue_jobs(rq_queue)
            if task_id is not None:
                rq_queue.connection.delete(batches.batch_key(task_id))
        app.config.update(kept)
        jobs.use_app(None)
