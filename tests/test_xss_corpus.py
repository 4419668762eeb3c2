"""A corpus of cross-site-scripting payloads, stored in every free-text field, comes back
escaped on every page that shows it and as plain text in every PDF."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import HomeworkAssignment
from reconnect_clinic.notes.operations import add_addendum
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, link_ref_from, login, pdf_text

CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "<iframe src=javascript:alert(1)>",
    "'-alert(1)-'",
    "</textarea><script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "{{7*7}}${7*7}<%= 7*7 %>",
    "<style>@import 'http://127.0.0.1:9/x.css';</style>",
]
# What must never appear raw in a page: the executable part of each payload.
DANGEROUS = [
    "<script>",
    "<img src=x",
    "<svg/onload",
    "<iframe",
    '<a href="javascript:',
    "</textarea><script>",
    "<style>@import",
]


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_everywhere(client, make, app, payload):
    owner = make.therapist()
    couple = make.couple(owner, label=payload[:200], a=payload[:90], b="Blake")
    intake = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers(text=payload, safety="yes")
    answers["safety"]["safety_note"] = payload
    answers["consent"]["signature"] = payload[:200]
    intake.fill(answers)
    # The safety answers hold joint work back: the override's reason carries the payload
    # too (the couple's page shows it).
    assignment = make.assignment(owner, couple, override_reason=payload)
    assignment = db_session().get(HomeworkAssignment, assignment.id)
    assignment.therapist_note = payload
    db_session().commit()
    homework = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = homework.get().text
    key = page.split('name="client_key" type="hidden" value="')[1].split('"')[0]
    homework.client.post(
        f"{homework.base}/{assignment.id}/check-in",
        data={
            "completion": "done",
            "reflection": payload,
            "share_with_partner": "y",
            "link_ref": link_ref_from(page),
            "client_key": key,
        },
    )
    therapy = make.therapy_session(owner, couple)
    note = make.signed_note(owner, therapy, data=payload)
    add_addendum(note, owner, payload)
    db_session().commit()

    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    pages = [
        client.get("/clinic/").text,
        client.get(base).text,
        client.get(f"{base}/partners/a/intake").text,
        client.get(f"{base}/sessions/{therapy.id}").text,
        client.get(f"{base}/sessions/{therapy.id}/report").text,
        client.get(f"{base}/progress-report").text,
        client.get(f"{base}/intake-summary").text,
        client.get("/clinic/homework").text,
        intake.get("done").text,
        homework.get().text,
    ]
    for html in pages:
        for dangerous in DANGEROUS:
            if dangerous in payload:
                assert dangerous not in html
    session_pdf = pdf_text(client.get(f"{base}/sessions/{therapy.id}/report.pdf").data)
    summary_pdf = pdf_text(client.get(f"{base}/intake-summary.pdf").data)
    handout_pdf = pdf_text(client.get(f"{base}/homework/{assignment.id}/handout.pdf").data)
    flat = " ".join(session_pdf.split())
    # The payload prints as the text it is (PDF text extraction may wrap lines).
    assert " ".join(payload.split())[:25] in flat
    assert " ".join(payload.split())[:15] in " ".join(summary_pdf.split())
    assert " ".join(payload.split())[:15] in " ".join(handout_pdf.split())
    assert db_session().scalar(sa.select(sa.func.count()).select_from(HomeworkAssignment)) == 1
