"""Records for two people: the couple's export keeps each partner's private part apart,
once, marked; a partner's export holds nothing private of the other partner (every file
of the zip is searched, PDFs through their extracted text, for markers typed into the
other partner's private fields)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from reconnect_clinic.cases.lifecycle import split_record
from reconnect_clinic.homework.operations import CheckInDetails, record_check_in
from reconnect_clinic.intake.content import page_spec
from reconnect_clinic.intake.summary import FLAG_TEXT
from reconnect_clinic.models import AuditEvent, IntakeResponse, RiskDisclosure
from reconnect_clinic.notes.operations import save_note, sign_note
from reconnect_clinic.risk import RiskKind, RiskStatus
from reconnect_clinic.risk.operations import AssessmentDetails, assess
from reconnect_clinic.state import db_session, get_state
from tests.helpers import PartnerBrowser, login, pdf_text

# Typed into partner A's private fields (or written by the therapist from them).
A_PRIVATE = {
    "safety note": "Ocelot-A-safety-note-7781",
    "private reflection": "Ocelot-A-private-reflection-3310",
    "risk plan": "Ocelot-A-risk-plan-4420",
}
DERIVED = {
    "override reason": "Ocelot-override-reason-5150",
    "note risk section": "Ocelot-note-risk-notes-6060",
}
# Joint: in every export (they show the search reads the files it is given).
JOINT = {
    "A's hopes": "Ocelot-A-hopes-1001",
    "A's shared reflection": "Ocelot-A-shared-reflection-2002",
    "session data": "Ocelot-session-data-3003",
}
B_PRIVATE = {"safety note": "Ocelot-B-safety-note-9090"}
FLAG_NAMES = ("safety_concern", "safety_discuss", "self_harm_risk")
# Each partner's answers as FHIR, in their own private folder (fhir/, cases/lifecycle.py).
A_BUNDLE = "private-to-partner-a/fhir-bundle.json"
B_BUNDLE = "private-to-partner-b/fhir-bundle.json"


def _intake(app: Any, make: Any, owner: Any, partner: Any, **kwargs: Any) -> dict:
    answers = make.intake_answers(frequency="4", **kwargs)
    PartnerBrowser(app, make.intake_link(owner, partner)).fill(answers)
    return answers


def _case(app: Any, make: Any) -> tuple[Any, Any]:
    owner = make.therapist()
    couple = make.couple(owner)
    a_answers = make.intake_answers(frequency="4", safety="yes", measure_pick="last")
    a_answers["about"]["hopes"] = JOINT["A's hopes"]
    a_answers["safety"]["safety_note"] = A_PRIVATE["safety note"]
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(a_answers)
    b_answers = make.intake_answers(frequency="2")
    b_answers["safety"]["safety_note"] = B_PRIVATE["safety note"]
    PartnerBrowser(app, make.intake_link(owner, couple.partner_b)).fill(b_answers)

    notes = make.assignment(owner, couple, exercise="three_feeling_notes", days=3)
    for day, (text, shared) in enumerate(
        ((A_PRIVATE["private reflection"], False), (JOINT["A's shared reflection"], True))
    ):
        record_check_in(
            notes,
            couple.partner_a,
            CheckInDetails(f"key-{day}", "done", 4, text, shared),
            today=notes.starts_on + timedelta(days=day),
            actor=None,
        )
    make.assignment(owner, couple, override_reason=DERIVED["override reason"])
    assess(
        couple.partner_a,
        owner,
        AssessmentDetails(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, plan=A_PRIVATE["risk plan"]),
    )
    note = save_note(
        make.therapy_session(owner, couple),
        owner,
        template="dap",
        content={
            "sections": {"data": JOINT["session data"], "assessment": "x", "plan": "y"},
            "interventions": [],
            "homework_reviewed": [],
            "homework_assigned": [],
            "risk": {"level": "moderate", "notes": DERIVED["note risk section"]},
        },
        based_on_version=None,
    )
    sign_note(note, owner, based_on_version=note.version)
    db_session().commit()
    return owner, couple


def _files(data: bytes) -> dict[str, str]:
    """Every file of the zip as text (a PDF as the text a reader sees)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {
        name: pdf_text(archive.read(name))
        if name.endswith(".pdf")
        else archive.read(name).decode("utf-8")
        for name in archive.namelist()
    }


def _images(pdf: bytes) -> int:
    """How many distinct images (the charts) ``pdf`` holds."""
    from pypdf import PdfReader

    # Distinct images: pages of one PDF may share one resource dictionary, and each page
    # then lists every image in it.
    return len({image.name for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images})


def _where(files: dict[str, str], text: str) -> dict[str, int]:
    return {name: body.count(text) for name, body in files.items() if text in body}


@pytest.fixture
def exported(client: Any, make: Any, app: Any) -> dict[str, Any]:
    owner, couple = _case(app, make)
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}/export.zip"
    audiences = (("couple", ""), ("a", "?for=a"), ("b", "?for=b"))
    responses = {who: client.get(base + suffix) for who, suffix in audiences}
    for response in responses.values():
        assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(responses["b"].data))
    own = client.get(f"/clinic/couples/{couple.id}/progress-report.pdf")
    assert own.status_code == 200
    return {
        "couple": couple,
        "charts": {
            "therapist's own": _images(own.data),
            "export": _images(archive.read("reports/progress-report.pdf")),
        },
        "files": {who: _files(response.data) for who, response in responses.items()},
        "disposition": {who: r.headers["Content-Disposition"] for who, r in responses.items()},
    }


def test_partner_bs_export_holds_nothing_private_of_partner_a(exported):
    files = exported["files"]["b"]
    for what, marker in {**A_PRIVATE, **DERIVED}.items():
        assert _where(files, marker) == {}, what
    for flag in FLAG_NAMES:
        assert _where(files, flag) == {}, flag
    for text in FLAG_TEXT.values():
        assert _where(files, text) == {}, text
    # B's own FHIR Bundle names the instruments and asks the safety questions (B's own
    # answers, tests/test_fhir_export.py): the wording is looked for everywhere else.
    others = {name: body for name, body in files.items() if name != B_BUNDLE}
    for name in ("PHQ-9", "GAD-7"):  # nor A's wellbeing totals in any report
        assert _where(others, name) == {}, name
    # A's safety questions (their wording, in a PDF) and wellbeing answers appear nowhere.
    safety = page_spec(get_state().taxonomy, "safety")
    for question in safety.questions:
        assert _where(others, question.label) == {}, question.name
    record = json.loads(files["record.json"])
    a_id = exported["couple"].partner_a.id
    for response in record["intake"]:
        assert "safety" not in response["pages"]
        assert "wellbeing" not in response["pages"]
        assert "flags" not in (response["scores"] if response["scores"] is not None else {})
    assert {m["instrument"] for m in record["measures"]} == {"csi16"}
    assert "risk" not in record
    assert all(not e["action"].startswith("risk.") for e in record["audit"])
    a_disclosures = (
        db_session()
        .scalars(sa.select(RiskDisclosure.id).where(RiskDisclosure.partner_id == a_id))
        .all()
    )
    assert a_disclosures
    a_intake = (
        db_session()
        .scalars(sa.select(IntakeResponse.id).where(IntakeResponse.partner_id == a_id))
        .one()
    )
    for key in (*a_disclosures, a_intake):
        assert all(str(key) not in str(e["record_id"]) for e in record["audit"])
    for disclosure_id in a_disclosures:
        assert _where(files, str(disclosure_id)) == {}
    assert not any(name.startswith("private-to-partner-a") for name in files)
    assert not any(name.startswith("reports/session-") for name in files)


def test_partner_bs_export_keeps_the_joint_record_and_bs_own_private_part(exported):
    files = exported["files"]["b"]
    for what, marker in JOINT.items():
        if what != "session data":
            assert _where(files, marker), what
    assert _where(files, JOINT["session data"]) == {"record.json": 1}
    assert _where(files, B_PRIVATE["safety note"]) == {
        "private-to-partner-b/private-record.json": 1,
        B_BUNDLE: 1,
    }
    private = json.loads(files["private-to-partner-b/private-record.json"])
    assert private["notice"].startswith("PRIVATE to ")
    assert private["private_to"]["role"] == "b"
    assert "partner-b" in exported["disposition"]["b"]


def test_partner_as_export_mirrors_it(exported):
    files = exported["files"]["a"]
    assert _where(files, B_PRIVATE["safety note"]) == {}
    assert _where(files, A_PRIVATE["safety note"]) == {
        "private-to-partner-a/private-record.json": 1,
        A_BUNDLE: 1,
    }
    assert _where(files, A_PRIVATE["private reflection"]) == {
        "private-to-partner-a/private-record.json": 1
    }


def test_the_couple_export_holds_each_private_part_once_and_marked(exported):
    files = exported["files"]["couple"]
    mine = "private-to-partner-a/private-record.json"
    for what, marker in A_PRIVATE.items():
        # The safety note is an answer, so it is in A's FHIR Bundle too, beside it.
        held = {mine: 1, A_BUNDLE: 1} if what == "safety note" else {mine: 1}
        assert _where(files, marker) == held, what
    assert _where(files, B_PRIVATE["safety note"]) == {
        "private-to-partner-b/private-record.json": 1,
        B_BUNDLE: 1,
    }
    readme = files["private-to-partner-a/README.txt"]
    assert readme.startswith("PRIVATE to Alex")
    private = json.loads(files[mine])
    assert private["notice"] == readme.strip()
    assert {m["instrument"] for m in private["measures"]} == {"phq9", "gad7"}
    assert private["intake"][0]["flags"]
    # The joint PDFs print no private section (it would be a second copy), nor the
    # wellbeing measures: not in the intake summary's table, nor as the progress
    # report's PHQ-9 and GAD-7 charts (images: one chart of the therapist's three).
    intake_pdf = files["reports/intake-summary.pdf"]
    assert "Private to" not in intake_pdf
    assert "PHQ-9" not in intake_pdf
    assert "GAD-7" not in intake_pdf
    assert exported["charts"]["export"] * 3 == exported["charts"]["therapist's own"]
    # The therapist's own record stays whole in the couple's export.
    assert _where(files, DERIVED["override reason"]) == {"record.json": 1}
    assert any(name.startswith("reports/session-") for name in files)
    assert "case-record.zip" in exported["disposition"]["couple"]


def test_an_unknown_audience_is_404_and_the_export_is_audited(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    assert client.get(f"/clinic/couples/{couple.id}/export.zip?for=c").status_code == 404
    assert client.get(f"/clinic/couples/{couple.id}/export.zip?for=b").status_code == 200
    event = (
        db_session()
        .scalars(sa.select(AuditEvent).where(AuditEvent.action == "couple.export"))
        .one()
    )
    assert event.detail["for"] == "b"


def test_split_record_moves_only_the_private_items():
    record = {
        "partners": [{"id": "pa", "role": "a", "first_name": "A"}],
        "intake": [
            {
                "id": "r1",
                "partner_id": "pa",
                "pages": {"about": {"hopes": "h"}, "safety": {"safety_note": "n"}},
                "scores": {"flags": ["safety_concern"], "measures": {"csi16": {}, "phq9": {}}},
            }
        ],
        "measures": [{"partner_id": "pa", "instrument": "gad7"}],
        "homework": [
            {
                "id": "h1",
                "title": "t",
                "check_ins": [
                    {
                        "id": "c1",
                        "partner_id": "pa",
                        "checked_in_on": "d",
                        "reflection": "r",
                        "share_with_partner": False,
                    },
                    {
                        "id": "c2",
                        "partner_id": "pa",
                        "checked_in_on": "d",
                        "reflection": "s",
                        "share_with_partner": True,
                    },
                ],
            }
        ],
        "risk": [{"partner_id": "pa", "kind": "safety"}],
        "sessions": [],
        "audit": [],
    }
    parts = split_record(record)
    assert parts.joint["intake"][0]["pages"] == {"about": {"hopes": "h"}}
    assert parts.joint["intake"][0]["scores"] == {"measures": {"csi16": {}}}
    assert parts.joint["measures"] == []
    assert [c["reflection"] for c in parts.joint["homework"][0]["check_ins"]] == [None, "s"]
    assert "risk" not in parts.joint
    private = parts.private["a"]
    assert private["intake"][0]["pages"] == {"safety": {"safety_note": "n"}}
    assert private["intake"][0]["flags"] == ["safety_concern"]
    assert [r["reflection"] for r in private["reflections"]] == ["r"]
    assert record["intake"][0]["pages"]["safety"]  # the record given is left as it was
