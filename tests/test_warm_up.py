"""The warm-up of a web process's reports (reconnect_clinic/warm_up.py) and gunicorn's
hook for it (reconnect_clinic/gunicorn_hooks.py): PDF workers started before the first
report, in each gunicorn worker and never in the master, and not under tests unless asked.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from reconnect_clinic import gunicorn_hooks, warm_up
from reconnect_clinic.reports import pdf
from reconnect_clinic.reports.pdf import pool as pdf_pool

ENGINE_MODULE = "reconnect_clinic.reports.pdf.engine"


def _app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(config)

    @app.route("/")
    def index() -> str:
        return "ok"

    return app


@pytest.fixture
def warm_ups(monkeypatch) -> list[Flask | None]:
    """Every call of warm_up_reports (none of them starts a PDF worker)."""
    calls: list[Flask | None] = []
    done = threading.Event()

    def record(app: Flask | None = None) -> None:
        calls.append(app)
        done.set()

    monkeypatch.setattr(warm_up, "warm_up_reports", record)
    monkeypatch.setattr(gunicorn_hooks, "warm_up_reports", record)
    return calls


def _join(hook: warm_up.LazyWarmUp) -> None:
    assert hook.thread is not None
    hook.thread.join(timeout=30)
    assert not hook.thread.is_alive()


# --- the setting ----------------------------------------------------------------------------


def test_off_under_testing_by_default(warm_ups):
    app = _app(TESTING=True, RECONNECT_CLINIC_PDF_WARM_UP=None)
    assert warm_up.install(app) is None
    app.test_client().get("/")
    assert warm_ups == []


def test_off_when_turned_off(warm_ups):
    app = _app(RECONNECT_CLINIC_PDF_WARM_UP=False)
    assert warm_up.install(app) is None
    app.test_client().get("/")
    assert warm_ups == []


def test_on_under_testing_when_asked(warm_ups):
    app = _app(TESTING=True, RECONNECT_CLINIC_PDF_WARM_UP=True)
    hook = warm_up.install(app)
    assert hook is not None
    app.test_client().get("/")
    _join(hook)
    assert warm_ups == [app]


def test_a_setting_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="RECONNECT_CLINIC_PDF_WARM_UP"):
        warm_up.install(_app(RECONNECT_CLINIC_PDF_WARM_UP="yes"))


def test_the_clinic_installs_it_off_under_testing(app):
    # The suite's app is app.testing, with the default: no hook among its own.
    hooks = app.before_request_funcs.get(None, [])
    assert not any(isinstance(hook, warm_up.LazyWarmUp) for hook in hooks)


# --- the lazy warm-up -------------------------------------------------------------------------


def test_nothing_starts_at_install_only_at_the_first_request(warm_ups):
    app = _app(RECONNECT_CLINIC_PDF_WARM_UP=None)
    hook = warm_up.install(app)
    assert hook is not None
    assert hook.thread is None
    assert not any(t.name == warm_up.THREAD_NAME for t in threading.enumerate())
    assert warm_ups == []
    app.test_client().get("/")
    _join(hook)
    assert warm_ups == [app]


def test_once_per_process(warm_ups, monkeypatch):
    app = _app()
    hook = warm_up.install(app)
    assert hook is not None
    client = app.test_client()
    for _ in range(3):
        assert client.get("/").status_code == 200
    _join(hook)
    assert len(warm_ups) == 1
    # A forked child (another process id) starts its own at its own first request.
    monkeypatch.setattr(warm_up.os, "getpid", lambda: -1)
    client.get("/")
    _join(hook)
    assert len(warm_ups) == 2


def test_the_first_request_does_not_wait_for_it(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(warm_up, "warm_up_reports", lambda app=None: release.wait(30))
    app = _app()
    hook = warm_up.install(app)
    assert hook is not None
    started = time.monotonic()
    assert app.test_client().get("/").status_code == 200
    assert time.monotonic() - started < 5  # the warm-up is still waiting
    assert hook.thread is not None and hook.thread.is_alive()
    release.set()
    _join(hook)


def test_a_failed_warm_up_is_logged_and_the_request_answered(monkeypatch, caplog):
    def broken(app: Flask | None = None) -> None:
        raise pdf.RenderError("no worker could start")

    monkeypatch.setattr(warm_up, "warm_up_reports", broken)
    app = _app()
    hook = warm_up.install(app)
    assert hook is not None
    assert app.test_client().get("/").status_code == 200
    _join(hook)
    assert "Warming up the PDF workers failed" in caplog.text


def test_warm_up_reports_starts_the_configured_workers():
    pdf.shutdown()
    app = _app(RECONNECT_CLINIC_PDF_WORKERS=1)
    try:
        warm_up.warm_up_reports(app)
        assert len(pdf_pool.get_pool().processes()) == 1
        warm_up.warm_up_reports(app)  # again: nothing more is started
        assert len(pdf_pool.get_pool().processes()) == 1
    finally:
        pdf.shutdown()


def test_the_warm_up_document_is_shaped_like_a_report():
    """Several pages, a table, the footer, and every chart image fetched: what a first
    real report would otherwise be the first to run through a worker."""
    from reconnect_clinic.reports import charts
    from reconnect_clinic.reports.pdf import engine

    image = charts.line_chart_jpeg(
        charts.ChartSpec(name="w", series=(), y_max=3.0, title="Warm-up")
    )
    names = tuple(f"w-{n}" for n in range(warm_up.CHARTS_IN_WARM_UP))
    html = warm_up.warm_up_document(names)
    reply = engine.render_here(html, None, dict.fromkeys(names, image))
    assert reply["ok"]
    assert reply["pages"] >= 2
    fetched = [url for url, allowed, _ in reply["fetches"] if allowed]
    assert [url for url in fetched if url.startswith("clinic-asset:image/")] == [
        f"clinic-asset:image/{name}" for name in names
    ]
    assert reply["messages"] == []
    for part in ('class="report-footer"', "<table", "<thead>", 'class="num"', "<ul"):
        assert part in html


# --- gunicorn's hook ---------------------------------------------------------------------------


class _Worker:
    def __init__(self, wsgi: object) -> None:
        self.wsgi = wsgi


def test_the_hook_finds_the_app_through_middleware(warm_ups):
    app = _app()
    gunicorn_hooks.post_worker_init(_Worker(ProxyFix(ProxyFix(app))))
    assert warm_ups == [app]


def test_the_hook_without_a_flask_app_uses_the_defaults(warm_ups):
    gunicorn_hooks.post_worker_init(_Worker(lambda environ, start_response: []))
    assert warm_ups == [None]


def test_a_failing_hook_lets_the_worker_start(monkeypatch, caplog):
    def broken(app: Flask | None = None) -> None:
        raise pdf.RenderError("no worker could start")

    monkeypatch.setattr(gunicorn_hooks, "warm_up_reports", broken)
    gunicorn_hooks.post_worker_init(_Worker(_app()))
    assert "Warming up the PDF workers failed" in caplog.text


# --- a real gunicorn ---------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def _is_pdf_worker(pid: int) -> bool:
    try:
        return ENGINE_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def _pdf_workers_of(pid: int) -> list[int]:
    return [child for child in _children(pid) if _is_pdf_worker(child)]


def _wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_gunicorns_hook_starts_each_workers_pdf_workers_before_it_serves(live):
    pytest.importorskip("gunicorn", reason="gunicorn (the host's server) is not installed")
    server, _ = live
    # The hook alone: the lazy warm-up stays off (tests/live_wsgi.py).
    server.env["GUNICORN_CMD_ARGS"] = "--config=python:reconnect_clinic.gunicorn_hooks"
    server.start()
    assert server.process is not None
    workers = _children(server.process.pid)
    assert len(workers) == server.workers
    # Each worker runs the hook after it is forked, before it takes a request.
    assert _wait_for(lambda: all(len(_pdf_workers_of(w)) == 2 for w in workers))
    assert _pdf_workers_of(server.process.pid) == []  # none in the master
    assert "Booting worker" in server.log_text()
    assert not server.problems_in_log()


def test_the_lazy_warm_up_starts_in_the_workers_not_in_a_preloading_master(live):
    pytest.importorskip("gunicorn", reason="gunicorn (the host's server) is not installed")
    server, _ = live
    server.env["LIVE_PDF_WARM_UP"] = "1"
    # --preload: the app, and init_app, are made in the master before it forks.
    server.env["GUNICORN_CMD_ARGS"] = "--preload"
    server.start()
    assert server.process is not None
    workers = _children(server.process.pid)
    assert len(workers) == server.workers
    assert _pdf_workers_of(server.process.pid) == []

    def warm() -> bool:
        # A request on a new connection each time, until both workers have answered one.
        requests.get(f"{server.url}/clinic/login", headers={"Connection": "close"}, timeout=60)
        return all(len(_pdf_workers_of(w)) == 2 for w in workers)

    assert _wait_for(warm)
    assert _pdf_workers_of(server.process.pid) == []
    assert not server.problems_in_log()
