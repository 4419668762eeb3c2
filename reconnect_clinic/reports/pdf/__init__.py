"""The one door to PDF: :func:`html_to_pdf` turns a rendered HTML string into PDF bytes.

This is the only package of reconnect_clinic that calls WeasyPrint. Callers render their
(autoescaped) Jinja template first and pass the final HTML::

    html = render_template("reconnect_clinic/reports/handout.html", assignment=assignment)
    pdf = html_to_pdf(html)          # bytes: a PDF/A-3b document

Its rooms: :mod:`.api` (these functions and their errors, in the web process),
:mod:`.fetcher` (the only URLs a report may load), :mod:`.engine` (WeasyPrint inside a
render worker), :mod:`.pool` (the workers, seen from the web process), :mod:`.protocol`
(what the two say over the pipes) and :mod:`.compat` (every private WeasyPrint or pydyf
internal used, and the versions supported).

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
    ``RECONNECT_CLINIC_PDF_TIMEOUT`` seconds raises :class:`RenderTimeout`: its worker is
    killed and a fresh one is started in its place; other renders are unaffected. A
    worker that dies fails only its render (:class:`RenderError`) and is replaced.
    Waiting for a free worker is bounded by the same timeout; a worker's start (once) is
    not counted, and :func:`warm_up` can do it ahead. HTML larger than
    :data:`MAX_HTML_BYTES` (2 MiB, UTF-8) raises :class:`RenderInputTooLarge` before any
    work is done. The web process itself never imports WeasyPrint.

What a render costs
    Nearly all of it is WeasyPrint's Python: style cascade, layout and drawing, per box
    and per line; fonts and stylesheet are loaded once per worker. So prefer lines of
    text to tables and ``inline-block`` cells (each cell is a box laid out on its own, a
    table twice), and pass charts as JPEG images rather than inline SVG (each element of
    an inline SVG goes through the style cascade, each letter of its text through a
    layout of its own; a PNG is decoded and compressed again, a JPEG goes in as it is).
    The figures are in ``bench/README.md`` (``bench/bench_reports.py`` measures them,
    ``bench/profile_render.py`` shows where the time goes).

Settings (all optional; read from the current app's config when there is an app context,
with the defaults of ``reconnect_clinic.config.DEFAULTS``)
    ``RECONNECT_CLINIC_PDF_LOGO``: path of the practice's logo (PNG or JPEG, at most
    2 MiB), or None. ``RECONNECT_CLINIC_PDF_TIMEOUT``: seconds a render may take.
    ``RECONNECT_CLINIC_PDF_WORKERS``: worker processes per web process.
"""

from .api import (
    MAX_HTML_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    RenderedPdf,
    RenderError,
    RenderInputTooLarge,
    RenderTimeout,
    html_to_pdf,
    render_pdf,
    shutdown,
    warm_up,
)
from .fetcher import (
    ASSET_SCHEME,
    MAX_LOGO_BYTES,
    PACKAGED_ASSETS,
    FetchAttempt,
    FetchRefused,
    resolve_asset,
)

__all__ = [
    "ASSET_SCHEME",
    "MAX_HTML_BYTES",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "MAX_LOGO_BYTES",
    "PACKAGED_ASSETS",
    "FetchAttempt",
    "FetchRefused",
    "RenderError",
    "RenderInputTooLarge",
    "RenderTimeout",
    "RenderedPdf",
    "html_to_pdf",
    "render_pdf",
    "resolve_asset",
    "shutdown",
    "warm_up",
]
