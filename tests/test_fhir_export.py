"""The therapist's download of one partner's FHIR Bundle, and the Bundles in the records
export: a partner's private answers are in their own Bundle only, never the other's."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle

from reconnect_clinic.cases.lifecycle import FHIR_BUNDLE, private_folder
from reconnect_clinic.fhir import codes
from reconnect_clinic.measures.operations import instrument_version
from reconnect_clinic.models import AuditEvent, MeasureResult
from reconnect_clinic.state import db_session, get_state
from tests.helpers import PartnerBrowser, login

A_SAFETY_NOTE = "Kestrel-A-safety-note-4417"
B_SAFETY_NOTE = "Kestrel-B-safety-note-8823"
A_HOPES = "Kestrel-A-hopes-3301"


def _url(couple: Any, role: str) -> str:
    return f"/clinic/couples/{couple.id}/partners/{role}/fhir.json"


@pytest.fixture
def case(app: Any, make: Any) -> tuple[Any, Any]:
    owner = make.therapist()
    couple = make.couple(owner, label="Rivera–Chen")
    a_answers = make.intake_answers(frequency="4", safety="yes", measure_pick="last")
    a_answers["safety"]["safety_note"] = A_SAFETY_NOTE
    a_answers["about"]["hopes"] = A_HOPES
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(a_answers)
    b_answers = make.intake_answers(frequency="1")
    b_answers["safety"]["safety_note"] = B_SAFETY_NOTE
    PartnerBrowser(app, make.intake_link(owner, couple.partner_b)).fill(b_answers)
    return owner, couple


def _bundle(client: Any, couple: Any, role: str) -> dict[str, Any]:
    response = client.get(_url(couple, role))
    assert response.status_code == 200, response.text[:500]
    return json.loads(response.data)


def _ids_of(bundle: dict[str, Any]) -> set[str]:
    return {entry["resource"]["id"] for entry in bundle["entry"]}


def test_the_download_is_a_valid_fhir_bundle_that_is_never_stored(client, case):
    owner, couple = case
    login(client, owner.email)
    response = client.get(_url(couple, "a"))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Cache-Control"] == "no-store"
    day = date.today().isoformat()  # noqa: DTZ011
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=rivera-chen_{day}_partner-a-fhir.json"
    )
    bundle = Bundle.model_validate_json(response.data)
    assert bundle.type == "collection"
    kinds = sorted({entry.resource.get_resource_type() for entry in bundle.entry})
    assert kinds == ["Observation", "Patient", "Questionnaire", "QuestionnaireResponse"]


def test_the_bundle_holds_the_intake_and_each_measure_administered(client, case):
    owner, couple = case
    login(client, owner.email)
    bundle = _bundle(client, couple, "a")
    responses = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    questionnaires = sorted(r["questionnaire"].split("|")[0] for r in responses)
    assert questionnaires == sorted(
        codes.questionnaire_url(slug) for slug in ("intake", "csi16", "phq9", "gad7")
    )
    observations = [
        entry["resource"]["code"]["coding"][0]["code"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Observation"
    ]
    assert sorted(observations) == sorted(["csi16-total", "44261-6", "70274-6"])
    (patient,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert patient["id"] == str(couple.partner_a.id)


def test_private_answers_are_only_in_the_partners_own_bundle(client, case):
    owner, couple = case
    login(client, owner.email)
    a_text = json.dumps(_bundle(client, couple, "a"))
    b_bundle = _bundle(client, couple, "b")
    b_text = json.dumps(b_bundle)
    assert A_SAFETY_NOTE in a_text
    assert B_SAFETY_NOTE in b_text
    assert A_SAFETY_NOTE not in b_text
    assert B_SAFETY_NOTE not in a_text
    assert A_HOPES not in b_text
    assert str(couple.partner_a.id) not in b_text
    # Every answer in B's Bundle is B's: each subject is B's Patient.
    subjects = {
        entry["resource"]["subject"]["reference"]
        for entry in b_bundle["entry"]
        if "subject" in entry["resource"]
    }
    assert subjects == {f"urn:uuid:{couple.partner_b.id}"}


def test_a_partner_with_nothing_answered_gets_a_near_empty_bundle(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    bundle = _bundle(client, couple, "b")
    Bundle.model_validate(bundle)
    assert [entry["resource"]["resourceType"] for entry in bundle["entry"]] == ["Patient"]


def test_the_download_is_audited(client, case):
    owner, couple = case
    login(client, owner.email)
    _bundle(client, couple, "b")
    event = (
        db_session()
        .scalars(sa.select(AuditEvent).where(AuditEvent.action == "partner.fhir_export"))
        .one()
    )
    assert event.record_id == str(couple.partner_b.id)
    assert event.couple_id == couple.id
    assert event.detail["for"] == "b"


def test_another_therapists_case_is_404(client, make, case):
    _, couple = case
    login(client, make.therapist().email)
    assert client.get(_url(couple, "a")).status_code == 404


def test_an_unknown_role_is_404(client, case):
    owner, couple = case
    login(client, owner.email)
    assert client.get(_url(couple, "c")).status_code == 404


def test_the_couple_page_links_each_partners_bundle(client, case):
    owner, couple = case
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}")
    assert page.status_code == 200
    for role in ("a", "b"):
        assert f'href="{_url(couple, role)}"' in page.text


def _zip(client: Any, couple: Any, suffix: str = "") -> dict[str, bytes]:
    response = client.get(f"/clinic/couples/{couple.id}/export.zip{suffix}")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_couples_export_holds_each_bundle_in_its_partners_private_folder(client, case):
    owner, couple = case
    login(client, owner.email)
    files = _zip(client, couple)
    bundles = sorted(name for name in files if name.endswith(FHIR_BUNDLE))
    assert bundles == [f"{private_folder(role)}/{FHIR_BUNDLE}" for role in ("a", "b")]
    a_bundle = json.loads(files[f"{private_folder('a')}/{FHIR_BUNDLE}"])
    b_bundle = json.loads(files[f"{private_folder('b')}/{FHIR_BUNDLE}"])
    Bundle.model_validate(a_bundle)
    Bundle.model_validate(b_bundle)
    assert A_SAFETY_NOTE in json.dumps(a_bundle)
    assert A_SAFETY_NOTE not in json.dumps(b_bundle)
    # The same records as the download (a Bundle's own id and time are the export's).
    assert _ids_of(a_bundle) == _ids_of(_bundle(client, couple, "a"))


def test_a_partners_export_holds_only_their_own_bundle(client, case):
    owner, couple = case
    login(client, owner.email)
    files = _zip(client, couple, "?for=a")
    bundles = [name for name in files if name.endswith(FHIR_BUNDLE)]
    assert bundles == [f"{private_folder('a')}/{FHIR_BUNDLE}"]
    everything = b"".join(files.values())
    assert B_SAFETY_NOTE.encode() not in everything
    assert A_SAFETY_NOTE.encode() in files[bundles[0]]


def _by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_each_measure_response_names_the_version_it_was_asked_in(client, case):
    owner, couple = case
    login(client, owner.email)
    # The intake's measures keep the version they were asked in, as later ones do.
    results = db_session().scalars(
        sa.select(MeasureResult).where(MeasureResult.partner_id == couple.partner_a.id)
    )
    assert {r.instrument: r.instrument_version for r in results} == {
        slug: instrument_version(slug) for slug in ("csi16", "phq9", "gad7")
    }
    bundle = _bundle(client, couple, "a")
    held = {f"{q['url']}|{q['version']}" for q in _by_type(bundle, "Questionnaire")}
    for response in _by_type(bundle, "QuestionnaireResponse"):
        assert response["questionnaire"] in held  # today's version of each, in the Bundle
    asked = sorted(r["questionnaire"] for r in _by_type(bundle, "QuestionnaireResponse"))
    assert asked == sorted(
        f"{codes.questionnaire_url(slug)}|{version}"
        for slug, version in (
            ("intake", get_state().taxonomy.version),
            *((slug, instrument_version(slug)) for slug in ("csi16", "phq9", "gad7")),
        )
    )


def test_a_result_asked_in_an_earlier_wording_points_at_that_version(client, case):
    owner, couple = case
    login(client, owner.email)
    phq9 = db_session().scalar(
        sa.select(MeasureResult).where(
            MeasureResult.partner_id == couple.partner_a.id, MeasureResult.instrument == "phq9"
        )
    )
    phq9.instrument_version = "phq9:0123456789ab"  # as if the wording changed since
    db_session().commit()
    bundle = _bundle(client, couple, "a")
    (response,) = [
        r
        for r in _by_type(bundle, "QuestionnaireResponse")
        if r["questionnaire"].startswith(codes.questionnaire_url("phq9"))
    ]
    assert response["questionnaire"] == f"{codes.questionnaire_url('phq9')}|phq9:0123456789ab"
    assert "text" not in response["item"][0]  # today's wording is not what was shown
    (questionnaire,) = [
        q for q in _by_type(bundle, "Questionnaire") if q["url"] == codes.questionnaire_url("phq9")
    ]
    assert questionnaire["version"] == instrument_version("phq9")
    model = Bundle.model_validate(bundle)
    assert json.loads(model.model_dump_json(exclude_none=True)) == bundle
