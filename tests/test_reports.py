"""Session, progress and intake reports: they render for any amount of data, say what
the records say, are deterministic archival PDFs, and fetch nothing a note names."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from reconnect_clinic.models import StoredReport
from reconnect_clinic.reports import pdf, service
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, login, pdf_text, report_urls

ATTACKS = (
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/passwd">',
    "<style>@import url(http://127.0.0.1:9/x.css);</style>",
)


def _full_history(make, app):
    owner = make.therapist(name="Dr Ada Quill")
    couple = make.couple(owner, a="Robin", b="Sasha")
    for partner, frequency in ((couple.partner_a, "4"), (couple.partner_b, "1")):
        PartnerBrowser(app, make.intake_link(owner, partner)).fill(
            make.intake_answers(
                frequency=frequency, measure_pick="last" if frequency == "4" else "first"
            )
        )
    homework = make.assignment(owner, couple, starts_on=date.today() - timedelta(days=10))  # noqa: DTZ011
    therapy = make.therapy_session(owner, couple)
    note = make.signed_note(owner, therapy, data="We spoke about the weekend. " + " ".join(ATTACKS))
    note.content = {**note.content, "homework_reviewed": [str(homework.id)]}
    return owner, couple, therapy, homework


def test_session_report_says_what_the_record_says(client, make, app):
    owner, couple, therapy, _homework = _full_history(make, app)
    login(client, owner.email)
    response = client.get(f"/clinic/couples/{couple.id}/sessions/{therapy.id}/report.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    text = pdf_text(response.data)
    for expected in (
        "Robin Morgan",
        "Sasha Morgan",
        "Dr Ada Quill",
        "SESSION REPORT",
        "We spoke about the weekend",
        "CSI-16",
        "PHQ-9",
        "GAD-7",
        "Improve Communication",
        "Signed by",
    ):
        assert expected in text, expected
    stored = db_session().scalars(sa.select(StoredReport)).one()
    assert stored.content_sha256 in text.replace("\n", "")
    # The attacks in the note print as text and nothing was fetched.
    assert "file:///etc/passwd" in text
    assert "127.0.0.1:9" in text


def test_the_note_text_attacks_fetch_nothing(app, make):
    _owner, couple, therapy, _ = _full_history(make, app)
    with app.test_request_context():
        html = service.session_report_html(couple, service.load_session_report(couple, therapy))
    rendered = pdf.render_pdf(html)
    fetched = [f.url for f in rendered.fetches]
    assert not any("passwd" in url for url in fetched), fetched
    assert not any("127.0.0.1" in url for url in fetched), fetched
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


def test_signed_report_is_stored_and_served_unchanged(client, make, app):
    owner, couple, therapy, _ = _full_history(make, app)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}/report.pdf"
    first = client.get(url).data
    second = client.get(url).data
    assert first == second
    stored = db_session().scalars(sa.select(StoredReport)).one()
    assert stored.pdf == first
    import hashlib

    assert stored.pdf_sha256 == hashlib.sha256(first).hexdigest()


def test_pdfs_are_archival_and_deterministic(app, make):
    _owner, couple, therapy, _ = _full_history(make, app)
    with app.test_request_context():
        report = service.load_session_report(couple, therapy)
        html = service.session_report_html(couple, report)
    one, two = pdf.html_to_pdf(html), pdf.html_to_pdf(html)
    assert one == two
    reader = PdfReader(io.BytesIO(one))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in raw
    assert "3" in raw
    assert report.fingerprint in reader.metadata["/Subject"]


@pytest.mark.parametrize("history", ["empty", "one partner", "full"])
def test_every_report_renders_for_any_history(client, make, app, history):
    owner = make.therapist()
    couple = make.couple(owner)
    if history != "empty":
        PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(make.intake_answers())
    if history == "full":
        PartnerBrowser(app, make.intake_link(owner, couple.partner_b)).fill(make.intake_answers())
        make.assignment(owner, couple)
        make.signed_note(owner, make.therapy_session(owner, couple))
    therapy = make.therapy_session(owner, couple)  # a session with no note yet
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    for url in report_urls(couple, therapy):
        page = client.get(url)
        assert page.status_code == 200, url
        assert couple.partner_a.first_name in page.text
    for url in report_urls(couple, therapy, pdf=True):
        response = client.get(url)
        assert response.status_code == 200, url
        text = pdf_text(response.data)
        assert "Alex" in text, url
    progress = pdf_text(client.get(f"{base}/progress-report.pdf").data)
    assert "Measures over time" in progress
    assert "Sessions attended" in progress
    if history == "empty":
        assert "No intake submitted yet." in progress


def _images(pdf: bytes) -> list[str]:
    """The filter of each image in ``pdf`` (pages may share one resource dictionary)."""
    found = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        for name in xobjects:
            image = xobjects[name].get_object()
            found[xobjects.raw_get(name).idnum] = str(image.get("/Filter"))
    return list(found.values())


def test_charts_show_both_partners_against_the_cut_offs(client, make, app):
    owner, couple, therapy, _homework = _full_history(make, app)
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    preview = client.get(f"{base}/progress-report").text
    assert preview.count("<svg") == 3  # CSI-16, PHQ-9, GAD-7
    # Each chart names each partner twice: in its legend and in its text alternative.
    assert preview.count("Robin (A)") == 6
    assert preview.count("Sasha (B)") == 6
    assert "distress cut-off (51.5)" in preview
    assert preview.count("moderate (10)") == 2
    # In the PDFs each chart is one image (the same drawing as the preview's SVG).
    assert _images(client.get(f"{base}/progress-report.pdf").data) == ["/DCTDecode"] * 3
    session_pdf = client.get(f"{base}/sessions/{therapy.id}/report.pdf").data
    assert _images(session_pdf) == ["/DCTDecode"]
    session_preview = client.get(f"{base}/sessions/{therapy.id}/report").text
    assert session_preview.count("<svg") == 1
    assert "Robin (A)" in session_preview


def test_handout_pdf(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    login(client, owner.email)
    response = client.get(f"/clinic/couples/{couple.id}/homework/{assignment.id}/handout.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert assignment.title in text
    assert assignment.content["instructions"][0][:30] in text.replace("\n", " ")


def test_cli_reports(app, make, tmp_path, cli):
    _owner, couple, therapy, _ = _full_history(make, app)
    runner = cli
    out = tmp_path / "session.pdf"
    result = runner.invoke(args=["clinic", "render-report", str(therapy.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Robin" in pdf_text(out.read_bytes())
    result = runner.invoke(args=["clinic", "render-report", "not-an-id", "--out", str(out)])
    assert result.exit_code != 0
    assert "not a session id" in result.output
    progress = tmp_path / "progress.pdf"
    result = runner.invoke(
        args=["clinic", "progress-report", str(couple.id), "--out", str(progress)]
    )
    assert result.exit_code == 0, result.output
    assert "PROGRESS REPORT" in pdf_text(progress.read_bytes())
    batch = tmp_path / "batch"
    since = (date.today() - timedelta(days=1)).isoformat()  # noqa: DTZ011
    result = runner.invoke(args=["clinic", "render-reports", "--since", since, "--out", str(batch)])
    assert result.exit_code == 0, result.output
    assert len(list(batch.glob("*.pdf"))) == 1
