"""The product's own report documents, rendered as a plain caller would: the baselines of
``bench_reports.py`` (issue 19, "honest baselines").

A report's HTML refers to its stylesheet's fonts and its chart images as
``clinic-asset:NAME`` (served by the product's locked-down fetcher). A plain caller has
files instead: :class:`DocumentFiles` writes the report's images into a folder of its
own, beside the packaged fonts and ``report.css``, and turns every ``clinic-asset:`` URL
of the HTML and the stylesheet into a relative one. The document is otherwise the same,
byte for byte, and so is the stylesheet.

- :func:`plain_weasyprint`: ``weasyprint.HTML(string=html, base_url=folder)
  .write_pdf(stylesheets=[CSS(filename=report.css)])``, in this process, with everything
  new each time (the font configuration, the stylesheet's parse), as a caller that keeps
  nothing between renders does; no PDF/A, no stream compression of the product's own.
- :class:`ChromiumPrinter`: headless Chromium (through Playwright) loading the same file
  and printing it (``page.pdf()``) in a browser kept open, as a service printing with a
  browser would; the same stylesheet, linked from the document, with the page size it
  sets. No PDF/A and no "Page n of m" footer (Chromium does not lay out CSS page-margin
  boxes).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from reconnect_clinic.reports.pdf.fetcher import ASSET_SCHEME, ASSETS_DIR, STYLESHEET

CHROMIUM = Path("/usr/bin/chromium")
_ASSET_URL = re.compile(rf"{ASSET_SCHEME}:")


def relative_urls(text: str) -> str:
    """``clinic-asset:fonts/X`` -> ``fonts/X``, ``clinic-asset:image/Y`` -> ``image/Y``."""
    return _ASSET_URL.sub("", text)


class DocumentFiles:
    """A folder with the packaged fonts, ``report.css`` and one report's images, and the
    report's HTML with relative URLs (removed on exit)."""

    def __init__(self, html: str, images: Mapping[str, bytes]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="reconnect-plain-"))
        shutil.copytree(ASSETS_DIR / "fonts", self.folder / "fonts")
        self.stylesheet = self.folder / STYLESHEET
        self.stylesheet.write_text(relative_urls((ASSETS_DIR / STYLESHEET).read_text()))
        (self.folder / "image").mkdir()
        for name, data in images.items():
            (self.folder / "image" / name).write_bytes(data)
        self.html = relative_urls(html)
        # For the browser: the same document, its stylesheet linked as the first thing in
        # its head (the product applies it before the document's own styles).
        linked = f'<link rel="stylesheet" href="{STYLESHEET}">'
        self.browser_file = self.folder / "report.html"
        self.browser_file.write_text(self.html.replace("<head>", f"<head>{linked}", 1))

    def __enter__(self) -> DocumentFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def plain_weasyprint(files: DocumentFiles) -> Callable[[], bytes]:
    from weasyprint import CSS, HTML

    base_url = f"{files.folder}/"

    def render() -> bytes:
        stylesheet = CSS(filename=str(files.stylesheet))
        pdf = HTML(string=files.html, base_url=base_url).write_pdf(stylesheets=[stylesheet])
        assert pdf is not None
        return pdf

    return render


def chromium_unavailable() -> str | None:
    """Why headless Chromium cannot be measured here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


class ChromiumPrinter:
    """One headless Chromium, kept open; :meth:`printer` prints a document file."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM))
        self.version = self.browser.version
        self.page: Any = self.browser.new_page()

    def printer(self, files: DocumentFiles) -> Callable[[], bytes]:
        url = files.browser_file.as_uri()

        def render() -> bytes:
            self.page.goto(url, wait_until="load")
            return bytes(self.page.pdf(prefer_css_page_size=True, print_background=True))

        return render

    def close(self) -> None:
        self.browser.close()
        self._playwright.stop()
