"""The PDF layer's door (reconnect_clinic/reports/pdf/api.py): html_to_pdf takes a string
and returns PDF bytes, input is checked before any work, and the settings come from the
app's config with the defaults of config.DEFAULTS. The renders run in the real workers.
"""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from reconnect_clinic import config
from reconnect_clinic.reports.pdf import (
    MAX_HTML_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    RenderError,
    RenderInputTooLarge,
    api,
    html_to_pdf,
    render_pdf,
)
from tests.pdf_samples import png, text_of

# A bare Flask app (no clinic) and the workers started once for this module.
pytestmark = pytest.mark.usefixtures("pdf_workers")


def test_html_to_pdf_takes_a_string_and_returns_pdf_bytes(pdf_app: Flask) -> None:
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


def test_html_over_the_cap_is_refused_before_rendering(pdf_app: Flask) -> None:
    with pytest.raises(RenderInputTooLarge):
        html_to_pdf("<p>" + "x" * MAX_HTML_BYTES + "</p>")
    assert issubclass(RenderInputTooLarge, RenderError)


def test_images_are_checked_before_rendering(pdf_app: Flask) -> None:
    with pytest.raises(ValueError, match="neither a PNG nor a JPEG"):
        html_to_pdf("<p>x</p>", images={"chart": b"<svg onload=alert(1)>"})
    for bad_name in ("../logo", "Chart", "a/b", "", "x" * 64):
        with pytest.raises(ValueError, match="image name"):
            html_to_pdf("<p>x</p>", images={bad_name: png()})
    with pytest.raises(RenderInputTooLarge):
        html_to_pdf("<p>x</p>", images={"big": png() + b"\0" * MAX_IMAGE_BYTES})
    with pytest.raises(RenderInputTooLarge):
        html_to_pdf("<p>x</p>", images={f"i{n}": png() for n in range(MAX_IMAGES + 1)})


def test_configured_logo_prints_on_the_letterhead(pdf_app: Flask, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    pdf_app.config["RECONNECT_CLINIC_PDF_LOGO"] = str(logo)
    html = '<header class="letterhead"><img class="logo" src="clinic-asset:logo" alt=""></header>'
    result = render_pdf(html)
    assert [(f.url, f.allowed) for f in result.fetches] == [("clinic-asset:logo", True)]
    assert len(PdfReader(io.BytesIO(result.pdf)).pages[0].images) == 1


def test_settings_default_to_the_config_defaults() -> None:
    # Outside an app context, and in an app that sets none of the keys.
    expected = (
        float(config.DEFAULTS["RECONNECT_CLINIC_PDF_TIMEOUT"]),
        config.DEFAULTS["RECONNECT_CLINIC_PDF_LOGO"],
        int(config.DEFAULTS["RECONNECT_CLINIC_PDF_WORKERS"]),
    )
    settings = api._settings()
    assert (settings.timeout, settings.logo, settings.workers) == expected
    with Flask(__name__).app_context():
        settings = api._settings()
    assert (settings.timeout, settings.logo, settings.workers) == expected


def test_settings_come_from_the_app_config(pdf_app: Flask, tmp_path: Path) -> None:
    pdf_app.config["RECONNECT_CLINIC_PDF_TIMEOUT"] = 3
    pdf_app.config["RECONNECT_CLINIC_PDF_WORKERS"] = 1
    pdf_app.config["RECONNECT_CLINIC_PDF_LOGO"] = tmp_path / "logo.png"
    settings = api._settings()
    assert settings.timeout == 3.0
    assert settings.workers == 1
    assert settings.logo == str(tmp_path / "logo.png")


@pytest.mark.parametrize(
    ("key", "value"),
    [("RECONNECT_CLINIC_PDF_TIMEOUT", 0), ("RECONNECT_CLINIC_PDF_WORKERS", -1)],
)
def test_bad_settings_are_refused_before_rendering(pdf_app: Flask, key: str, value: int) -> None:
    pdf_app.config[key] = value
    with pytest.raises(ValueError, match=key):
        html_to_pdf("<p>x</p>")


def test_the_web_process_never_imports_weasyprint() -> None:
    code = (
        "import sys; from reconnect_clinic.reports import pdf; "
        "assert pdf.html_to_pdf('<p>x</p>').startswith(b'%PDF'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'pydyf')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
