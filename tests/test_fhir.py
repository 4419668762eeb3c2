"""The FHIR builders on plain data: every resource validates with the FHIR models, the
Bundle round-trips, PHQ-9 and GAD-7 follow the LOINC codes and the structure of HL7's
PHQ-9 example, and a partner with nothing answered gets a valid, near-empty Bundle.

Validated with ``fhir.resources``' R4B models: the library's R4 (4.0.1) models exist only
in its unmaintained pydantic-1 line, and Questionnaire, QuestionnaireResponse,
Observation, Patient and Bundle are the same in R4B as in R4 (R4B changed medication,
evidence and subscription resources).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from reconnect_clinic import measures
from reconnect_clinic.fhir import builders, codes
from reconnect_clinic.fhir.builders import (
    IntakeFacts,
    MeasureFacts,
    PartnerFacts,
    PartnerRecord,
    partner_bundle,
)
from reconnect_clinic.intake.content import pages_for
from reconnect_clinic.measures.operations import instrument_version
from reconnect_clinic.taxonomy import load
from tests import factories

WHEN = datetime(2026, 11, 30, 17, 45, 12, 345678, tzinfo=UTC)
SAFETY_NOTE = "Heron-private-safety-note-5521"
HOPES = "Heron-hopes-1187"
PHQ9_LOINC_ITEMS = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
)
GAD7_LOINC_ITEMS = ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
PHQ_ANSWER_CODES = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")


def _result(slug: str, points: list[int], *, days_later: int = 0) -> MeasureFacts:
    scored = measures.score(slug, points)
    return MeasureFacts(
        id=uuid.uuid4(),
        instrument=slug,
        total=scored.total,
        band=scored.band,
        item_points=tuple(points),
        administered_at=WHEN + timedelta(days=days_later),
    )


def _record(*, intake: bool = True, results: tuple[MeasureFacts, ...] = ()) -> PartnerRecord:
    taxonomy = load()
    answers = factories.intake_answers(frequency="3", safety="yes", measure_pick="last")
    answers["safety"]["safety_note"] = SAFETY_NOTE
    answers["about"]["hopes"] = HOPES
    intakes = (
        (
            IntakeFacts(
                id=uuid.uuid4(),
                submitted=True,
                authored=WHEN,
                taxonomy_version=taxonomy.version,
                pages=answers,
            ),
        )
        if intake
        else ()
    )
    return PartnerRecord(
        partner=PartnerFacts(id=uuid.uuid4(), role="a", first_name="Ana", last_name="Rivera"),
        intake_pages=pages_for(taxonomy, consent_first=False),
        intake_version=taxonomy.version,
        intakes=intakes,
        measures=results,
    )


PHQ9_POINTS = [3, 2, 1, 0, 3, 2, 1, 0, 1]


@pytest.fixture
def full() -> dict[str, Any]:
    results = (
        _result("csi16", [item.max_points for item in measures.get("csi16").items]),
        _result("phq9", PHQ9_POINTS),
        _result("gad7", [1] * 7),
        _result("csi4", [item.min_points for item in measures.get("csi4").items], days_later=14),
        _result("phq9", [0] * 9, days_later=28),  # a later administration
    )
    return partner_bundle(_record(results=results), generated_at=WHEN)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _questionnaire(bundle: dict[str, Any], slug: str) -> dict[str, Any]:
    (found,) = [
        q for q in _resources(bundle, "Questionnaire") if q["url"] == codes.questionnaire_url(slug)
    ]
    return found


def _responses(bundle: dict[str, Any], slug: str) -> list[dict[str, Any]]:
    url = codes.questionnaire_url(slug)
    return [
        r
        for r in _resources(bundle, "QuestionnaireResponse")
        if r["questionnaire"].split("|")[0] == url
    ]


def test_every_resource_validates(full):
    kinds = [entry["resource"]["resourceType"] for entry in full["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("Questionnaire") == 5  # intake, CSI-16, PHQ-9, GAD-7, CSI-4
    assert kinds.count("QuestionnaireResponse") == 6  # the intake and five administrations
    assert kinds.count("Observation") == 5
    for entry in full["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.id == resource["id"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    Bundle.model_validate(full)


def test_the_bundle_round_trips(full):
    text = builders.bundle_json(full)
    model = Bundle.model_validate_json(text)
    assert json.loads(model.model_dump_json(exclude_none=True)) == json.loads(text)


def test_the_bundle_is_a_restricted_collection(full):
    assert full["type"] == "collection"
    assert full["timestamp"] == "2026-11-30T17:45:12Z"
    (label,) = full["meta"]["security"]
    assert (label["system"], label["code"]) == (codes.CONFIDENTIALITY, "R")


def test_every_reference_resolves_inside_the_bundle(full):
    urls = {entry["fullUrl"] for entry in full["entry"]}
    (patient,) = _resources(full, "Patient")
    for resource in _resources(full, "QuestionnaireResponse") + _resources(full, "Observation"):
        assert resource["subject"] == {"reference": f"urn:uuid:{patient['id']}"}
    for observation in _resources(full, "Observation"):
        assert observation["derivedFrom"][0]["reference"] in urls


def test_phq9_follows_the_hl7_example(full):
    questionnaire = _questionnaire(full, "phq9")
    assert questionnaire["code"][0]["system"] == codes.LOINC
    assert questionnaire["code"][0]["code"] == "44249-1"
    items = questionnaire["item"]
    assert [item["linkId"] for item in items] == [f"/{c}" for c in PHQ9_LOINC_ITEMS] + ["/44261-6"]
    assert [item["code"][0]["code"] for item in items[:9]] == list(PHQ9_LOINC_ITEMS)
    for item in items[:9]:
        assert item["type"] == "choice"
        options = [option["valueCoding"] for option in item["answerOption"]]
        assert [o["code"] for o in options] == list(PHQ_ANSWER_CODES)
        assert {o["system"] for o in options} == {codes.LOINC}
        assert [o["extension"][0]["valueDecimal"] for o in options] == [0, 1, 2, 3]
    assert items[9]["type"] == "decimal"

    first, later = sorted(_responses(full, "phq9"), key=lambda r: r["authored"])
    assert first["status"] == "completed"
    answered = first["item"]
    assert [item["linkId"] for item in answered] == [i["linkId"] for i in items]
    for item, points in zip(answered[:9], PHQ9_POINTS, strict=True):
        (answer,) = item["answer"]
        coding = answer["valueCoding"]
        assert coding["system"] == codes.LOINC
        assert coding["code"] == PHQ_ANSWER_CODES[points]
        assert coding["extension"] == [{"url": codes.ORDINAL_VALUE, "valueDecimal": points}]
    assert answered[9]["answer"] == [{"valueDecimal": sum(PHQ9_POINTS)}]
    assert later["item"][9]["answer"] == [{"valueDecimal": 0}]


def test_totals_are_observations_with_loinc_codes_where_loinc_has_them(full):
    by_code = {}
    for observation in _resources(full, "Observation"):
        coding = observation["code"]["coding"][0]
        by_code.setdefault((coding["system"], coding["code"]), []).append(observation)
    phq9 = sorted(by_code[codes.LOINC, "44261-6"], key=lambda o: o["effectiveDateTime"])
    assert [o["valueQuantity"]["value"] for o in phq9] == [sum(PHQ9_POINTS), 0]
    assert phq9[0]["valueQuantity"]["code"] == "{score}"
    assert phq9[0]["category"][0]["coding"][0]["code"] == "survey"
    (gad7,) = by_code[codes.LOINC, "70274-6"]
    assert gad7["valueQuantity"]["value"] == 7
    assert gad7["interpretation"] == [{"text": measures.score("gad7", [1] * 7).band}]
    assert (codes.MEASURE_ITEMS, "csi16-total") in by_code
    assert (codes.MEASURE_ITEMS, "csi4-total") in by_code


def test_gad7_uses_its_loinc_panel_and_items(full):
    questionnaire = _questionnaire(full, "gad7")
    assert questionnaire["code"][0]["code"] == "69737-5"
    codes_in_order = [item["code"][0]["code"] for item in questionnaire["item"]]
    assert codes_in_order == [*GAD7_LOINC_ITEMS, "70274-6"]


def test_the_csi_uses_the_clinics_own_codes(full):
    for slug in ("csi16", "csi4"):
        questionnaire = _questionnaire(full, slug)
        assert questionnaire["code"][0] == {
            "system": codes.MEASURES,
            "code": slug,
            "display": measures.get(slug).title,
        }
        systems = {item["code"][0]["system"] for item in questionnaire["item"]}
        assert systems == {codes.MEASURE_ITEMS}
    (csi4,) = _responses(full, "csi4")
    assert len(csi4["item"]) == 5  # four items and the total


def test_the_intake_has_its_pages_without_the_measures_items(full):
    questionnaire = _questionnaire(full, "intake")
    groups = [group["linkId"] for group in questionnaire["item"]]
    assert groups == ["about", "signs", "background", "safety", "consent"]
    (response,) = _responses(full, "intake")
    answered = {group["linkId"]: group for group in response["item"]}
    assert set(answered) == set(groups)
    about = {item["linkId"]: item["answer"] for item in answered["about"]["item"]}
    assert about["hopes"] == [{"valueString": HOPES}]
    safety = {item["linkId"]: item["answer"] for item in answered["safety"]["item"]}
    assert safety["safety_note"] == [{"valueString": SAFETY_NOTE}]
    assert safety["safety_afraid"][0]["valueCoding"]["code"] == "yes"
    assert safety["safety_afraid"][0]["valueCoding"]["system"] == codes.intake_answers_system(
        "safety"
    )
    consent = {item["linkId"]: item["answer"] for item in answered["consent"]["item"]}
    assert consent["agree"] == [{"valueBoolean": True}]
    text = json.dumps(response)
    assert "csi16_1" not in text
    assert "phq9_9" not in text


def test_a_draft_intake_is_in_progress():
    record = _record()
    (intake,) = record.intakes
    draft = IntakeFacts(
        id=intake.id,
        submitted=False,
        authored=WHEN,
        taxonomy_version=intake.taxonomy_version,
        pages={"about": {"hopes": HOPES}},
    )
    bundle = partner_bundle(
        PartnerRecord(record.partner, record.intake_pages, record.intake_version, (draft,)),
        generated_at=WHEN,
    )
    (response,) = _responses(bundle, "intake")
    assert response["status"] == "in-progress"
    Bundle.model_validate(bundle)


def test_a_partner_with_nothing_answered_gets_a_valid_near_empty_bundle():
    record = _record(intake=False)
    bundle = partner_bundle(record, generated_at=WHEN)
    Bundle.model_validate(bundle)
    assert [entry["resource"]["resourceType"] for entry in bundle["entry"]] == ["Patient"]
    # An intake opened but left blank is nothing answered too.
    blank = IntakeFacts(uuid.uuid4(), False, WHEN, record.intake_version, {"about": {}})
    empty = partner_bundle(
        PartnerRecord(record.partner, record.intake_pages, record.intake_version, (blank,)),
        generated_at=WHEN,
    )
    assert [entry["resource"]["resourceType"] for entry in empty["entry"]] == ["Patient"]


def test_answers_under_a_question_no_longer_asked_are_kept_as_text():
    record = _record(intake=False)
    old = IntakeFacts(
        uuid.uuid4(), True, WHEN, "older", {"about": {"retired_question": "kept words"}}
    )
    bundle = partner_bundle(
        PartnerRecord(record.partner, record.intake_pages, record.intake_version, (old,)),
        generated_at=WHEN,
    )
    (response,) = _responses(bundle, "intake")
    assert response["item"][0]["item"] == [
        {"linkId": "retired_question", "answer": [{"valueString": "kept words"}]}
    ]
    Bundle.model_validate(bundle)


def test_a_response_says_the_language_it_was_given_in():
    record = _record()
    (intake,) = record.intakes
    spanish = IntakeFacts(
        intake.id, True, WHEN, intake.taxonomy_version, intake.pages, language="es"
    )
    result = _result("gad7", [0] * 7)
    given = MeasureFacts(
        result.id, "gad7", result.total, result.band, result.item_points, WHEN, language="es"
    )
    bundle = partner_bundle(
        PartnerRecord(
            record.partner, record.intake_pages, record.intake_version, (spanish,), (given,)
        ),
        generated_at=WHEN,
    )
    languages = [r.get("language") for r in _resources(bundle, "QuestionnaireResponse")]
    assert languages == ["es", "es"]
    Bundle.model_validate(bundle)
    english = partner_bundle(_record(), generated_at=WHEN)
    assert "language" not in _responses(english, "intake")[0]


def test_times_are_utc_to_the_second():
    assert builders.fhir_datetime(WHEN) == "2026-11-30T17:45:12Z"
    naive = datetime(2026, 1, 2, 3, 4, 5)  # noqa: DTZ001 - a stored time without its zone
    assert builders.fhir_datetime(naive) == "2026-01-02T03:04:05Z"


# --- versions: each response names the wording it was asked in ------------------------------

STALE = "phq9:000000000000"  # a version of the PHQ-9's wording the clinic no longer has


def _asked(slug: str, points: list[int], version: str | None) -> MeasureFacts:
    result = _result(slug, points)
    return MeasureFacts(
        result.id,
        slug,
        result.total,
        result.band,
        result.item_points,
        WHEN,
        instrument_version=version,
    )


def test_each_measure_questionnaire_carries_its_version(full):
    for slug in ("csi16", "csi4", "phq9", "gad7"):
        questionnaire = _questionnaire(full, slug)
        assert questionnaire["version"] == instrument_version(slug)
        assert questionnaire["version"].startswith(f"{slug}:")
    # The same version, the same id at every export; another version is another resource.
    again = builders.measure_questionnaire(measures.get("phq9"))
    assert again["id"] == _questionnaire(full, "phq9")["id"]
    assert again["id"] != builders.measure_questionnaire(measures.get("gad7"))["id"]


def test_a_response_points_at_the_version_it_was_asked_in():
    current = instrument_version("phq9")
    record = _record(intake=False)
    results = (_asked("phq9", PHQ9_POINTS, current), _asked("phq9", [1] * 9, STALE))
    bundle = partner_bundle(
        PartnerRecord(record.partner, record.intake_pages, record.intake_version, (), results),
        generated_at=WHEN,
    )
    url = codes.questionnaire_url("phq9")
    today, earlier = _responses(bundle, "phq9")
    assert today["questionnaire"] == f"{url}|{current}"
    assert earlier["questionnaire"] == f"{url}|{STALE}"
    # The Bundle holds today's Questionnaire only: the clinic keeps no earlier wording,
    # so none is made up for the earlier version.
    (questionnaire,) = _resources(bundle, "Questionnaire")
    assert f"{questionnaire['url']}|{questionnaire['version']}" == today["questionnaire"]
    # Today's wording is what the first was shown; the earlier one was not shown it.
    assert today["item"][0]["text"] == measures.get("phq9").item(1).text
    assert all("text" not in item for item in earlier["item"][:9])
    # Its answers keep their codes and points (LOINC's display is LOINC's).
    assert earlier["item"][0]["answer"][0]["valueCoding"]["code"] == PHQ_ANSWER_CODES[1]
    Bundle.model_validate(bundle)
    text = builders.bundle_json(bundle)
    assert json.loads(Bundle.model_validate_json(text).model_dump_json(exclude_none=True)) == (
        json.loads(text)
    )


def test_an_earlier_wording_of_the_clinics_own_codes_drops_todays_labels():
    (response,) = _responses(
        partner_bundle(
            _record(intake=False, results=(_asked("csi4", [0, 0, 0, 0], "csi4:000000000000"),)),
            generated_at=WHEN,
        ),
        "csi4",
    )
    coding = response["item"][0]["answer"][0]["valueCoding"]
    assert coding["code"] == "0"
    assert "display" not in coding
    assert "text" not in response["item"][0]


def test_a_result_kept_before_versions_were_names_no_version():
    (response,) = _responses(
        partner_bundle(
            _record(intake=False, results=(_asked("gad7", [0] * 7, None),)), generated_at=WHEN
        ),
        "gad7",
    )
    assert response["questionnaire"] == codes.questionnaire_url("gad7")
    assert response["item"][0]["text"] == measures.get("gad7").item(1).text


def test_the_intake_response_points_at_the_taxonomy_version_it_was_stored_under():
    record = _record(intake=False)
    old = IntakeFacts(uuid.uuid4(), True, WHEN, "2025.1", {"about": {"hopes": HOPES}})
    bundle = partner_bundle(
        PartnerRecord(record.partner, record.intake_pages, record.intake_version, (old,)),
        generated_at=WHEN,
    )
    (response,) = _responses(bundle, "intake")
    url = codes.questionnaire_url("intake")
    assert response["questionnaire"] == f"{url}|2025.1"
    # Today's wording is not claimed for answers stored under another version.
    (group,) = response["item"]
    assert "text" not in group
    assert [item.get("text") for item in group["item"]] == [None]
    assert group["item"][0]["answer"] == [{"valueString": HOPES}]
    current = _responses(partner_bundle(_record(), generated_at=WHEN), "intake")[0]
    assert current["questionnaire"] == f"{url}|{record.intake_version}"
    assert all("text" in group for group in current["item"])


# --- the text each partner was shown ----------------------------------------------------------


def _intake_in(language: str | None) -> dict[str, Any]:
    record = _record()
    (intake,) = record.intakes
    spoken = IntakeFacts(
        intake.id, True, WHEN, intake.taxonomy_version, intake.pages, language=language
    )
    gad7 = _asked("gad7", [1] * 7, instrument_version("gad7"))
    bundle = partner_bundle(
        PartnerRecord(
            record.partner, record.intake_pages, record.intake_version, (spoken,), (gad7,)
        ),
        generated_at=WHEN,
    )
    Bundle.model_validate(bundle)
    return bundle


def _texts(response: dict[str, Any]) -> dict[str, str]:
    """linkId: text, for every group and item of a response."""
    found = {}
    for group in response["item"]:
        found[group["linkId"]] = group.get("text")
        for item in group.get("item", []):
            found[item["linkId"]] = item.get("text")
    return found


def test_an_intake_answered_in_spanish_has_the_spanish_it_was_shown():
    spanish = _texts(_responses(_intake_in("es"), "intake")[0])
    english = _texts(_responses(_intake_in("en"), "intake")[0])
    assert spanish["about"] == "Sobre usted y su relación"
    assert spanish["relationship_length"] == "¿Cuánto tiempo llevan juntos?"
    assert english["about"] == "About you and your relationship"
    assert english["relationship_length"] == "How long have you been together?"
    # The safety page's own neutral title, as the partner read it (not the staff heading).
    assert spanish["safety"] == "Unas preguntas más"
    assert english["safety"] == "A few more questions"
    assert spanish.keys() == english.keys()
    # No text of ours is left in English (each question and page has its Spanish).
    left = sorted(key for key in spanish if spanish[key] == english[key])
    assert left == [], left
    # The same answers, coded the same way: a coding's display is its code system's.
    es_response = _responses(_intake_in("es"), "intake")[0]
    en_response = _responses(_intake_in("en"), "intake")[0]
    for es_group, en_group in zip(es_response["item"], en_response["item"], strict=True):
        assert [i["answer"] for i in es_group["item"]] == [i["answer"] for i in en_group["item"]]


def test_a_validated_instrument_keeps_the_english_it_was_shown_in():
    for language in ("es", "en", None):
        (gad7,) = _responses(_intake_in(language), "gad7")
        assert gad7["item"][0]["text"] == measures.get("gad7").item(1).text
        assert "language" not in gad7  # no language was stored with this result


def test_an_intake_with_no_language_kept_is_in_english():
    assert _texts(_responses(_intake_in(None), "intake")[0])["about"] == (
        "About you and your relationship"
    )
