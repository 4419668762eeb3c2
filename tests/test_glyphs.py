"""Characters a report's PDF cannot print (reconnect_clinic/reports/glyphs.py): found in
the text a report prints, and named on every preview, never in the PDF itself."""

from __future__ import annotations

from reconnect_clinic.reports import service
from reconnect_clinic.reports.glyphs import unprintable_characters, unprintable_in_html
from tests.conftest import login, post_form

WARNING = "The PDF of this report cannot print"


def test_scripts_the_report_fonts_cover_print_and_others_are_named_once_in_order():
    covered = "Łukasz Zoë Brontë-Nguyễn Αλέξανδρος Жанна – “quoted” … € № → ≤ ½ °"
    assert unprintable_characters(covered) == ()
    text = "Mei 美玲 and 美 again, שלום, 😀\u200d\t\n"
    assert unprintable_characters(text) == ("美", "玲", "ש", "ל", "ו", "ם", "😀")


def test_only_the_text_a_page_prints_counts():
    html = (
        "<html><head><title>美</title><style>p::after{content:'玲'}</style></head>"
        "<body><p title='陈'>Ada &amp; &#x6C88;</p></body></html>"
    )
    assert unprintable_in_html(html) == ("沈",)


def test_previews_name_the_characters_and_the_pdfs_do_not(client, make, monkeypatch):
    owner = make.therapist()
    couple = make.couple(owner, a="Ada", b="美玲")
    therapy = make.therapy_session(owner, couple)
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    for url in (
        f"{base}/progress-report",
        f"{base}/intake-summary",
        f"{base}/sessions/{therapy.id}/report",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert WARNING in page.text and "美 玲" in page.text, url
    # What goes through the PDF door. (pypdf cannot read back the text of a PDF with a
    # missing glyph in it, though poppler's pdftotext can: so the HTML is checked.)
    sent: list[str] = []
    real = service.html_to_pdf

    def door(html: str, **kwargs: object) -> bytes:
        sent.append(html)
        return real(html, **kwargs)

    monkeypatch.setattr(service, "html_to_pdf", door)
    for url in (
        f"{base}/progress-report.pdf",
        f"{base}/intake-summary.pdf",
        f"{base}/sessions/{therapy.id}/report.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert sent and "美玲" in sent[-1] and WARNING not in sent[-1], url
        sent.clear()


def test_a_report_in_covered_scripts_has_no_warning(client, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Zoë", b="Αλέξανδρος")
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}/progress-report")
    assert page.status_code == 200 and "Αλέξανδρος" in page.text
    assert WARNING not in page.text


def test_the_note_page_warns_beside_the_sign_button(client, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Ada", b="Noor")
    therapy = make.therapy_session(owner, couple)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    assert "cannot print" not in client.get(url).text
    note = {"section_data": "Noor said: نحن بخير", "risk_level": "none", "action": "save"}
    page = post_form(client, url, note)
    assert page.status_code == 302
    text = client.get(url).text
    assert "The report's PDF cannot print 6 characters" in text
    assert text.index("cannot print") < text.index('value="sign"')
