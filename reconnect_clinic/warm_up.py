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
# Words for the warm-up document: no client's, and plain enough to break into lines.
_FILLER = (
    "Both partners answered the measures before the session and talked through what the "
    "week had asked of them; the therapist noted what was easier and what was not."
)
CHARTS_IN_WARM_UP = 3


def warm_up_document(image_names: tuple[str, ...]) -> str:
    """A document shaped like a real report, with no client's data in it: the footer in
    the page margins, a letterhead, headings, tables with number columns, lists, bold and
    italic, a chart image per name, over several pages. A worker that has rendered it has
    run every part of WeasyPrint a report uses (a tiny document leaves tables, pagination
    and the margin boxes cold, and the first real report pays for them)."""
    rows = "".join(
        f'<tr><td>Partner {"AB"[n % 2]}</td><td>Measure {n}</td><td class="num">{n}</td>'
        f'<td class="num">{n + 3}</td><td>No reliable change</td><td>{_FILLER}</td></tr>'
        for n in range(12)
    )
    charts = "".join(
        f'<div class="chart avoid-break"><img class="chart-image" '
        f'src="clinic-asset:image/{name}" alt="A chart"></div>'
        for name in image_names
    )
    items = "".join(f"<li>Session {n} · 50 min · <em>both partners</em></li>" for n in range(10))
    homework = "".join(
        f'<div class="homework-line avoid-break"><p><strong>Exercise {n}</strong> '
        f'<span class="meta">two weeks</span></p><p class="meta">{_FILLER}</p></div>'
        for n in range(8)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title>'
        '</head><body><p class="report-footer">Warm-up</p>'
        '<header class="letterhead"><p class="practice">Practice</p>'
        '<p class="address">Address</p><p class="doc-kind">Warm-up</p></header>'
        f'<h1>Warm-up</h1><p class="meta">{_FILLER}</p><h2>Charts</h2>{charts}'
        '<h2>A table</h2><table class="change-table"><thead><tr><th>Partner</th>'
        '<th>Measure</th><th class="num">First</th><th class="num">Latest</th>'
        f"<th>Change</th><th>What it means</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<h3>A list</h3><ul class="sessions">{items}</ul><h2>Lines</h2>{homework}'
        f"<p>{_FILLER} <strong>{_FILLER}</strong> <em>{_FILLER}</em></p></body></html>"
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
    # A report-shaped document through every worker at once (each takes one): the path
    # a report takes, on both sides of the pipes, images included.
    workers = len(get_pool().processes())
    images = {f"{spec.name}-{n}": image for n in range(CHARTS_IN_WARM_UP)}
    threads = [threading.Thread(target=_render_once, args=(app, images)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _render_once(app: Flask | None, images: dict[str, bytes]) -> None:
    from .reports.pdf import html_to_pdf

    html = warm_up_document(tuple(images))
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
