"""The render workers seen from the web process (reconnect_clinic/reports/pdf/pool.py):
identical bytes from every worker whatever the locale, a render over its timeout stopped
without harming the next, a dead worker replaced, a forked child with workers of its own,
and nothing left behind.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from reconnect_clinic.reports import pdf
from reconnect_clinic.reports.pdf import (
    RenderError,
    RenderTimeout,
    html_to_pdf,
    pool,
)
from tests.pdf_samples import font_names, runaway_report, sample_report, text_of

# A bare Flask app (no clinic) and the workers started once for this module.
pytestmark = pytest.mark.usefixtures("pdf_workers")


def test_text_without_a_language_prints_in_inter_whatever_the_locale(
    pdf_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fontconfig orders fonts by the locale for text of no known language: with the CJK
    fallback packaged, a worker under a Japanese locale would print this in it."""
    html = "<p style='font-family: monospace'>plain</p><p><tt>typewriter</tt></p>"
    expected = html_to_pdf(html)
    assert font_names(expected) == {"Inter"}
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    pdf.shutdown()  # the next workers start under this locale
    try:
        assert html_to_pdf(html) == expected
    finally:
        pdf.shutdown()


def test_same_html_gives_identical_bytes_in_any_worker(pdf_app: Flask) -> None:
    html = sample_report()
    results: list[bytes] = []

    def run() -> None:
        with pdf_app.app_context():
            results.append(html_to_pdf(html))

    # Two renders at once take the two different worker processes.
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.append(html_to_pdf(html))
    assert len(results) == 3
    assert results[0] == results[1] == results[2]
    assert b"/CreationDate" not in results[0]
    assert b"/ModDate" not in results[0]

    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    assert identifier in results[0]


def test_a_render_over_the_timeout_is_stopped_and_the_next_one_works(pdf_app: Flask) -> None:
    pdf_app.config["RECONNECT_CLINIC_PDF_TIMEOUT"] = 0.5
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match=r"longer than 0\.5 s"):
        html_to_pdf(runaway_report())
    assert time.monotonic() - started < 6  # not the ~12 s the whole render would take
    assert issubclass(RenderTimeout, RenderError)

    pdf_app.config["RECONNECT_CLINIC_PDF_TIMEOUT"] = 20
    assert "Łukasz" in text_of(html_to_pdf(sample_report()))


def test_a_forked_child_gets_workers_of_its_own(pdf_app: Flask) -> None:
    # As gunicorn forks its workers from a master that may already have rendered.
    assert "parent" in text_of(html_to_pdf("<p>parent</p>"))
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            with pdf_app.app_context():
                status = 0 if "child" in text_of(html_to_pdf("<p>child</p>")) else 2
            pdf.shutdown()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "parent again" in text_of(html_to_pdf("<p>parent again</p>"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until_dead(pid: int) -> None:
    """Until the process has ended (a zombie not yet waited for counts as ended)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} is still running")


def test_a_worker_that_died_while_idle_is_replaced_by_the_next_render(pdf_app: Flask) -> None:
    pdf.shutdown()
    pdf.warm_up(2)
    before = pool.get_pool().processes()
    assert len(before) == 2
    for pid, _ in before:
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        _wait_until_dead(pid)
    assert "after" in text_of(html_to_pdf("<p>after</p>"))
    after = pool.get_pool().processes()
    assert {pid for pid, _ in after}.isdisjoint(pid for pid, _ in before)
    for _, font_dir in before:
        assert font_dir is not None
        assert not Path(font_dir).exists()  # the parent removed the dead worker's fonts


def test_a_worker_that_dies_mid_render_fails_that_render_only(pdf_app: Flask) -> None:
    pdf_app.config["RECONNECT_CLINIC_PDF_WORKERS"] = 1
    pdf.shutdown()
    pdf.warm_up(1)
    [(pid, font_dir)] = pool.get_pool().processes()
    errors: list[BaseException] = []

    def run() -> None:
        with pdf_app.app_context():
            try:
                html_to_pdf(runaway_report())
            except BaseException as exc:
                errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)  # the runaway render is under way
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=30)
    assert len(errors) == 1
    assert type(errors[0]) is RenderError
    assert "the PDF worker failed: it exited" in str(errors[0])
    assert font_dir is not None
    assert not Path(font_dir).exists()
    assert "next" in text_of(html_to_pdf("<p>next</p>"))
    [(new_pid, _)] = pool.get_pool().processes()
    assert new_pid != pid


def test_a_timed_out_worker_is_killed_and_its_fonts_removed(pdf_app: Flask) -> None:
    pdf_app.config["RECONNECT_CLINIC_PDF_WORKERS"] = 1
    pdf_app.config["RECONNECT_CLINIC_PDF_TIMEOUT"] = 0.5
    pdf.shutdown()
    pdf.warm_up(1)
    [(pid, font_dir)] = pool.get_pool().processes()
    with pytest.raises(RenderTimeout):
        html_to_pdf(runaway_report())
    assert not _alive(pid)
    assert font_dir is not None
    assert not Path(font_dir).exists()
    # The replacement started at once, and is ready for the next render.
    [(replacement, _)] = pool.get_pool().processes()
    assert replacement != pid
    assert _alive(replacement)


def test_shutdown_leaves_no_process_and_no_font_folder(pdf_app: Flask) -> None:
    pdf.shutdown()
    pdf.warm_up(2)
    workers = pool.get_pool().processes()
    assert len(workers) == 2
    pdf.shutdown()
    for pid, font_dir in workers:
        assert not _alive(pid)
        assert font_dir is not None
        assert not Path(font_dir).exists()
