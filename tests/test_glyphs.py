"""Characters a report's PDF cannot print (reconnect_clinic/reports/glyphs.py): found in
the text a report prints, and named on every preview, never in the PDF itself."""

from __future__ import annotations

from reconnect_clinic.reports import service
from reconnect_clinic.reports.glyphs import unprintable_characters, unprintable_in_html
from reconnect_clinic.reports.pdf import render_pdf
from tests.helpers import login, pdf_text, post_form, report_urls
from tests.pdf_samples import font_names

WARNING = "The PDF of this report cannot print"


def test_scripts_the_report_fonts_cover_print_and_others_are_named_once_in_order():
    covered = (
        "Łukasz Zoë Brontë-Nguyễn Αλέξανδρος Жанна – “quoted” … € № → ≤ ½ ° "
        "陈美玲 さくら 김민준 שלום مرحبا"
    )
    assert unprintable_characters(covered) == ()
    assert unprintable_characters("葛\U000e0100 A\ufe0f") == ()  # variation selectors draw nothing
    text = "Somchai สมชาย and ส again, 😀\u200d\t\n"
    assert unprintable_characters(text) == ("ส", "ม", "ช", "า", "ย", "😀")


def test_only_the_text_a_page_prints_counts():
    html = (
        "<html><head><title>ส</title><style>p::after{content:'ม'}</style></head>"
        "<body><p title='ช'>Ada &amp; &#x0E22;</p></body></html>"
    )
    assert unprintable_in_html(html) == ("ย",)


def test_previews_name_the_characters_and_the_pdfs_do_not(client, make, monkeypatch):
    owner = make.therapist()
    couple = make.couple(owner, a="Ada", b="สมชาย")
    therapy = make.therapy_session(owner, couple)
    login(client, owner.email)
    for url in report_urls(couple, therapy):
        page = client.get(url)
        assert page.status_code == 200, url
        assert WARNING in page.text, url
        assert "ส ม ช า ย" in page.text, url
    # What goes through the PDF door. (pypdf cannot read back the text of a PDF with a
    # missing glyph in it, though poppler's pdftotext can: so the HTML is checked.)
    sent: list[str] = []
    real = service.html_to_pdf

    def door(html: str, **kwargs: object) -> bytes:
        sent.append(html)
        return real(html, **kwargs)

    monkeypatch.setattr(service, "html_to_pdf", door)
    for url in report_urls(couple, therapy, pdf=True):
        response = client.get(url)
        assert response.status_code == 200, url
        assert sent, url
        assert "สมชาย" in sent[-1], url
        assert WARNING not in sent[-1], url
        sent.clear()


def test_a_report_in_covered_scripts_has_no_warning(client, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Zoë", b="Αλέξανδρος")
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}/progress-report")
    assert page.status_code == 200
    assert "Αλέξανδρος" in page.text
    assert WARNING not in page.text


def test_the_note_page_warns_beside_the_sign_button(client, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Ada", b="Noor")
    therapy = make.therapy_session(owner, couple)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    assert "cannot print" not in client.get(url).text
    note = {"section_data": "Noor said: สบายดี", "risk_level": "none", "action": "save"}
    page = post_form(client, url, note)
    assert page.status_code == 302
    text = client.get(url).text
    assert "The report's PDF cannot print 6 characters" in text
    assert text.index("cannot print") < text.index('value="sign"')


def test_arabic_hebrew_and_cjk_names_print_in_the_packaged_fallback_fonts(client, make):
    """Without the fallback fonts these printed as the .notdef box, which PDF/A forbids."""
    owner = make.therapist()
    couple = make.couple(owner, a="陈美玲", b="مريم")
    therapy = make.therapy_session(owner, couple)
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    preview = client.get(f"{base}/sessions/{therapy.id}/report").text
    assert "陈美玲" in preview
    assert WARNING not in preview
    rendered = render_pdf(
        "<p>陈美玲 Morgan, مريم Morgan, שרה כהן, 김민준, さくら</p><p><strong>陈美玲</strong></p>"
    )
    assert not [m for m in rendered.messages if "notdef" in m], rendered.messages
    text = pdf_text(rendered.pdf)
    for name in ("陈美玲", "김민준", "さくら"):
        assert name in text
    fonts = font_names(rendered.pdf)
    assert {"Inter", "Noto-Sans-CJK-SC"} <= fonts
    assert any("Arabic" in f for f in fonts)
    assert any("Hebrew" in f for f in fonts)
    session_pdf = client.get(f"{base}/sessions/{therapy.id}/report.pdf").data
    assert "陈美玲" in pdf_text(session_pdf)
