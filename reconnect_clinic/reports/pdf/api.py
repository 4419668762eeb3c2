"""The public functions and errors of the PDF layer (re-exported by the package).

:func:`render_pdf` checks its input here, in the web process, then hands the render to
a worker of :mod:`.pool` and turns the worker's reply and the pool's failures into a
:class:`RenderedPdf` or a :class:`RenderError`. The settings come from the current
app's config, with the defaults of :data:`reconnect_clinic.config.DEFAULTS`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from ...config import DEFAULTS
from . import pool as _pool
from .fetcher import FetchAttempt, image_type

#: HTML longer than this (UTF-8 bytes) is refused before rendering. A 3-page report is
#: about 20 KB; 2 MiB is hundreds of pages.
MAX_HTML_BYTES = 2 * 1024 * 1024
#: Images passed with one render (charts): at most this many, each at most this large.
MAX_IMAGES = 16
MAX_IMAGE_BYTES = 2 * 1024 * 1024
_IMAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class RenderError(Exception):
    """The PDF could not be made."""


class RenderTimeout(RenderError):
    """The render took longer than ``RECONNECT_CLINIC_PDF_TIMEOUT`` and was stopped."""


class RenderInputTooLarge(RenderError):
    """The HTML is larger than :data:`MAX_HTML_BYTES`."""


@dataclass(frozen=True)
class RenderedPdf:
    """A finished PDF and what happened while making it."""

    pdf: bytes
    pages: int
    #: Every URL WeasyPrint asked the fetcher for during this render, in order. (Fonts
    #: and stylesheet are loaded once per worker, so they appear only when the HTML
    #: itself refers to them.)
    fetches: tuple[FetchAttempt, ...]
    #: WeasyPrint's warnings and errors for this render, also logged by this process.
    messages: tuple[str, ...]
    #: "harfbuzz" or "fonttools": the library that subsets the embedded fonts.
    font_subsetter: str
    #: Seconds the worker spent rendering (the rest of the call is queueing and pipes).
    render_seconds: float


def html_to_pdf(html: str, *, images: Mapping[str, bytes] | None = None) -> bytes:
    """Render ``html`` (the final, escaped HTML of a report) as PDF/A-3b bytes.

    ``images`` are PNG or JPEG images the HTML shows as
    ``<img src="clinic-asset:image/NAME">``
    (names of lower-case letters, digits and dashes; at most :data:`MAX_IMAGES`, each
    under :data:`MAX_IMAGE_BYTES`): the report's charts.

    Raises :class:`RenderTimeout` when the render takes longer than the configured
    timeout, :class:`RenderInputTooLarge` for HTML over :data:`MAX_HTML_BYTES` or
    images over their limits, ``ValueError`` for an image that is neither PNG nor JPEG, a bad
    name, and :class:`RenderError` when the PDF cannot be made for another reason.
    """
    return render_pdf(html, images=images).pdf


def render_pdf(html: str, *, images: Mapping[str, bytes] | None = None) -> RenderedPdf:
    """Like :func:`html_to_pdf`, with the page count, the fetches and WeasyPrint's log."""
    if not isinstance(html, str):
        raise TypeError(f"html must be str, not {type(html).__name__}")
    try:
        data = html.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RenderError(f"the HTML is not valid text: {exc}") from None
    if len(data) > MAX_HTML_BYTES:
        raise RenderInputTooLarge(
            f"the HTML is {len(data):,} bytes; reports are limited to {MAX_HTML_BYTES:,}"
        )
    checked = _checked_images(images or {})
    settings = _settings()
    pool = _pool.get_pool()
    pool.resize(settings.workers)
    # The body carries the HTML, then each image; the header says where each one ends.
    with _as_render_errors():
        reply, pdf = pool.run(
            {
                "logo": settings.logo,
                "html_bytes": len(data),
                "images": [[name, len(image)] for name, image in checked.items()],
            },
            b"".join([data, *checked.values()]),
            settings.timeout,
        )
    messages = []
    for level, name, text in reply.get("messages", []):
        logging.getLogger(name).log(level, "%s", text)
        messages.append(text)
    if not reply.get("ok"):
        raise RenderError(f"the PDF could not be rendered: {reply.get('error')}")
    return RenderedPdf(
        pdf=pdf,
        pages=int(reply["pages"]),
        fetches=tuple(
            FetchAttempt(url, allowed, detail) for url, allowed, detail in reply["fetches"]
        ),
        messages=tuple(messages),
        font_subsetter=str(reply["font_subsetter"]),
        render_seconds=float(reply["seconds"]),
    )


def warm_up(workers: int | None = None) -> None:
    """Start the render workers now and wait until they are ready (in parallel, each
    with one small render done), so that the first report of this process is as fast as
    the others. Call it after forking, never before: ``reconnect_clinic.gunicorn_hooks``
    does it in each gunicorn worker, and the lazy warm-up (``RECONNECT_CLINIC_PDF_WARM_UP``,
    ``reconnect_clinic/warm_up.py``) at a process's first request; optional."""
    settings = _settings()
    pool = _pool.get_pool()
    pool.resize(workers or settings.workers)
    with _as_render_errors():
        pool.warm_up()


def shutdown() -> None:
    """Stop this process's render workers (also done at exit). Rendering again starts
    new ones."""
    _pool.shutdown()


@contextmanager
def _as_render_errors() -> Iterator[None]:
    """The pool's failures as this module's errors, with the pool's messages."""
    try:
        yield
    except _pool.PoolTimeout as exc:
        raise RenderTimeout(str(exc)) from None
    except _pool.PoolError as exc:
        raise RenderError(str(exc)) from None


def _checked_images(images: Mapping[str, bytes]) -> dict[str, bytes]:
    if len(images) > MAX_IMAGES:
        raise RenderInputTooLarge(f"{len(images)} images; a report may have {MAX_IMAGES}")
    checked = {}
    for name, image in images.items():
        if not isinstance(name, str) or not _IMAGE_NAME.fullmatch(name):
            raise ValueError(f"image name {name!r}: use lower-case letters, digits and dashes")
        if not isinstance(image, bytes | bytearray) or image_type(image) is None:
            raise ValueError(f"image {name!r} is neither a PNG nor a JPEG")
        if len(image) > MAX_IMAGE_BYTES:
            raise RenderInputTooLarge(
                f"image {name!r} is {len(image):,} bytes; the limit is {MAX_IMAGE_BYTES:,}"
            )
        checked[name] = bytes(image)
    return checked


@dataclass(frozen=True)
class _Settings:
    timeout: float
    logo: str | None
    workers: int


def _settings() -> _Settings:
    config: Mapping[str, Any] = current_app.config if has_app_context() else {}
    default_timeout = float(DEFAULTS["RECONNECT_CLINIC_PDF_TIMEOUT"])
    default_workers = int(DEFAULTS["RECONNECT_CLINIC_PDF_WORKERS"])
    timeout = config.get("RECONNECT_CLINIC_PDF_TIMEOUT", default_timeout)
    timeout = default_timeout if timeout is None else float(timeout)
    if not timeout > 0:
        raise ValueError(f"RECONNECT_CLINIC_PDF_TIMEOUT must be > 0 seconds, got {timeout!r}")
    workers = int(config.get("RECONNECT_CLINIC_PDF_WORKERS", default_workers) or default_workers)
    if workers < 1:
        raise ValueError(f"RECONNECT_CLINIC_PDF_WORKERS must be at least 1, got {workers!r}")
    logo = config.get("RECONNECT_CLINIC_PDF_LOGO", DEFAULTS["RECONNECT_CLINIC_PDF_LOGO"])
    logo = os.path.abspath(os.fspath(logo)) if logo else None
    return _Settings(timeout=timeout, logo=logo, workers=workers)
