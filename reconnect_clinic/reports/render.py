"""The one door to PDF: :func:`html_to_pdf` turns a rendered HTML string into PDF bytes.

This is the only module of reconnect_clinic that calls WeasyPrint. Callers render their
(autoescaped) Jinja template first and pass the final HTML::

    html = render_template("reconnect_clinic/reports/handout.html", assignment=assignment)
    pdf = html_to_pdf(html)          # bytes: a PDF/A-3b document

What every PDF gets
    - ``reports/assets/report.css`` (A4 pages, letterhead, headings, tables, lists, page
      numbers in the footer) is applied to every document, parsed once per worker process.
      Templates need no ``<link rel="stylesheet">``; their own ``<style>`` and ``style``
      attributes override it.
    - Text is set only in the fonts shipped in ``reports/assets/fonts`` (SIL OFL 1.1: Inter,
      subset to Latin with its extensions, Greek, Cyrillic, punctuation and common
      symbols; after it, Noto Sans for Arabic, Hebrew and common Chinese, Japanese and
      Korean: see the README there): the font configuration contains no system font
      at all, so any ``font-family`` prints in Inter and the PDF looks the same on every
      machine. Characters outside the fonts (emoji, rarer scripts) print as an empty
      box, which PDF/A forbids; report previews name them (``reports/glyphs.py``).
    - PDF/A-3b, deterministic: the same HTML gives the same bytes. The PDF's identifier is
      derived from the HTML; its dates come only from the template, so set them there:
      ``<meta name="dcterms.created" content="2024-05-02T10:15:00Z">`` (and
      ``dcterms.modified``). ``<title>``, ``<meta name="author">`` and
      ``<html lang="en">`` become the document's metadata.
    - A footer line on every page: put the text in ``<p class="report-footer">Report
      3f9a… · Confidential</p>`` anywhere in the body (it shows only in the footer, next
      to "Page n of m").

What a template may load
    URLs go through a locked-down fetcher that serves only:

    - ``clinic-asset:logo``: the practice's logo, the PNG or JPEG file named by
      ``RECONNECT_CLINIC_PDF_LOGO``. Show it with ``{% if
      config.RECONNECT_CLINIC_PDF_LOGO %}<img class="logo" src="clinic-asset:logo"
      alt="">{% endif %}`` inside ``<header class="letterhead">``;
    - ``clinic-asset:report.css`` and the fonts listed in :data:`PACKAGED_ASSETS`
      (``clinic-asset:fonts/Inter-Regular.otf`` and the like), the packaged assets
      (already applied; listed so they may be referenced);
    - ``clinic-asset:image/NAME``: a PNG or JPEG image passed with this render,
      ``html_to_pdf(html, images={"NAME": image_bytes})``. Reports print their charts so
      (``charts.line_chart_jpeg``): drawn by the product, never taken from a client.

    Everything else is refused and nothing is read or connected to: ``file:`` (any path),
    ``http:``, ``https:``, ``ftp:``, ``data:``, other ``clinic-asset:`` names, ``..``
    tricks. WeasyPrint logs a refused URL and leaves the image, stylesheet or attachment
    out; the render goes on. ``data:`` URIs are refused too: reports need no inline
    images (the logo has its own door), and refusing them keeps every byte in a PDF to
    what the package ships or the practice configured, with no decoder exposed to
    arbitrary embedded images.

How it runs
    Rendering happens in a small pool of persistent worker processes (plain
    ``python -c`` children of the web process, each with the fonts and the stylesheet
    loaded once; the pool is per process and thread-safe, and a forked child such as a
    gunicorn worker gets its own). A render that takes longer than
    ``RECONNECT_CLINIC_PDF_TIMEOUT`` seconds (default 20) raises :class:`RenderTimeout`:
    its worker is killed and a fresh one is started in its place; other renders are
    unaffected. Waiting for a free worker is bounded by the same timeout; a worker's
    start (about 1.5 s, once) is not counted, and :func:`warm_up` can do it ahead. HTML
    larger than :data:`MAX_HTML_BYTES` (2 MiB, UTF-8) raises
    :class:`RenderInputTooLarge` before any work is done. The web process itself never
    imports WeasyPrint.

What a render costs (bench/bench_reports.py measures it; bench/profile_render.py shows
where the time goes)
    A 3-page session report takes a few hundred milliseconds of one core, nearly all of
    it WeasyPrint's Python: style cascade, layout and drawing, per box and per line.
    Fonts and stylesheet cost nothing per render (loaded once per worker), nor do the
    pipes (about a millisecond). What a template can do: prefer lines of text to
    tables and ``inline-block`` cells (each cell is a box laid out on its own, a table
    twice), and pass charts as JPEG images rather than inline SVG: each element of an
    inline SVG goes through the HTML style cascade and each letter of its text through a
    layout of its own (Matplotlib's chart added about 75 ms to a 105 ms report), a PNG
    is decoded and compressed again (about 25 ms), a JPEG goes in as it is.

Settings (all optional; read from the current app's config when there is an app context)
    ``RECONNECT_CLINIC_PDF_LOGO``: path of the practice's logo (PNG or JPEG, at most
    2 MiB), or None. ``RECONNECT_CLINIC_PDF_TIMEOUT``: seconds a render may take (20).
    ``RECONNECT_CLINIC_PDF_WORKERS``: worker processes per web process (2).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import re
import selectors
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

from flask import current_app, has_app_context

__all__ = [
    "ASSET_SCHEME",
    "MAX_HTML_BYTES",
    "FetchAttempt",
    "RenderError",
    "RenderInputTooLarge",
    "RenderTimeout",
    "RenderedPdf",
    "html_to_pdf",
    "render_pdf",
    "shutdown",
    "warm_up",
]

log = logging.getLogger(__name__)

#: The private URL scheme of the assets a report may load.
ASSET_SCHEME = "clinic-asset"
#: HTML longer than this (UTF-8 bytes) is refused before rendering. A 3-page report is
#: about 20 KB; 2 MiB is hundreds of pages.
MAX_HTML_BYTES = 2 * 1024 * 1024
#: A configured logo larger than this is refused.
MAX_LOGO_BYTES = 2 * 1024 * 1024
#: Images passed with one render (charts): at most this many, each at most this large.
MAX_IMAGES = 16
MAX_IMAGE_BYTES = 2 * 1024 * 1024
_IMAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_IMAGE_PREFIX = "image/"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"

DEFAULT_TIMEOUT = 20.0
DEFAULT_WORKERS = 2
PDF_VARIANT = "pdf/a-3b"

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
LOGO_ASSET = "logo"
# The packaged assets that may be fetched, by exact name, with their media types. Names
# are looked up, never joined from a URL, so no URL can reach another file.
PACKAGED_ASSETS: Mapping[str, str] = {
    "report.css": "text/css; charset=utf-8",
    "fonts/Inter-Regular.otf": "font/otf",
    "fonts/Inter-Bold.otf": "font/otf",
    "fonts/Inter-Italic.otf": "font/otf",
    "fonts/NotoSansArabic-Regular.ttf": "font/ttf",
    "fonts/NotoSansArabic-Bold.ttf": "font/ttf",
    "fonts/NotoSansHebrew-Regular.ttf": "font/ttf",
    "fonts/NotoSansHebrew-Bold.ttf": "font/ttf",
    "fonts/NotoSansCJKsc-Regular.otf": "font/otf",
}
STYLESHEET = "report.css"

# How long a new worker may take to import WeasyPrint and load fonts and stylesheet
# (about a second here); not counted in the render timeout.
_STARTUP_TIMEOUT = 60.0
# A worker kills itself (SIGALRM) this long after the timeout, should its parent fail to.
_SELF_DESTRUCT_GRACE = 10.0
_FONT_DIR_PREFIX = "reconnect-clinic-pdf-"
# Attachments fetched from links get this date, so that they do not depend on the clock.
_FIXED_ATTACHMENT_DATE = datetime(1980, 1, 1, tzinfo=UTC)
# The zlib level pydyf (0.13) compresses streams with; see _compress_streams_once.
_PYDYF_COMPRESSION_LEVEL = 9


# Inline SVG charts carry SVG presentation properties (fill, stroke, ...) that WeasyPrint's
# HTML style parser reports as unknown before its SVG renderer uses them: expected noise.
_SVG_PROPERTY = re.compile(
    r"Ignored `(fill|stroke|stroke-[a-z]+|text-anchor|fill-opacity|clip-path|font-size|"
    r"font-family|font-weight|font-style|opacity|dominant-baseline)\b[^`]*` at \d+:\d+, "
    r"unknown property\.$"
)


class RenderError(Exception):
    """The PDF could not be made."""


class RenderTimeout(RenderError):
    """The render took longer than ``RECONNECT_CLINIC_PDF_TIMEOUT`` and was stopped."""


class RenderInputTooLarge(RenderError):
    """The HTML is larger than :data:`MAX_HTML_BYTES`."""


@dataclass(frozen=True)
class FetchAttempt:
    """One URL the renderer asked for, and whether the fetcher served it."""

    url: str
    allowed: bool
    detail: str


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
    pool = _pool()
    pool.resize(settings.workers)
    # The body carries the HTML, then each image; the header says where each one ends.
    reply, pdf = pool.run(
        {
            "logo": settings.logo,
            "alarm": settings.timeout + _SELF_DESTRUCT_GRACE,
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


def _checked_images(images: Mapping[str, bytes]) -> dict[str, bytes]:
    if len(images) > MAX_IMAGES:
        raise RenderInputTooLarge(f"{len(images)} images; a report may have {MAX_IMAGES}")
    checked = {}
    for name, image in images.items():
        if not isinstance(name, str) or not _IMAGE_NAME.fullmatch(name):
            raise ValueError(f"image name {name!r}: use lower-case letters, digits and dashes")
        if not isinstance(image, bytes | bytearray) or _image_type(image) is None:
            raise ValueError(f"image {name!r} is neither a PNG nor a JPEG")
        if len(image) > MAX_IMAGE_BYTES:
            raise RenderInputTooLarge(
                f"image {name!r} is {len(image):,} bytes; the limit is {MAX_IMAGE_BYTES:,}"
            )
        checked[name] = bytes(image)
    return checked


def warm_up(workers: int | None = None) -> None:
    """Start the render workers now and wait until they are ready (about a second each,
    in parallel), so that the first report of this process is as fast as the others.
    Call it after forking, e.g. from gunicorn's ``post_worker_init``; optional."""
    settings = _settings()
    pool = _pool()
    pool.resize(workers or settings.workers)
    pool.warm_up()


def shutdown() -> None:
    """Stop this process's render workers (also done at exit). Rendering again starts
    new ones."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None and pool.pid == os.getpid():
        pool.close()


# --- Settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    timeout: float
    logo: str | None
    workers: int


def _settings() -> _Settings:
    config: Mapping[str, Any] = current_app.config if has_app_context() else {}
    timeout = config.get("RECONNECT_CLINIC_PDF_TIMEOUT", DEFAULT_TIMEOUT)
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if not timeout > 0:
        raise ValueError(f"RECONNECT_CLINIC_PDF_TIMEOUT must be > 0 seconds, got {timeout!r}")
    workers = int(config.get("RECONNECT_CLINIC_PDF_WORKERS", DEFAULT_WORKERS) or DEFAULT_WORKERS)
    if workers < 1:
        raise ValueError(f"RECONNECT_CLINIC_PDF_WORKERS must be at least 1, got {workers!r}")
    logo = config.get("RECONNECT_CLINIC_PDF_LOGO")
    logo = os.path.abspath(os.fspath(logo)) if logo else None
    return _Settings(timeout=timeout, logo=logo, workers=workers)


# --- The fetcher's rules (used in the workers) ----------------------------------------


class FetchRefused(ValueError):
    """A URL the report fetcher does not serve (WeasyPrint logs it and goes on)."""


def resolve_asset(
    url: str, logo: str | None, images: Mapping[str, bytes] | None = None
) -> tuple[bytes, str]:
    """The bytes and media type that ``url`` names, or :class:`FetchRefused`.

    Only ``clinic-asset:NAME`` is served, for the exact names of
    :data:`PACKAGED_ASSETS`, ``logo`` and ``image/KEY`` for the keys of ``images``
    (the PNGs passed with this render); nothing else is read or connected to.
    """
    scheme, colon, name = url.partition(":")
    if not colon or scheme.lower() != ASSET_SCHEME:
        raise FetchRefused(f"only {ASSET_SCHEME}: URLs are served to reports")
    if name == LOGO_ASSET:
        return _read_logo(logo)
    if name.startswith(_IMAGE_PREFIX):
        key = name[len(_IMAGE_PREFIX) :]
        media_type = _image_type(images[key]) if images and key in images else None
        if images and media_type:
            return images[key], media_type
        raise FetchRefused(f"no image {key[:80]!r} was passed with this render")
    if name in PACKAGED_ASSETS:
        return _read_packaged(name), PACKAGED_ASSETS[name]
    raise FetchRefused(f"{name[:80]!r} is not an asset of the reports")


@cache
def _read_packaged(name: str) -> bytes:
    # The name comes from PACKAGED_ASSETS, never from a URL; still, refuse a file that
    # has been swapped for a symlink, or that resolves outside the assets folder.
    path = ASSETS_DIR.joinpath(*name.split("/"))
    root = os.path.realpath(ASSETS_DIR)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise FetchRefused(f"{name!r} resolves outside the assets folder")
    return _read_regular_file(path, limit=None, follow_symlinks=False)


def _image_type(data: bytes) -> str | None:
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if data.startswith(_JPEG_SIGNATURE):
        return "image/jpeg"
    return None


def _read_logo(logo: str | None) -> tuple[bytes, str]:
    if not logo:
        raise FetchRefused("no logo is configured (RECONNECT_CLINIC_PDF_LOGO)")
    # The logo path is the practice's own setting, so a symlink there is followed; the
    # content must still be a real PNG or JPEG image.
    data = _read_regular_file(Path(logo), limit=MAX_LOGO_BYTES, follow_symlinks=True)
    media_type = _image_type(data)
    if media_type is None:
        raise FetchRefused("RECONNECT_CLINIC_PDF_LOGO is not a PNG or JPEG image")
    return data, media_type


def _read_regular_file(path: Path, *, limit: int | None, follow_symlinks: bool) -> bytes:
    # O_NONBLOCK: opening a FIFO must not hang; it is then refused as not a regular file.
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        if path.is_symlink():
            raise FetchRefused(f"{path.name!r} is a symlink")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FetchRefused(f"{path.name!r} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FetchRefused(f"{path.name!r} is not a regular file")
        if limit is not None and info.st_size > limit:
            raise FetchRefused(f"{path.name!r} is larger than {limit:,} bytes")
        chunks = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                raise FetchRefused(f"{path.name!r} is larger than {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


# --- Rendering inside a worker process -------------------------------------------------


class _Engine:
    """WeasyPrint, the packaged fonts and the parsed stylesheet: built once per process."""

    def __init__(self) -> None:
        from weasyprint import CSS, HTML
        from weasyprint.text.ffi import ffi, fontconfig, harfbuzz, harfbuzz_subset

        self.HTML = HTML
        self.font_config = _packaged_font_configuration()
        atexit.register(_remove_font_folder, self.font_config)
        fetcher = _fetcher_class()(logo=None)
        stylesheet = _read_packaged(STYLESHEET).decode("utf-8")
        self.stylesheet = CSS(string=stylesheet, url_fetcher=fetcher, font_config=self.font_config)
        refused = [attempt.url for attempt in fetcher.attempts if not attempt.allowed]
        fonts = fontconfig.FcConfigGetFonts(self.font_config._config, fontconfig.FcSetApplication)
        loaded = 0 if fonts == ffi.NULL else fonts.nfont
        wanted = sum(name.startswith("fonts/") for name in PACKAGED_ASSETS)
        if refused or loaded != wanted:
            raise RuntimeError(
                f"the report fonts did not load ({loaded} of {wanted}; refused: {refused})"
            )
        self.font_subsetter = (
            "harfbuzz"
            if harfbuzz_subset is not None and harfbuzz.hb_version_atleast(4, 1, 0)
            else "fonttools"
        )
        self.lock = threading.Lock()


_ENGINE: _Engine | None = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> _Engine:
    global _ENGINE
    if _ENGINE is None:
        with _ENGINE_LOCK:
            if _ENGINE is None:
                _ENGINE = _Engine()
    return _ENGINE


def _render_here(
    html: str, logo: str | None, images: Mapping[str, bytes] | None = None
) -> dict[str, Any]:
    """Render in this process (a worker); the reply for the parent, with ``pdf`` bytes."""
    started = time.perf_counter()
    engine = _engine()
    fetcher = _fetcher_class()(logo=logo, images=images)
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
            attachment.created = attachment.modified = _FIXED_ATTACHMENT_DATE
        pdf = document.write_pdf(finisher=_compress_streams_once, **options)
    return {
        "ok": True,
        "pdf": pdf,
        "pages": len(document.pages),
        "fetches": [[a.url, a.allowed, a.detail] for a in fetcher.attempts],
        "messages": messages,
        "font_subsetter": engine.font_subsetter,
        "seconds": time.perf_counter() - started,
    }


def _compress_streams_once(document: Any, pdf: Any) -> None:
    """WeasyPrint's finisher: compress each stream of the PDF now, once, as pydyf would.

    pydyf compresses a stream every time the stream's bytes are asked for, and writing a
    PDF with an identifier (PDF/A needs one) asks twice: to write the object, then to
    hash the whole file for the identifier. Handing pydyf streams that are already
    compressed, at its own level, gives the same bytes for half the work (about 5 ms of a
    95 ms session report). tests/test_render.py checks that no byte changes.
    """
    import pydyf

    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and item.compress:
            compressor = zlib.compressobj(level=_PYDYF_COMPRESSION_LEVEL)
            raw = b"\n".join(pydyf._to_bytes(part) for part in item.stream)
            item.stream = [compressor.compress(raw) + compressor.flush()]
            item.compress = False
            item.extra["Filter"] = "/FlateDecode"


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportFetcher(URLFetcher):  # type: ignore[misc]
        """Serves :func:`resolve_asset` and nothing else: no urllib handler is used."""

        def __init__(self, logo: str | None, images: Mapping[str, bytes] | None = None) -> None:
            super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
            self.logo = logo
            self.images = images or {}
            self.attempts: list[FetchAttempt] = []

        def fetch(self, url: str, headers: object = None) -> Any:
            try:
                data, media_type = resolve_asset(url, self.logo, self.images)
            except FetchRefused as exc:
                self.attempts.append(FetchAttempt(url, False, str(exc)))
                raise
            self.attempts.append(FetchAttempt(url, True, media_type))
            return URLFetcherResponse(url, data, {"Content-Type": media_type})

        def open(self, url: object, data: object = None, timeout: object = None) -> Any:
            return self.fetch(getattr(url, "full_url", url))  # type: ignore[arg-type]

    return ReportFetcher


def _packaged_font_configuration() -> Any:
    """A WeasyPrint FontConfiguration whose Fontconfig knows no system font: only the
    fonts that ``@font-face`` rules load from the package."""
    import cffi
    from weasyprint.text.ffi import ffi, fontconfig, gobject, pangoft2
    from weasyprint.text.fonts import FontConfiguration

    own = cffi.FFI()
    own.cdef("typedef struct _FcConfig FcConfig; FcConfig * FcConfigCreate (void);")
    for name in (
        "libfontconfig.so.1",
        "libfontconfig.1.dylib",
        "libfontconfig-1.dll",
        "fontconfig",
    ):
        try:
            library = own.dlopen(name)
            break
        except OSError:
            continue
    else:
        raise RuntimeError("Fontconfig cannot be loaded")

    class PackagedFontsOnly(FontConfiguration):  # type: ignore[misc]
        def __init__(self) -> None:
            # As FontConfiguration.__init__, with an empty Fontconfig configuration
            # instead of the system's (FcInitLoadConfigAndFonts).
            empty = library.FcConfigCreate()
            if empty == own.NULL:
                raise RuntimeError("Fontconfig could not create a configuration")
            self._config = ffi.cast("FcConfig *", int(own.cast("uintptr_t", empty)))
            self.font_map = ffi.gc(pangoft2.pango_ft2_font_map_new(), gobject.g_object_unref)
            pangoft2.pango_fc_font_map_set_config(
                ffi.cast("PangoFcFontMap *", self.font_map), self._config
            )
            fontconfig.FcConfigDestroy(self._config)  # the font map keeps its reference
            # Where WeasyPrint copies @font-face files; the parent removes it if it has to
            # kill this process, WeasyPrint when the configuration is collected.
            self._folder = Path(tempfile.mkdtemp(prefix=_FONT_DIR_PREFIX))
            self.strut_layouts: dict[Any, Any] = {}
            self.font_features: dict[Any, Any] = {}

    return PackagedFontsOnly()


def _remove_font_folder(font_config: Any) -> None:
    # Before interpreter teardown, when WeasyPrint's own __del__ cannot do it any more.
    folder, font_config._folder = font_config._folder, None
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# At most this many of WeasyPrint's messages are passed on for one render.
_MAX_MESSAGES = 100


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
            return  # expected for inline SVG charts (see render_pdf): not worth a line
        if len(self.records) >= _MAX_MESSAGES:
            self.dropped += 1
            return
        self.records.append([record.levelno, record.name, text])


# --- The worker process's side of the pipe ---------------------------------------------

# Frames: two big-endian lengths, a JSON header and a binary body.
_FRAME = struct.Struct(">II")
_MAX_HEADER = 64 * 1024 * 1024
_MAX_BODY = 1024 * 1024 * 1024


def _frame(header: Mapping[str, Any], body: bytes = b"") -> bytes:
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return _FRAME.pack(len(encoded), len(body)) + encoded + body


def _worker_main(reply_fd: int) -> None:
    """Entry point of a render worker: answer render requests on stdin, on ``reply_fd``
    (the original stdout; the boot code has pointed fd 1 at stderr, so nothing printed
    can corrupt the replies), until stdin closes."""
    out = os.fdopen(reply_fd, "wb")
    source = sys.stdin.buffer
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this ends
    # Records go back to the parent with each reply, not to this process's stderr.
    logging.getLogger("weasyprint").propagate = False
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    try:
        engine = _engine()
    except Exception as exc:
        out.write(_frame({"ready": False, "error": f"{type(exc).__name__}: {exc}"}))
        out.flush()
        raise SystemExit(1) from None
    out.write(
        _frame(
            {
                "ready": True,
                "pid": os.getpid(),
                "font_dir": str(engine.font_config._folder),
                "font_subsetter": engine.font_subsetter,
            }
        )
    )
    out.flush()
    try:
        while (request := _read_frame(source)) is not None:
            header, body = request
            # Should the parent fail to kill this process, SIGALRM ends it.
            signal.setitimer(signal.ITIMER_REAL, float(header["alarm"]))
            try:
                html_end = int(header.get("html_bytes", len(body)))
                images, offset = {}, html_end
                for name, size in header.get("images", []):
                    images[name] = body[offset : offset + size]
                    offset += size
                reply = _render_here(body[:html_end].decode("utf-8"), header.get("logo"), images)
            except Exception as exc:
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "pdf": b""}
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            pdf = reply.pop("pdf")
            out.write(_frame(reply, pdf))
            out.flush()
    finally:
        _remove_font_folder(engine.font_config)


def _read_frame(source: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    prefix = source.read(_FRAME.size)
    if len(prefix) < _FRAME.size:
        return None
    header_size, body_size = _FRAME.unpack(prefix)
    header = source.read(header_size)
    body = source.read(body_size)
    if len(header) < header_size or len(body) < body_size:
        return None
    return json.loads(header), body


# --- The web process's side: a pool of workers -----------------------------------------

# Before any import, keep the real stdout for replies and send fd 1 to stderr.
_BOOT = (
    "import os, sys; reply_fd = os.dup(1); os.dup2(2, 1); sys.path.insert(0, sys.argv[1]); "
    "from reconnect_clinic.reports.render import _worker_main; _worker_main(reply_fd)"
)
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class _Expired(Exception):
    pass


class _WorkerFailed(Exception):
    pass


class _Worker:
    """One render process and the pipes to it."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # Fixed hashing, so that every worker lays out and writes the same bytes.
        env["PYTHONHASHSEED"] = "0"
        # A fixed locale: fontconfig orders fonts for text without a known language by
        # the process's locale, and with fallback fonts packaged, a worker under
        # LANG=ja_JP would set such text in the CJK font, making other bytes.
        env["LC_ALL"] = env["LANG"] = "C.UTF-8"
        env.pop("LANGUAGE", None)
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our fixed code
            [sys.executable, "-c", _BOOT, _PACKAGE_PARENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env=env,
            close_fds=True,
            start_new_session=True,  # no terminal Ctrl+C: it ends when its stdin closes
        )
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - PIPE always gives both
            raise OSError("no pipes to the PDF worker")
        self._stdin, self._stdout = stdin, stdout
        self._in, self._out = stdin.fileno(), stdout.fileno()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._out, selectors.EVENT_READ)
        self.ready = False
        self.font_dir: str | None = None

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> dict[str, Any]:
        try:
            header, _ = self._receive(time.monotonic() + _STARTUP_TIMEOUT)
        except _Expired:
            raise _WorkerFailed(f"it did not start within {_STARTUP_TIMEOUT:g} s") from None
        if not header.get("ready"):
            raise _WorkerFailed(str(header.get("error")))
        font_dir = str(header.get("font_dir") or "")
        if Path(font_dir).name.startswith(_FONT_DIR_PREFIX):
            self.font_dir = font_dir
        self.ready = True
        return header

    def run(
        self, header: Mapping[str, Any], body: bytes, timeout: float
    ) -> tuple[dict[str, Any], bytes]:
        if not self.ready:
            self.wait_ready()
        deadline = time.monotonic() + timeout
        try:
            _write_all(self._in, _frame(header, body))
        except OSError as exc:
            raise _WorkerFailed(f"it stopped taking work ({exc})") from None
        return self._receive(deadline)

    def _receive(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        header_size, body_size = _FRAME.unpack(self._read(_FRAME.size, deadline))
        if header_size > _MAX_HEADER or body_size > _MAX_BODY:
            raise _WorkerFailed("it sent a malformed reply")
        try:
            header = json.loads(self._read(header_size, deadline))
        except ValueError:
            raise _WorkerFailed("it sent a malformed reply") from None
        return header, self._read(body_size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Expired
            if not self._selector.select(remaining):
                continue
            chunk = os.read(self._out, min(size - len(chunks), 1 << 20))
            if not chunk:
                with suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=1)
                raise _WorkerFailed(f"it exited (status {self.process.returncode})")
            chunks += chunk
        return bytes(chunks)

    def stop_taking_work(self) -> None:
        """Close its stdin: an idle worker exits at once."""
        with suppress(OSError):
            self._stdin.close()

    def close(self, *, kill: bool) -> None:
        """End the process: closing its stdin lets it exit; ``kill`` does not wait."""
        self.stop_taking_work()
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._selector.close()
        self._stdout.close()
        if self.font_dir:
            shutil.rmtree(self.font_dir, ignore_errors=True)

    def abandon(self) -> None:
        """Forget the process without touching it (in a forked child: it is the
        parent's). Only this process's copies of the pipes are closed."""
        for stream in (self._stdin, self._stdout):
            with suppress(OSError):
                stream.close()
        self._selector.close()
        self.process.returncode = 0  # never waited for, never killed from here


def _start_worker() -> _Worker:
    try:
        return _Worker()
    except OSError as exc:
        raise RenderError(f"could not start a PDF worker: {exc}") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Pool:
    """The render workers of one process: each runs one render at a time."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.size = DEFAULT_WORKERS
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._changed = threading.Condition(threading.Lock())
        self._closed = False

    def resize(self, size: int) -> None:
        with self._changed:
            self.size = size
            self._changed.notify_all()

    def run(
        self, header: Mapping[str, Any], body: bytes, timeout: float
    ) -> tuple[dict[str, Any], bytes]:
        worker = self._checkout(timeout)
        try:
            reply, pdf = worker.run(header, body, timeout)
        except _Expired:
            self._discard(worker, replace=True)
            raise RenderTimeout(
                f"the PDF took longer than {timeout:g} s to render and was stopped"
            ) from None
        except _WorkerFailed as exc:
            self._discard(worker, replace=False)
            raise RenderError(f"the PDF worker failed: {exc}") from None
        except BaseException:
            self._discard(worker, replace=True)  # interrupted mid-conversation
            raise
        self._checkin(worker)
        return reply, pdf

    def warm_up(self) -> None:
        with self._changed:
            missing = max(self.size - len(self._all) - self._starting, 0)
            self._starting += missing
        started: list[_Worker] = []
        ready = False
        try:
            for _ in range(missing):
                started.append(_start_worker())
            for worker in started:  # they start in parallel; wait for each
                worker.wait_ready()
            ready = True
        except _WorkerFailed as exc:
            raise RenderError(f"the PDF worker failed: {exc}") from None
        finally:
            with self._changed:
                self._starting -= missing
                if ready:
                    self._all.update(started)
                    self._idle.extend(started)
                self._changed.notify_all()
            if not ready:
                for worker in started:
                    worker.close(kill=True)

    def _checkout(self, timeout: float) -> _Worker:
        deadline = time.monotonic() + timeout
        dead: list[_Worker] = []
        try:
            with self._changed:
                while True:
                    if self._closed:
                        raise RenderError("the PDF workers have been shut down")
                    while self._idle:
                        worker = self._idle.pop()
                        if worker.alive():
                            return worker
                        self._all.discard(worker)
                        dead.append(worker)
                    if len(self._all) + self._starting < self.size:
                        self._starting += 1
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise RenderTimeout(
                            f"all {self.size} PDF workers stayed busy for the whole "
                            f"render timeout ({timeout:g} s)"
                        )
                    self._changed.wait(remaining)
        finally:
            for worker in dead:
                worker.close(kill=True)
        try:
            worker = _start_worker()
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            self._all.add(worker)
        return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._changed:
            surplus = self._closed or len(self._all) > self.size
            if surplus:
                self._all.discard(worker)
            else:
                self._idle.append(worker)
            self._changed.notify()
        if surplus:
            worker.close(kill=False)

    def _remove(self, worker: _Worker) -> None:
        with self._changed:
            self._all.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            self._changed.notify()
        worker.close(kill=True)

    def _discard(self, worker: _Worker, *, replace: bool) -> None:
        """Kill ``worker`` and, after a timeout, start its replacement at once, so that
        it is warm by the next request."""
        self._remove(worker)
        if not replace:
            return
        with self._changed:
            if self._closed or len(self._all) + self._starting >= self.size:
                return
            self._starting += 1
        try:
            replacement: _Worker | None = _start_worker()
        except RenderError:
            log.exception("could not start a PDF worker")
            replacement = None
        with self._changed:
            self._starting -= 1
            if replacement is not None:
                self._all.add(replacement)
                self._idle.append(replacement)
            self._changed.notify()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            workers, self._idle = list(self._all), []
            self._all.clear()
            self._changed.notify_all()
        for worker in workers:  # all at once, then wait for each
            worker.stop_taking_work()
        for worker in workers:
            worker.close(kill=False)

    def abandon(self) -> None:
        for worker in list(self._all):
            worker.abandon()


_POOL: _Pool | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> _Pool:
    global _POOL
    pool = _POOL
    if pool is not None and pool.pid == os.getpid():
        return pool
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = _Pool()
        return _POOL


def _after_fork_in_child() -> None:
    # A forked child (e.g. a gunicorn worker of a preloading master) gets its own pool;
    # the parent's workers stay the parent's.
    global _POOL, _POOL_LOCK
    pool, _POOL = _POOL, None
    _POOL_LOCK = threading.Lock()
    if pool is not None:
        pool.abandon()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)
