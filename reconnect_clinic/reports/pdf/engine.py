"""What runs inside a render worker: WeasyPrint with the packaged fonts and stylesheet,
one render at a time, and the worker's end of the pipe (:func:`worker_main`).

Nothing here runs in the web process: :mod:`.pool` starts ``python -c`` children that
call :func:`worker_main`. Private WeasyPrint and pydyf internals are reached only
through :mod:`.compat`.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ... import cpu_priority
from . import compat
from .fetcher import PACKAGED_ASSETS, STYLESHEET, fetcher_class, read_packaged
from .protocol import FONT_DIR_PREFIX, frame, read_frame

PDF_VARIANT = "pdf/a-3b"
# Attachments fetched from links get this date, so that they do not depend on the clock.
FIXED_ATTACHMENT_DATE = datetime(1980, 1, 1, tzinfo=UTC)
# At most this many of WeasyPrint's messages are passed on for one render.
MAX_MESSAGES = 100
# A render allocates hundreds of thousands of small objects (boxes, styles, layout
# state). With the collector's default first threshold (700) it runs hundreds of
# collections inside every render, each walking the survivors; with this one it runs a
# few, and the worker collects in full after each reply, when no one is waiting.
RENDER_GC_THRESHOLD = (100_000, 50, 1000)

# Inline SVG charts carry SVG presentation properties (fill, stroke, ...) that WeasyPrint's
# HTML style parser reports as unknown before its SVG renderer uses them: expected noise.
_SVG_PROPERTY = re.compile(
    r"Ignored `(fill|stroke|stroke-[a-z]+|text-anchor|fill-opacity|clip-path|font-size|"
    r"font-family|font-weight|font-style|opacity|dominant-baseline)\b[^`]*` at \d+:\d+, "
    r"unknown property\.$"
)


class Engine:
    """WeasyPrint, the packaged fonts and the parsed stylesheet: built once per process."""

    def __init__(self) -> None:
        from weasyprint import CSS, HTML

        self.HTML = HTML
        self.font_config = compat.packaged_font_configuration(FONT_DIR_PREFIX)
        atexit.register(compat.remove_font_folder, self.font_config)
        fetcher = fetcher_class()(logo=None)
        stylesheet = read_packaged(STYLESHEET).decode("utf-8")
        self.stylesheet = CSS(string=stylesheet, url_fetcher=fetcher, font_config=self.font_config)
        refused = [attempt.url for attempt in fetcher.attempts if not attempt.allowed]
        loaded = compat.loaded_font_count(self.font_config)
        wanted = sum(name.startswith("fonts/") for name in PACKAGED_ASSETS)
        if refused or loaded != wanted:
            raise RuntimeError(
                f"the report fonts did not load ({loaded} of {wanted}; refused: {refused})"
            )
        self.font_subsetter = compat.font_subsetter()
        self.lock = threading.Lock()


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> Engine:
    """This process's engine, built on first use."""
    global _ENGINE
    if _ENGINE is None:
        with _ENGINE_LOCK:
            if _ENGINE is None:
                _ENGINE = Engine()
    return _ENGINE


def render_here(
    html: str, logo: str | None, images: Mapping[str, bytes] | None = None
) -> dict[str, Any]:
    """Render in this process (a worker); the reply for the parent, with ``pdf`` bytes."""
    started = time.perf_counter()
    engine = get_engine()
    fetcher = fetcher_class()(logo=logo, images=images)
    options = {
        "pdf_variant": PDF_VARIANT,
        # Content-derived: the same HTML always gets the same identifier.
        "pdf_identifier": hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode(),
    }
    with engine.lock, _collect_weasyprint_log() as messages:
        document = engine.HTML(string=html, url_fetcher=fetcher).render(
            font_config=engine.font_config, stylesheets=[engine.stylesheet], **options
        )
        for attachment in document.metadata.attachments:
            attachment.created = attachment.modified = FIXED_ATTACHMENT_DATE
        pdf = document.write_pdf(finisher=compat.compress_streams_once, **options)
    return {
        "ok": True,
        "pdf": pdf,
        "pages": len(document.pages),
        "fetches": [[a.url, a.allowed, a.detail] for a in fetcher.attempts],
        "messages": messages,
        "font_subsetter": engine.font_subsetter,
        "seconds": time.perf_counter() - started,
    }


@contextmanager
def _collect_weasyprint_log() -> Iterator[list[list[Any]]]:
    """Collect WeasyPrint's warnings and errors during one render."""
    records: list[list[Any]] = []
    handler = _ListHandler(records)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        if handler.dropped:
            records.append(
                [logging.WARNING, "weasyprint", f"... and {handler.dropped} more messages"]
            )


class _ListHandler(logging.Handler):
    def __init__(self, records: list[list[Any]]) -> None:
        super().__init__(logging.WARNING)
        self.records = records
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record must not break the render
            text = str(record.msg)
        if _SVG_PROPERTY.match(text):
            return  # expected for inline SVG charts: not worth a line
        if len(self.records) >= MAX_MESSAGES:
            self.dropped += 1
            return
        self.records.append([record.levelno, record.name, text])


def worker_main(reply_fd: int) -> None:
    """Entry point of a render worker: answer render requests on stdin, on ``reply_fd``
    (the original stdout; the boot code has pointed fd 1 at stderr, so nothing printed
    can corrupt the replies), until stdin closes."""
    out = os.fdopen(reply_fd, "wb")
    source = sys.stdin.buffer
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this ends
    # Records go back to the parent with each reply, not to this process's stderr.
    logging.getLogger("weasyprint").propagate = False
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    # This process leads a session of its own: a priority lowered by its parent (a
    # queue worker's --nice or --idle) counts against other sessions only once the
    # session carries it too.
    try:
        priority = cpu_priority.carry_into_session()
    except Exception as exc:  # a worker that cannot lower itself still renders
        priority = f"failed: {type(exc).__name__}: {exc}"
    try:
        engine = get_engine()
    except Exception as exc:
        out.write(frame({"ready": False, "error": f"{type(exc).__name__}: {exc}"}))
        out.flush()
        raise SystemExit(1) from None
    # The engine (fonts, stylesheet, WeasyPrint's modules) lives as long as the worker:
    # frozen, the collector never walks it again.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*RENDER_GC_THRESHOLD)
    out.write(
        frame(
            {
                "ready": True,
                "pid": os.getpid(),
                "font_dir": str(compat.font_folder(engine.font_config)),
                "font_subsetter": engine.font_subsetter,
                "session_priority": priority,
            }
        )
    )
    out.flush()
    try:
        while (request := read_frame(source)) is not None:
            header, body = request
            # Should the parent fail to kill this process, SIGALRM ends it.
            signal.setitimer(signal.ITIMER_REAL, float(header["alarm"]))
            try:
                html_end = int(header.get("html_bytes", len(body)))
                images, offset = {}, html_end
                for name, size in header.get("images", []):
                    images[name] = body[offset : offset + size]
                    offset += size
                reply = render_here(body[:html_end].decode("utf-8"), header.get("logo"), images)
            except Exception as exc:
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "pdf": b""}
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            pdf = reply.pop("pdf")
            out.write(frame(reply, pdf))
            out.flush()
            del pdf, reply
            # The render's garbage, reclaimed once the reply is written: off this
            # caller's time (a request already queued for this worker waits ~2 ms more).
            gc.collect()
    finally:
        compat.remove_font_folder(engine.font_config)
