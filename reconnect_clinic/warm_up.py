"""Getting a web process ready for its first report before a therapist asks for one.

A new process pays, on its first PDF, for starting its PDF workers (each imports
WeasyPrint and loads the report fonts), for the chart fonts (Pillow) and for the table of
characters the report fonts can print. :func:`warm_up_reports` does all of it ahead, and
waits until it is done. Two ways to run it, per process:

- gunicorn's ``post_worker_init`` hook (``reconnect_clinic.gunicorn_hooks``), in each
  worker after it is forked, before it takes a request;
- the lazy background warm-up :func:`install` sets up (``RECONNECT_CLINIC_PDF_WARM_UP``):
  a thread started at the first request a process answers. Never at ``init_app``: that
  runs in gunicorn's master under ``--preload``, and a thread or a child process
  started before the fork would be the master's, not the workers'. A first request is
  always made in the process that serves it. Off under ``app.testing`` unless the
  setting asks for it (``True``): tests start and stop PDF workers on their own terms.

A report asked for while the warm-up runs waits for the workers being started rather
than starting more (the pool counts them), so nothing is done twice.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import nullcontext, suppress
from datetime import date

from flask import Flask
from jinja2 import TemplateNotFound

log = logging.getLogger(__name__)

CONFIG_KEY = "RECONNECT_CLINIC_PDF_WARM_UP"
THREAD_NAME = "reconnect-clinic-warm-up"
_WARM_UP_DOCUMENT = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title>'
    "</head><body><h1>Warm-up</h1><p>Text in <strong>bold</strong> and <em>italic</em>.</p>"
    '<img class="chart-image" src="clinic-asset:image/{name}" alt="A chart">'
    '<p class="report-footer">Warm-up</p></body></html>'
)
REPORT_TEMPLATES = tuple(
    f"reconnect_clinic/reports/{name}.html"
    for name in ("session", "progress", "intake_summary", "_document", "_preview")
)


def warm_up_reports(app: Flask | None = None) -> None:
    """Load the chart fonts and the printable characters' table, compile the report
    templates (given ``app``), start this process's PDF workers (as many as ``app``'s
    ``RECONNECT_CLINIC_PDF_WORKERS``, or the default without an app) and have each render
    a small document with a chart image, waiting until all of it is done. Safe to call
    again: no worker is started twice (only the small renders are made again)."""
    from .reports import charts, glyphs
    from .reports.pdf import warm_up
    from .reports.pdf.pool import get_pool

    glyphs.printable_code_points()
    spec = charts.ChartSpec(
        name="warm-up",
        series=(
            charts.Series("A", "a", ((date(2000, 1, 1), 1.0), (date(2000, 2, 1), 2.0))),
            charts.Series("B", "b", ((date(2000, 1, 1), 2.0), (date(2000, 2, 1), 1.0))),
        ),
        y_max=3.0,
        title="Warm-up",
    )
    charts.line_chart_svg(spec)
    image = charts.line_chart_jpeg(spec)
    with app.app_context() if app is not None else nullcontext():
        if app is not None:
            for name in REPORT_TEMPLATES:  # compiled once, kept by Jinja's cache
                with suppress(TemplateNotFound):  # an app without the clinic's templates
                    app.jinja_env.get_template(name)
        warm_up()
    # A document with a chart image through every worker at once (each takes one): the
    # path a report takes, on both sides of the pipes, image included.
    workers = len(get_pool().processes())
    threads = [
        threading.Thread(target=_render_once, args=(app, {spec.name: image}))
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _render_once(app: Flask | None, images: dict[str, bytes]) -> None:
    from .reports.pdf import html_to_pdf

    html = _WARM_UP_DOCUMENT.format(name=next(iter(images)))
    try:
        with app.app_context() if app is not None else nullcontext():
            html_to_pdf(html, images=images)
    except Exception:
        log.warning("A warm-up render failed", exc_info=True)


class LazyWarmUp:
    """Starts :func:`warm_up_reports` in a thread at the first request of each process
    (a forked child starts its own at its own first request)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._started_in: int | None = None
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def __call__(self) -> None:
        pid = os.getpid()
        if self._started_in == pid:
            return
        with self._lock:
            if self._started_in == pid:
                return
            self._started_in = pid
            self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self.thread.start()

    def _run(self) -> None:
        try:
            warm_up_reports(self.app)
        except Exception:
            # The first report will try again, and say what is wrong, to its therapist.
            log.warning("Warming up the PDF workers failed", exc_info=True)


def install(app: Flask) -> LazyWarmUp | None:
    """Set up the lazy background warm-up on ``app`` as ``RECONNECT_CLINIC_PDF_WARM_UP``
    says: ``None`` (the default) on, except under ``app.testing``; ``True`` on;
    ``False`` off. Returns the hook (None when off)."""
    setting = app.config.get(CONFIG_KEY)
    if setting not in (None, True, False):
        raise ValueError(f"{CONFIG_KEY} must be None, True or False, got {setting!r}")
    if setting is False or (setting is None and app.testing):
        return None
    hook = LazyWarmUp(app)
    app.before_request(hook)
    return hook
