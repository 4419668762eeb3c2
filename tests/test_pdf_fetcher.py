"""The locked-down fetcher (reconnect_clinic/reports/pdf/fetcher.py): it serves only the
package's assets, the configured logo and the images passed with a render; everything
else is refused without being read or connected to, and the render goes on.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from flask import Flask, render_template_string

from reconnect_clinic.reports import pdf
from reconnect_clinic.reports.pdf import (
    MAX_LOGO_BYTES,
    FetchRefused,
    fetcher,
    render_pdf,
    resolve_asset,
)
from tests.pdf_samples import jpeg, png, text_of

PACKAGE = Path(pdf.__file__).resolve().parents[2]


# A bare Flask app (no clinic) and the workers started once for this module.
pytestmark = pytest.mark.usefixtures("pdf_workers")


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A local TCP port that records every connection made to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, address = server.accept()
            except OSError:
                continue
            accepted.append(address)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def assert_listener_works(port: int, accepted: list[object]) -> None:
    """The listener does see a connection (so its silence above means something)."""
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    deadline = time.monotonic() + 2
    while not accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(accepted) == 1


def test_refused_urls_are_never_fetched_and_the_render_goes_on(
    pdf_app: Flask, listener: tuple[int, list[object]], caplog: pytest.LogCaptureFixture
) -> None:
    port, accepted = listener
    css_url = f"http://127.0.0.1:{port}/x.css"
    html = (
        '<p>Before</p><img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        f"<style>@import url({css_url});</style>"
        f'<img src="http://127.0.0.1:{port}/pixel.png">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="clinic-asset:../service.py"><p>After</p>'
    )
    result = render_pdf(html)

    assert {(f.url, f.allowed) for f in result.fetches} == {
        ("file:///etc/passwd", False),
        (css_url, False),
        (f"http://127.0.0.1:{port}/pixel.png", False),
        ("data:image/png;base64,iVBORw0KGgo=", False),
        ("clinic-asset:../service.py", False),
    }
    # Image and attachment both asked for /etc/passwd, and both were refused.
    assert [f.url for f in result.fetches].count("file:///etc/passwd") == 2
    assert any("Failed to load attachment" in message for message in result.messages)

    time.sleep(0.1)
    assert accepted == []  # no TCP connection was even attempted
    assert_listener_works(port, accepted)

    text = text_of(result.pdf)
    assert "Before" in text
    assert "After" in text
    assert "root:" not in text
    reader = pypdf.PdfReader(io.BytesIO(result.pdf))
    assert "/Names" not in reader.trailer["/Root"]  # no embedded file

    # WeasyPrint's log of the refusals reaches this process's "weasyprint" logger.
    logged = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert any("Failed to load image at 'file:///etc/passwd'" in m for m in logged), logged
    assert any(f"Failed to load stylesheet at {css_url}" in m for m in logged), logged


def test_escaped_markup_prints_literally_and_fetches_nothing(
    pdf_app: Flask, listener: tuple[int, list[object]]
) -> None:
    port, accepted = listener
    markup = [
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        f"<style>@import url(http://127.0.0.1:{port}/x.css);</style>",
    ]
    # As a caller's autoescaped template renders a client's text.
    html = render_template_string(
        "{% for note in notes %}<p>{{ note }}</p>{% endfor %}", notes=markup
    )
    assert "&lt;img src=" in html
    result = render_pdf(html)
    assert result.fetches == ()
    time.sleep(0.1)
    assert accepted == []
    text = text_of(result.pdf)
    for line in markup:
        assert line in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        f"file://{PACKAGE / 'reports' / 'assets' / 'report.css'}",
        "http://127.0.0.1:9/x.css",
        "https://example.org/logo.png",
        "ftp://example.org/x",
        "data:text/css,p{color:red}",
        "clinic-asset:../service.py",
        "clinic-asset:fonts/../report.css",
        "clinic-asset:/etc/passwd",
        "clinic-asset:%2e%2e/service.py",
        "clinic-asset:report.css?x=1",
        "clinic-asset:fonts/",
        "clinic-asset:logo",  # no logo configured
        "report.css",
    ],
)
def test_fetcher_refuses(url: str) -> None:
    with pytest.raises(FetchRefused):
        resolve_asset(url, logo=None)


def test_fetcher_serves_the_packaged_assets_exactly() -> None:
    css, media_type = resolve_asset("clinic-asset:report.css", logo=None)
    assert media_type.startswith("text/css")
    assert b"@font-face" in css
    font, media_type = resolve_asset("clinic-asset:fonts/Inter-Bold.otf", logo=None)
    assert media_type == "font/otf"
    assert font.startswith(b"OTTO")


def test_packaged_fonts_cover_what_reports_print() -> None:
    """The fonts are subsets (assets/fonts/README.txt): names in Latin scripts with their
    accents (Vietnamese too), Greek and Cyrillic, and the punctuation and symbols notes
    use; with the licence records kept and a visible box for anything else."""
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    needed = (
        "Łukasz Zoë Brontë-Nguyễn Šimić Ștefan Ğülşen Straße Æsa Øre Åsa Ñuño Çelik "
        "Αλέξανδρος Жанна Ёлка Їжак – — ‘’ “” „ … • · € £ № ™ → ≤ ≥ ≠ ½ ° × ÷ − ▪ ◦"
    )
    for name in ("Inter-Regular.otf", "Inter-Bold.otf", "Inter-Italic.otf"):
        data, _ = resolve_asset(f"clinic-asset:fonts/{name}", logo=None)
        font = TTFont(io.BytesIO(data))
        cmap = font.getBestCmap()
        missing = sorted({c for c in needed if not c.isspace() and ord(c) not in cmap})
        assert not missing, (name, missing)
        assert {0, 13, 14} <= {record.nameID for record in font["name"].names}
        assert "Open Font License" in font["name"].getDebugName(13)
        glyphs = font.getGlyphSet()
        pen = BoundsPen(glyphs)
        glyphs[".notdef"].draw(pen)
        assert pen.bounds is not None  # an empty box, not nothing, for a missing glyph


def test_fetcher_refuses_a_packaged_asset_swapped_for_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fonts").mkdir()
    (tmp_path / "report.css").symlink_to("/etc/passwd")
    (tmp_path / "fonts" / "Inter-Bold.otf").symlink_to(tmp_path / "report.css")
    monkeypatch.setattr(fetcher, "ASSETS_DIR", tmp_path)
    fetcher.read_packaged.cache_clear()
    try:
        for url in ("clinic-asset:report.css", "clinic-asset:fonts/Inter-Bold.otf"):
            with pytest.raises(FetchRefused, match=r"symlink|outside"):
                resolve_asset(url, logo=None)
    finally:
        fetcher.read_packaged.cache_clear()


def test_fetcher_serves_the_configured_logo_only_if_it_is_an_image(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    assert resolve_asset("clinic-asset:logo", logo=str(logo)) == (png(), "image/png")
    with pytest.raises(FetchRefused, match="PNG or JPEG"):
        resolve_asset("clinic-asset:logo", logo="/etc/passwd")
    with pytest.raises(FetchRefused, match="regular file"):
        resolve_asset("clinic-asset:logo", logo=str(tmp_path))
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\0" * MAX_LOGO_BYTES)
    with pytest.raises(FetchRefused, match="larger"):
        resolve_asset("clinic-asset:logo", logo=str(big))


def test_images_passed_with_a_render_print_and_only_by_their_name(pdf_app: Flask) -> None:
    html = (
        '<img src="clinic-asset:image/chart-a" alt="a">'
        '<img src="clinic-asset:image/chart-b" alt="b">'
        '<img src="clinic-asset:image/not-passed" alt="c">'
        '<img src="clinic-asset:image/../logo" alt="d">'
    )
    result = render_pdf(html, images={"chart-a": jpeg(), "chart-b": png()})
    assert [(f.url, f.allowed) for f in result.fetches] == [
        ("clinic-asset:image/chart-a", True),
        ("clinic-asset:image/chart-b", True),
        ("clinic-asset:image/not-passed", False),
        ("clinic-asset:image/../logo", False),
    ]
    reader = pypdf.PdfReader(io.BytesIO(result.pdf))
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    filters = sorted(str(xobjects[name].get_object()["/Filter"]) for name in xobjects)
    assert filters == ["/DCTDecode", "/FlateDecode"]  # the JPEG went in as it was


def test_fetcher_serves_passed_images_by_exact_name() -> None:
    images = {"chart-csi16": jpeg()}
    assert resolve_asset("clinic-asset:image/chart-csi16", None, images) == (
        jpeg(),
        "image/jpeg",
    )
    for url in ("clinic-asset:image/chart", "clinic-asset:image/", "clinic-asset:chart-csi16"):
        with pytest.raises(FetchRefused):
            resolve_asset(url, None, images)
    with pytest.raises(FetchRefused):
        resolve_asset("clinic-asset:image/chart-csi16", None, None)
