"""The fetcher's rules: the only URLs a report may load, and the files behind them.

Only ``clinic-asset:NAME`` is served, for the exact names of :data:`PACKAGED_ASSETS`,
``logo`` (the file named by ``RECONNECT_CLINIC_PDF_LOGO``) and ``image/KEY`` for the
images passed with a render; nothing else is read or connected to (see the package's
docstring for what templates may reference). :func:`resolve_asset` holds the rules and
runs anywhere (``reports/glyphs.py`` reads the fonts through it); :func:`fetcher_class`
wraps it as WeasyPrint's ``URLFetcher``, in the render workers only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: The private URL scheme of the assets a report may load.
ASSET_SCHEME = "clinic-asset"
#: A configured logo larger than this is refused.
MAX_LOGO_BYTES = 2 * 1024 * 1024

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
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

_IMAGE_PREFIX = "image/"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"


class FetchRefused(ValueError):
    """A URL the report fetcher does not serve (WeasyPrint logs it and goes on)."""


@dataclass(frozen=True)
class FetchAttempt:
    """One URL the renderer asked for, and whether the fetcher served it."""

    url: str
    allowed: bool
    detail: str


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
        media_type = image_type(images[key]) if images and key in images else None
        if images and media_type:
            return images[key], media_type
        raise FetchRefused(f"no image {key[:80]!r} was passed with this render")
    if name in PACKAGED_ASSETS:
        return read_packaged(name), PACKAGED_ASSETS[name]
    raise FetchRefused(f"{name[:80]!r} is not an asset of the reports")


def image_type(data: bytes) -> str | None:
    """ "image/png" or "image/jpeg" by the file's signature, else None."""
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if data.startswith(_JPEG_SIGNATURE):
        return "image/jpeg"
    return None


@cache
def read_packaged(name: str) -> bytes:
    """The bytes of the packaged asset ``name`` (a key of :data:`PACKAGED_ASSETS`)."""
    # The name comes from PACKAGED_ASSETS, never from a URL; still, refuse a file that
    # has been swapped for a symlink, or that resolves outside the assets folder.
    path = ASSETS_DIR.joinpath(*name.split("/"))
    root = os.path.realpath(ASSETS_DIR)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise FetchRefused(f"{name!r} resolves outside the assets folder")
    return _read_regular_file(path, limit=None, follow_symlinks=False)


def _read_logo(logo: str | None) -> tuple[bytes, str]:
    if not logo:
        raise FetchRefused("no logo is configured (RECONNECT_CLINIC_PDF_LOGO)")
    # The logo path is the practice's own setting, so a symlink there is followed; the
    # content must still be a real PNG or JPEG image.
    data = _read_regular_file(Path(logo), limit=MAX_LOGO_BYTES, follow_symlinks=True)
    media_type = image_type(data)
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


@cache
def fetcher_class() -> type:
    """WeasyPrint's ``URLFetcher`` serving :func:`resolve_asset` and nothing else, and
    recording each URL asked for in ``attempts``. Imports WeasyPrint: workers only."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    # misc: WeasyPrint ships no types, so its class is Any to mypy.
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
            # arg-type: urllib's Request (its full_url) or the URL itself, a str.
            return self.fetch(getattr(url, "full_url", url))  # type: ignore[arg-type]

    return ReportFetcher
