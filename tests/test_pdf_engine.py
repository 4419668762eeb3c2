"""What the engine inside a worker makes (reconnect_clinic/reports/pdf/engine.py):
PDF/A-3b in the packaged fonts with a footer on every page, dates from the template only,
and streams compressed once with the bytes pydyf would write.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pypdf
import pytest
from flask import Flask

from reconnect_clinic.reports.pdf import (
    html_to_pdf,
    render_pdf,
)
from tests.pdf_samples import font_names, sample_report, text_of

# A bare Flask app (no clinic) and the workers started once for this module.
pytestmark = pytest.mark.usefixtures("pdf_workers")


def test_sample_report_is_pdfa_3b_in_the_packaged_fonts_with_page_footer(pdf_app: Flask) -> None:
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
    assert reader.metadata is not None
    assert reader.metadata.title == "Session report"

    assert font_names(result.pdf) <= {"Inter", "Inter-Bold", "Inter-Italic"}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile3" in descendant["/FontDescriptor"].get_object()  # embedded

    text = text_of(result.pdf)
    assert "Łukasz & Zoë Brontë-Nguyễn" in text
    assert f"Page 1 of {result.pages}" in text
    assert text.count("Report 3f9a0c17 · Confidential clinical record") == result.pages


def test_any_font_family_prints_in_the_packaged_font(pdf_app: Flask) -> None:
    html = (
        "<p style=\"font-family: 'DejaVu Sans', serif\">serif</p>"
        "<p style='font-family: monospace; font-weight: bold'>mono</p>"
        "<p style='font-family: Helvetica, Arial, sans-serif'><em>sans</em></p>"
    )
    assert font_names(html_to_pdf(html)) == {"Inter", "Inter-Bold", "Inter-Italic"}


# Run in a child process, as a worker is: this test process never imports WeasyPrint.
_COMPRESSION_CHECK = """
import json, sys, zlib
from reconnect_clinic.reports.pdf import compat, engine

calls = 0
compressobj = zlib.compressobj

def counting_compressobj(*args, **kwargs):
    global calls
    calls += 1
    return compressobj(*args, **kwargs)

zlib.compressobj = counting_compressobj
html = sys.stdin.read()
once = engine.render_here(html, None)["pdf"]
calls_once, calls = calls, 0
compat.compress_streams_once = lambda document, pdf: None  # pydyf compresses alone
pydyf_alone = engine.render_here(html, None)["pdf"]
print(json.dumps({"same": once == pydyf_alone, "once": calls_once, "alone": calls}))
"""


def test_streams_are_compressed_once_with_the_bytes_pydyf_would_write() -> None:

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


def test_dates_come_from_the_template_only(pdf_app: Flask) -> None:
    html = sample_report(created="2024-05-02T10:15:00Z")
    first, second = html_to_pdf(html), html_to_pdf(html)
    assert first == second
    reader = pypdf.PdfReader(io.BytesIO(first))
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20240502101500Z"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "2024-05-02T10:15:00Z" in xmp


def test_an_attachment_the_fetcher_serves_gets_a_fixed_date(pdf_app: Flask) -> None:
    result = render_pdf('<link rel="attachment" href="clinic-asset:report.css"><p>x</p>')
    assert [(f.url, f.allowed) for f in result.fetches] == [("clinic-asset:report.css", True)]
    reader = pypdf.PdfReader(io.BytesIO(result.pdf))
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    params = names[1].get_object()["/EF"]["/F"].get_object()["/Params"]
    assert params["/CreationDate"] == params["/ModDate"] == "D:19800101000000Z"
