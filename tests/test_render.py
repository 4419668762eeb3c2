"""The PDF door (reconnect_clinic.reports.render): PDF/A-3b output in the packaged fonts,
identical bytes for identical HTML, a fetcher that serves only the package's assets and
the configured logo, and a timeout that stops a runaway render without harming the next.

The renders run in the real worker processes, so these tests exercise the same path as
the app. Each test uses a tiny Flask app of its own.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import os
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from flask import Flask, render_template_string

from reconnect_clinic.reports import render
from reconnect_clinic.reports.render import (
    MAX_HTML_BYTES,
    FetchRefused,
    RenderError,
    RenderInputTooLarge,
    RenderTimeout,
    html_to_pdf,
    render_pdf,
    resolve_asset,
)

PACKAGE = Path(render.__file__).resolve().parents[1]

PARAGRAPH = (
    "Both partners describe a slow drift into parallel lives: evenings spent in separate "
    "rooms, conversations that stay on logistics, and a sense of not being asked about "
    "their inner world. They agree that nothing dramatic happened; the distance grew from "
    "many small moments in which a bid for attention went unanswered."
)


def sample_report(title: str = "Session report", *, created: str | None = None) -> str:
    """A 2–3 page report like the app's: letterhead, headings, a small table, a list."""
    rows = "".join(
        f"<tr><td>{name}</td><td class='num'>{a}</td><td class='num'>{b}</td><td>{band}</td></tr>"
        for name, a, b, band in [
            ("CSI-16 (relationship satisfaction)", 38, 44, "distressed"),
            ("PHQ-9 (depression)", 11, 6, "moderate / mild"),
            ("GAD-7 (anxiety)", 9, 4, "mild / minimal"),
            ("Feeling unseen (0–10)", 8, 6, "high"),
            ("Conversations on the surface (0–10)", 7, 7, "high"),
            ("Growing distance (0–10)", 6, 8, "high"),
        ]
    )
    steps = "".join(
        f"<li>{step}</li>"
        for step in [
            "Ten minutes a day of undivided attention, phones in another room.",
            "Name one feeling each evening, with one sentence about its cause.",
            "Turn towards a bid for attention at least three times a day.",
            "Replace one logistics conversation a week with a question about the other’s day.",
            "Keep a shared list of small appreciations and read it on Sundays.",
            "Notice withdrawal early and say so without blame.",
            "Plan one unhurried evening together each week.",
            "Bring the list to the next session.",
        ]
    )
    meta = f'<meta name="dcterms.created" content="{created}">' if created else ""
    sections = "".join(
        f"<h2>{heading}</h2><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
        for heading in (
            "Presenting concerns",
            "Signs of emotional neglect",
            "Causes the couple recognise",
            "What changed since intake",
        )
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="author" content="Dr Ana Šimić">{meta}</head>
<body>
<p class="report-footer">Report 3f9a0c17 · Confidential clinical record</p>
<header class="letterhead">
  <p class="practice">Harbour Street Counselling</p>
  <p class="doc-kind">{title}</p>
</header>
<h1>Łukasz &amp; Zoë Brontë-Nguyễn</h1>
<p class="meta">Session 6 · 2 May 2024 · 50 minutes · Dr Ana Šimić</p>
{sections}
<h2>Measures</h2>
<table><thead><tr><th>Measure</th><th class="num">Partner A</th><th class="num">Partner B</th>
<th>Band</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Homework agreed</h2>
<ul class="steps">{steps}</ul>
<h2>Plan</h2><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>
<div class="signature"><p class="line">Signed: Dr Ana Šimić, 2 May 2024</p></div>
</body></html>"""


def runaway_report(rows: int = 3000) -> str:
    """A table large enough to take many seconds to lay out (and still under the cap)."""
    body = "".join(f"<tr><td>{i}</td><td>row {i}</td><td>{i * 7}</td></tr>" for i in range(rows))
    html = f"<table><thead><tr><th>n</th><th>name</th><th>x</th></tr></thead>{body}</table>"
    assert len(html.encode()) < MAX_HTML_BYTES
    return html


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config["RECONNECT_CLINIC_PDF_WORKERS"] = 2
    with app.app_context():
        yield app


@pytest.fixture(scope="module", autouse=True)
def _workers() -> Iterator[None]:
    render.warm_up(2)  # both workers start in parallel, once for this module
    yield
    render.shutdown()


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def font_names(pdf: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def png(width: int = 4, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x1f\x5f\x6b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --- The door ---------------------------------------------------------------------------


def test_html_to_pdf_takes_a_string_and_returns_pdf_bytes(app: Flask) -> None:
    signature = inspect.signature(html_to_pdf)
    assert list(signature.parameters) == ["html", "images"]
    assert signature.parameters["html"].annotation in (str, "str")
    # The charts' images are optional and keyword-only: html_to_pdf(html) is the door.
    assert signature.parameters["images"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["images"].default is None
    assert signature.return_annotation in (bytes, "bytes")

    pdf = html_to_pdf("<p>Hello</p>")
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-1.7")
    assert "Hello" in text_of(pdf)


def test_no_other_module_calls_weasyprint() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(from|import)\s+weasyprint\b", path.read_text(), re.MULTILINE)
    )
    assert importers == ["reports/render.py"]


def test_html_over_the_cap_is_refused_before_rendering(app: Flask) -> None:
    with pytest.raises(RenderInputTooLarge):
        html_to_pdf("<p>" + "x" * MAX_HTML_BYTES + "</p>")
    assert issubclass(RenderInputTooLarge, RenderError)


# --- Records that last ----------------------------------------------------------------


def test_sample_report_is_pdfa_3b_in_the_packaged_fonts_with_page_footer(app: Flask) -> None:
    result = render_pdf(sample_report())
    assert 2 <= result.pages <= 3
    assert result.font_subsetter == "harfbuzz"  # scripts/system-deps.sh installs it
    assert result.fetches == ()

    reader = pypdf.PdfReader(io.BytesIO(result.pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp), xmp
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B<', xmp), xmp
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    assert reader.metadata is not None and reader.metadata.title == "Session report"

    assert font_names(result.pdf) <= {"Inter", "Inter-Bold", "Inter-Italic"}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile3" in descendant["/FontDescriptor"].get_object()  # embedded

    text = text_of(result.pdf)
    assert "Łukasz & Zoë Brontë-Nguyễn" in text
    assert f"Page 1 of {result.pages}" in text
    assert text.count("Report 3f9a0c17 · Confidential clinical record") == result.pages


def test_any_font_family_prints_in_the_packaged_font(app: Flask) -> None:
    html = (
        "<p style=\"font-family: 'DejaVu Sans', serif\">serif</p>"
        "<p style='font-family: monospace; font-weight: bold'>mono</p>"
        "<p style='font-family: Helvetica, Arial, sans-serif'><em>sans</em></p>"
    )
    assert font_names(html_to_pdf(html)) == {"Inter", "Inter-Bold", "Inter-Italic"}


def test_text_without_a_language_prints_in_inter_whatever_the_locale(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fontconfig orders fonts by the locale for text of no known language: with the CJK
    fallback packaged, a worker under a Japanese locale would print this in it."""
    html = "<p style='font-family: monospace'>plain</p><p><tt>typewriter</tt></p>"
    expected = html_to_pdf(html)
    assert font_names(expected) == {"Inter"}
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    render.shutdown()  # the next workers start under this locale
    try:
        assert html_to_pdf(html) == expected
    finally:
        render.shutdown()


def test_same_html_gives_identical_bytes_in_any_worker(app: Flask) -> None:
    html = sample_report()
    results: list[bytes] = []

    def run() -> None:
        with app.app_context():
            results.append(html_to_pdf(html))

    # Two renders at once take the two different worker processes.
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.append(html_to_pdf(html))
    assert len(results) == 3
    assert results[0] == results[1] == results[2]
    assert b"/CreationDate" not in results[0]
    assert b"/ModDate" not in results[0]

    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    assert identifier in results[0]


# Run in a child process, as a worker is: this test process never imports WeasyPrint.
_COMPRESSION_CHECK = """
import json, sys, zlib
from reconnect_clinic.reports import render

calls = 0
compressobj = zlib.compressobj

def counting_compressobj(*args, **kwargs):
    global calls
    calls += 1
    return compressobj(*args, **kwargs)

zlib.compressobj = counting_compressobj
html = sys.stdin.read()
once = render._render_here(html, None)["pdf"]
calls_once, calls = calls, 0
render._compress_streams_once = lambda document, pdf: None  # pydyf compresses alone
pydyf_alone = render._render_here(html, None)["pdf"]
print(json.dumps({"same": once == pydyf_alone, "once": calls_once, "alone": calls}))
"""


def test_streams_are_compressed_once_with_the_bytes_pydyf_would_write() -> None:
    import json
    import subprocess
    import sys

    html = sample_report(created="2024-05-02T10:15:00Z")
    result = subprocess.run(
        [sys.executable, "-c", _COMPRESSION_CHECK],
        input=html,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    outcome = json.loads(result.stdout)
    assert outcome["same"], "compressing ahead of pydyf changed the PDF's bytes"
    # pydyf alone compresses each stream twice (to write it, then to hash the file for
    # the identifier); compressed ahead, each page, font and profile is compressed once.
    assert outcome["once"] < outcome["alone"] * 0.6, outcome


def test_dates_come_from_the_template_only(app: Flask) -> None:
    html = sample_report(created="2024-05-02T10:15:00Z")
    first, second = html_to_pdf(html), html_to_pdf(html)
    assert first == second
    reader = pypdf.PdfReader(io.BytesIO(first))
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20240502101500Z"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "2024-05-02T10:15:00Z" in xmp


def test_an_attachment_the_fetcher_serves_gets_a_fixed_date(app: Flask) -> None:
    result = render_pdf('<link rel="attachment" href="clinic-asset:report.css"><p>x</p>')
    assert [(f.url, f.allowed) for f in result.fetches] == [("clinic-asset:report.css", True)]
    reader = pypdf.PdfReader(io.BytesIO(result.pdf))
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    params = names[1].get_object()["/EF"]["/F"].get_object()["/Params"]
    assert params["/CreationDate"] == params["/ModDate"] == "D:19800101000000Z"


# --- The locked-down fetcher --------------------------------------------------------------


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
    app: Flask, listener: tuple[int, list[object]], caplog: pytest.LogCaptureFixture
) -> None:
    port, accepted = listener
    css_url = f"http://127.0.0.1:{port}/x.css"
    html = (
        '<p>Before</p><img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        f"<style>@import url({css_url});</style>"
        f'<img src="http://127.0.0.1:{port}/pixel.png">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="clinic-asset:../render.py"><p>After</p>'
    )
    result = render_pdf(html)

    assert {(f.url, f.allowed) for f in result.fetches} == {
        ("file:///etc/passwd", False),
        (css_url, False),
        (f"http://127.0.0.1:{port}/pixel.png", False),
        ("data:image/png;base64,iVBORw0KGgo=", False),
        ("clinic-asset:../render.py", False),
    }
    # Image and attachment both asked for /etc/passwd, and both were refused.
    assert [f.url for f in result.fetches].count("file:///etc/passwd") == 2
    assert any("Failed to load attachment" in message for message in result.messages)

    time.sleep(0.1)
    assert accepted == []  # no TCP connection was even attempted
    assert_listener_works(port, accepted)

    text = text_of(result.pdf)
    assert "Before" in text and "After" in text
    assert "root:" not in text
    reader = pypdf.PdfReader(io.BytesIO(result.pdf))
    assert "/Names" not in reader.trailer["/Root"]  # no embedded file

    # WeasyPrint's log of the refusals reaches this process's "weasyprint" logger.
    logged = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert any("Failed to load image at 'file:///etc/passwd'" in m for m in logged), logged
    assert any(f"Failed to load stylesheet at {css_url}" in m for m in logged), logged


def test_escaped_markup_prints_literally_and_fetches_nothing(
    app: Flask, listener: tuple[int, list[object]]
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
        "clinic-asset:../render.py",
        "clinic-asset:fonts/../report.css",
        "clinic-asset:/etc/passwd",
        "clinic-asset:%2e%2e/render.py",
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
    assert media_type.startswith("text/css") and b"@font-face" in css
    font, media_type = resolve_asset("clinic-asset:fonts/Inter-Bold.otf", logo=None)
    assert media_type == "font/otf" and font.startswith(b"OTTO")


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
    monkeypatch.setattr(render, "ASSETS_DIR", tmp_path)
    render._read_packaged.cache_clear()
    try:
        for url in ("clinic-asset:report.css", "clinic-asset:fonts/Inter-Bold.otf"):
            with pytest.raises(FetchRefused, match=r"symlink|outside"):
                resolve_asset(url, logo=None)
    finally:
        render._read_packaged.cache_clear()


def test_fetcher_serves_the_configured_logo_only_if_it_is_an_image(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    assert resolve_asset("clinic-asset:logo", logo=str(logo)) == (png(), "image/png")
    with pytest.raises(FetchRefused, match="PNG or JPEG"):
        resolve_asset("clinic-asset:logo", logo="/etc/passwd")
    with pytest.raises(FetchRefused, match="regular file"):
        resolve_asset("clinic-asset:logo", logo=str(tmp_path))
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\0" * render.MAX_LOGO_BYTES)
    with pytest.raises(FetchRefused, match="larger"):
        resolve_asset("clinic-asset:logo", logo=str(big))


def test_configured_logo_prints_on_the_letterhead(app: Flask, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    app.config["RECONNECT_CLINIC_PDF_LOGO"] = str(logo)
    html = '<header class="letterhead"><img class="logo" src="clinic-asset:logo" alt=""></header>'
    result = render_pdf(html)
    assert [(f.url, f.allowed) for f in result.fetches] == [("clinic-asset:logo", True)]
    assert b"/Subtype /Image" in result.pdf or b"/Subtype/Image" in result.pdf


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f5f6b").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_images_passed_with_a_render_print_and_only_by_their_name(app: Flask) -> None:
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


def test_images_are_checked_before_rendering(app: Flask) -> None:
    with pytest.raises(ValueError, match="neither a PNG nor a JPEG"):
        html_to_pdf("<p>x</p>", images={"chart": b"<svg onload=alert(1)>"})
    for bad_name in ("../logo", "Chart", "a/b", "", "x" * 64):
        with pytest.raises(ValueError, match="image name"):
            html_to_pdf("<p>x</p>", images={bad_name: png()})
    with pytest.raises(RenderInputTooLarge):
        html_to_pdf("<p>x</p>", images={"big": png() + b"\0" * render.MAX_IMAGE_BYTES})
    with pytest.raises(RenderInputTooLarge):
        html_to_pdf("<p>x</p>", images={f"i{n}": png() for n in range(render.MAX_IMAGES + 1)})


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


# --- Stopping a runaway render ------------------------------------------------------------


def test_a_render_over_the_timeout_is_stopped_and_the_next_one_works(app: Flask) -> None:
    app.config["RECONNECT_CLINIC_PDF_TIMEOUT"] = 0.5
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match=r"longer than 0\.5 s"):
        html_to_pdf(runaway_report())
    assert time.monotonic() - started < 6  # not the ~12 s the whole render would take
    assert issubclass(RenderTimeout, RenderError)

    app.config["RECONNECT_CLINIC_PDF_TIMEOUT"] = 20
    assert "Łukasz" in text_of(html_to_pdf(sample_report()))


def test_a_forked_child_gets_workers_of_its_own(app: Flask) -> None:
    # As gunicorn forks its workers from a master that may already have rendered.
    assert "parent" in text_of(html_to_pdf("<p>parent</p>"))
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            with app.app_context():
                status = 0 if "child" in text_of(html_to_pdf("<p>child</p>")) else 2
            render.shutdown()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "parent again" in text_of(html_to_pdf("<p>parent again</p>"))
