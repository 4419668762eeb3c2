"""The intake summary keeps each partner's private answers in a section of their own,
once, marked private to that partner, and prints without them when asked."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from reconnect_clinic.intake.content import page_spec
from reconnect_clinic.taxonomy import load
from tests.helpers import PartnerBrowser, login, pdf_text

NOTE = "Please ring the office, not my mobile."
SAFETY = page_spec(load(), "safety")


@pytest.fixture
def flagged(app, make, client):
    """Partner A answered one safety question "yes", another "talk in person", wrote a
    note and answered item 9 "nearly every day", all submitted; partner B disclosed
    nothing. The therapist is signed in."""
    owner = make.therapist()
    couple = make.couple(owner)
    answers = make.intake_answers(measure_pick="last")
    answers["safety"].update(safety_afraid="yes", safety_hurt="discuss", safety_note=NOTE)
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(answers)
    PartnerBrowser(app, make.intake_link(owner, couple.partner_b)).fill(make.intake_answers())
    login(client, owner.email)
    return couple


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Type"] == "application/pdf"
    return " ".join(pdf_text(response.data).split())


def test_the_private_section_prints_once_and_marked(client, flagged):
    text = _text(client, f"/clinic/couples/{flagged.id}/intake-summary.pdf")
    assert text.count("Private to Alex Morgan (partner A)") == 1
    assert text.count(NOTE) == 1
    assert text.count(SAFETY.question("safety_afraid").label) == 1
    assert text.count(SAFETY.question("safety_hurt").label) == 1
    assert "never goes to Blake" in text
    assert "Private to Blake" not in text


def test_the_private_section_starts_a_page_of_its_own(client, flagged):
    response = client.get(f"/clinic/couples/{flagged.id}/intake-summary.pdf")
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(response.data)).pages]
    (private,) = [p for p in pages if "Private to Alex Morgan" in p]
    assert "Signs and causes" not in private
    assert "Measures" not in private


def test_printed_without_the_private_sections(client, flagged):
    text = _text(client, f"/clinic/couples/{flagged.id}/intake-summary.pdf?private=no")
    assert "Private to" not in text
    assert NOTE not in text
    assert SAFETY.question("safety_afraid").label not in text
    assert "Thoughts of self-harm" not in text
    assert "leaves out each partner's private safety and wellbeing answers" in text
    assert "Signs and causes" in text  # the rest is there


def test_the_preview_follows_the_same_choice(client, flagged):
    with_private = client.get(f"/clinic/couples/{flagged.id}/intake-summary").text
    without = client.get(f"/clinic/couples/{flagged.id}/intake-summary?private=no").text
    assert with_private.count(NOTE) == 1
    assert NOTE not in without
    assert "Private to" not in without


def test_without_private_sections_says_nothing_of_who_had_one(client, app, make):
    """The copy without private sections reads the same whether anyone disclosed."""
    owner = make.therapist()
    quiet = make.couple(owner, label="Quiet", a="Ana", b="Ben")
    for partner in quiet.partners:
        PartnerBrowser(app, make.intake_link(owner, partner)).fill(make.intake_answers())
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{quiet.id}/intake-summary?private=no").text
    assert "leaves out each partner's private safety and wellbeing answers" in page


def test_the_couple_page_offers_both_prints(client, flagged):
    page = client.get(f"/clinic/couples/{flagged.id}").text
    assert f"/clinic/couples/{flagged.id}/intake-summary.pdf?private=no" in page
    assert "PDF without the private sections" in page
