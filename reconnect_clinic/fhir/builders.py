"""FHIR R4 resources of one partner's questionnaires, built from plain data: no request,
no database. Each resource is the JSON form FHIR defines (a dict), ready to serve.

What one partner's Bundle holds:

* a ``Patient`` for the partner (their name and the clinic's id for them);
* a ``Questionnaire`` for each instrument they answered (LOINC-coded for PHQ-9 and
  GAD-7, see ``codes``) and one for the intake's own pages, each at the version the
  clinic asks today (see "Versions" below);
* a ``QuestionnaireResponse`` per administration: the intake (its pages as groups; the
  measures it contained are their own administrations) and every measure result, each
  pointing at the canonical ``url|version`` it was asked in, with each item's ``text``
  as the partner was shown it (their language for the clinic's own questions; a
  validated instrument's own English, as it is never translated here);
* an ``Observation`` per administration's total score, derived from its response.

The Bundle is of type ``collection``: a set of records for a records request or an EHR
to file, each standing on its own. A ``document`` Bundle would need a ``Composition``
first and presents itself as one attested clinical document, which nothing here is.

Versions. A measure's version is the one stored with each administration
(``measures.instruments.instrument_version``: a hash of its wording and key); the
intake's is the taxonomy version stored with the answers. The clinic keeps only today's
wording, so the Bundle holds today's version of each Questionnaire answered; an
administration asked in an earlier wording points at that version's canonical, which
the Bundle does not pretend to hold, and its items carry no ``text`` of ours (today's
wording is not what was shown). A result kept before versions were stored points at the
canonical without a version (FHIR: whichever is current), never at a version it may not
have been asked in.

Only the partner's own records go in: a Bundle is built from one partner's record, so
what one partner said privately (their safety page, their wellbeing measures) can reach
no one else's Bundle. The Bundle is labelled restricted (v3 Confidentiality "R").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import i18n, measures
from ..intake.content import FREQUENCY_CHOICES, SAFETY_CHOICES, IntakePageSpec, Question
from ..measures import Instrument
from ..measures.instruments import instrument_version
from . import codes

Resource = dict[str, Any]

_QUESTION_TYPES = {"radio": "choice", "text": "string", "textarea": "text", "checkbox": "boolean"}
INTAKE = "intake"


@dataclass(frozen=True, slots=True)
class PartnerFacts:
    id: uuid.UUID
    role: str
    first_name: str
    last_name: str


@dataclass(frozen=True, slots=True)
class IntakeFacts:
    """One intake as stored: its pages' values, by page and question name."""

    id: uuid.UUID
    submitted: bool
    authored: datetime  # submitted, or last saved for a draft
    taxonomy_version: str
    pages: Mapping[str, Mapping[str, str]]
    language: str | None = None  # the language the questions were shown in (BCP 47)


@dataclass(frozen=True, slots=True)
class MeasureFacts:
    """One administration of a measure (the intake's or a later one)."""

    id: uuid.UUID
    instrument: str
    total: float
    band: str
    item_points: tuple[int, ...]
    administered_at: datetime
    language: str | None = None
    # The wording and key it was asked in (measures.instruments.instrument_version);
    # None for a result kept before versions were.
    instrument_version: str | None = None


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """Everything one partner answered, and the intake pages it was asked on."""

    partner: PartnerFacts
    intake_pages: tuple[IntakePageSpec, ...]
    intake_version: str
    intakes: tuple[IntakeFacts, ...] = ()
    measures: tuple[MeasureFacts, ...] = ()


def fhir_datetime(moment: datetime) -> str:
    """A FHIR ``dateTime``/``instant``: UTC, to the second (a stored naive time is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _language(language: str | None) -> dict[str, str]:
    """A response's ``language``: the one its partner was asked in, when it was kept."""
    return {"language": language} if language else {}


def _reference(resource: Resource) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _stable_id(*parts: str) -> str:
    """An id that is the same at every export of the same record."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, ":".join((codes.BASE, *parts))))


# --- the partner ----------------------------------------------------------------------------


def patient(partner: PartnerFacts) -> Resource:
    name: dict[str, Any] = {"text": f"{partner.first_name} {partner.last_name}".strip()}
    if partner.last_name:
        name["family"] = partner.last_name
    name["given"] = [partner.first_name]
    return {
        "resourceType": "Patient",
        "id": str(partner.id),
        "identifier": [{"system": codes.PARTNER_IDENTIFIER, "value": str(partner.id)}],
        "name": [name],
    }


# --- the intake's own pages -----------------------------------------------------------------


def _intake_questions(page: IntakePageSpec) -> tuple[Question, ...]:
    """The page's own questions: a measure's items (item id "<instrument>:<n>") are
    exported as that measure's administration instead."""
    return tuple(q for q in page.questions if ":" not in q.item_id)


def _answer_set(question: Question) -> str:
    if question.choices == FREQUENCY_CHOICES:
        return "frequency"
    if question.choices == SAFETY_CHOICES:
        return "safety"
    return question.name


def _choice_coding(question: Question, value: str) -> dict[str, str]:
    coding = {"system": codes.intake_answers_system(_answer_set(question)), "code": value}
    label = dict(question.choices).get(value)
    if label is not None:
        coding["display"] = label
    return coding


def intake_questionnaire(pages: Sequence[IntakePageSpec], version: str) -> Resource:
    """The intake as a Questionnaire: a group per page, in order, with its own questions."""
    groups: list[Resource] = []
    for page in pages:
        questions = _intake_questions(page)
        if not questions:
            continue
        items = []
        for question in questions:
            item: Resource = {
                "linkId": question.name,
                "code": [{"system": codes.INTAKE_ITEMS, "code": question.item_id or question.name}],
                "text": question.label,
                "type": _QUESTION_TYPES[question.kind],
                "required": question.required,
            }
            if question.kind == "radio":
                item["answerOption"] = [
                    {"valueCoding": _choice_coding(question, value)}
                    for value, _ in question.choices
                ]
            elif question.kind in ("text", "textarea"):
                item["maxLength"] = question.max_length
            items.append(item)
        groups.append(
            {"linkId": page.slug, "text": page.therapist_title, "type": "group", "item": items}
        )
    return {
        "resourceType": "Questionnaire",
        "id": _stable_id("Questionnaire", INTAKE, version),
        "url": codes.questionnaire_url(INTAKE),
        "version": version,
        "name": "CouplesTherapyIntake",
        "title": "Couples therapy intake",
        "status": "active",
        "subjectType": ["Patient"],
        "item": groups,
    }


def _intake_answer(question: Question, value: str) -> list[Resource] | None:
    if question.kind == "checkbox":
        return [{"valueBoolean": True}] if value else None
    if not value.strip():
        return None
    if question.kind == "radio":
        return [{"valueCoding": _choice_coding(question, value)}]
    return [{"valueString": value}]


def intake_response(
    intake: IntakeFacts,
    pages: Sequence[IntakePageSpec],
    version: str,
    subject: Resource,
) -> Resource | None:
    """The intake's answers as a QuestionnaireResponse, or None when nothing is answered.

    Each page's and question's ``text`` is what the partner was shown: the clinic's own
    words in the language the intake was answered in (``intake.language``). Answers
    kept under a question the current pages no longer ask (a page of an earlier
    taxonomy) are not dropped: they come as text under their stored name. ``version``
    is the version the Bundle's intake Questionnaire has (today's); the response points
    at the one its answers were stored under. Stored under another version, the pages'
    words of today may not be what the partner read: no ``text`` is given then (as for
    a measure asked in an earlier wording), only the answers under their names."""
    current = intake.taxonomy_version in (None, version)
    shown = i18n.translator(intake.language)
    groups: list[Resource] = []
    known_pages = {page.slug: page for page in pages}
    for slug, values in intake.pages.items():
        page = known_pages.get(slug)
        asked = {q.name: q for q in _intake_questions(page)} if page is not None else {}
        every = {q.name for q in page.questions} if page is not None else set()
        measure_fields = every - set(asked)
        items = []
        ordered = [name for name in asked if name in values]
        ordered += [name for name in values if name not in asked and name not in measure_fields]
        for name in ordered:
            value = str(values[name])
            question = asked.get(name)
            answer = (
                _intake_answer(question, value)
                if question is not None
                else ([{"valueString": value}] if value.strip() else None)
            )
            if answer is None:
                continue
            item: Resource = {"linkId": name}
            if question is not None and current:
                item["text"] = shown(question.label)
            item["answer"] = answer
            items.append(item)
        if items:
            # The page's own title, as the partner read it (the Questionnaire's group
            # has the therapist's heading, e.g. "Safety (private)").
            group: Resource = {"linkId": slug}
            if page is not None and current:
                group["text"] = shown(page.title)
            groups.append({**group, "item": items})
    if not groups:
        return None
    stored_under = intake.taxonomy_version or version
    order = {page.slug: n for n, page in enumerate(pages)}
    groups.sort(key=lambda group: order.get(group["linkId"], len(order)))
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(intake.id),
        **_language(intake.language),
        "questionnaire": f"{codes.questionnaire_url(INTAKE)}|{stored_under}",
        "status": "completed" if intake.submitted else "in-progress",
        "subject": _reference(subject),
        "authored": fhir_datetime(intake.authored),
        "author": _reference(subject),
        "item": groups,
    }


# --- validated measures ---------------------------------------------------------------------


def _measure_link_id(instrument: Instrument, number: int) -> str:
    loinc = codes.LOINC_INSTRUMENTS.get(instrument.slug)
    return f"/{loinc.items[number - 1]}" if loinc is not None else f"{instrument.slug}-{number}"


def _total_link_id(instrument: Instrument) -> str:
    loinc = codes.LOINC_INSTRUMENTS.get(instrument.slug)
    return f"/{loinc.total[0]}" if loinc is not None else f"{instrument.slug}-total"


def _item_code(instrument: Instrument, number: int) -> dict[str, str]:
    loinc = codes.LOINC_INSTRUMENTS.get(instrument.slug)
    if loinc is not None:
        return {"system": codes.LOINC, "code": loinc.items[number - 1]}
    return {"system": codes.MEASURE_ITEMS, "code": f"{instrument.slug}-{number}"}


def _total_coding(instrument: Instrument) -> dict[str, str]:
    loinc = codes.LOINC_INSTRUMENTS.get(instrument.slug)
    if loinc is not None:
        return {"system": codes.LOINC, "code": loinc.total[0], "display": loinc.total[1]}
    return {
        "system": codes.MEASURE_ITEMS,
        "code": f"{instrument.slug}-total",
        "display": f"{instrument.name} total score",
    }


def _answer_coding(
    instrument: Instrument, number: int, points: int, *, wording_known: bool = True
) -> Resource:
    """An answer by the points it scored, with those points as its ordinal value (and,
    ``wording_known``, the label it has in today's wording; LOINC's display is LOINC's)."""
    loinc = codes.LOINC_INSTRUMENTS.get(instrument.slug)
    labels = {option.points: option.label for option in instrument.item(number).options}
    coding: Resource = {"extension": [{"url": codes.ORDINAL_VALUE, "valueDecimal": points}]}
    if loinc is not None and points in loinc.answers:
        code, display = loinc.answers[points]
        coding |= {"system": codes.LOINC, "code": code, "display": display}
    else:
        coding |= {
            "system": codes.measure_answers_system(instrument.slug, number),
            "code": str(points),
        }
        if points in labels and wording_known:
            coding["display"] = labels[points]
    return coding


def measure_questionnaire(instrument: Instrument) -> Resource:
    """A validated measure as a Questionnaire at today's version: its items in form
    order, each answer with the points the published key gives it, and its total."""
    version = instrument_version(instrument.slug)
    loinc = codes.LOINC_INSTRUMENTS.get(instrument.slug)
    items: list[Resource] = [
        {
            "linkId": _measure_link_id(instrument, item.number),
            "code": [_item_code(instrument, item.number)],
            "text": item.text,
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": _answer_coding(instrument, item.number, option.points)}
                for option in item.options
            ],
        }
        for item in instrument.items
    ]
    items.append(
        {
            "linkId": _total_link_id(instrument),
            "code": [_total_coding(instrument)],
            "text": f"{instrument.name} total score",
            "type": "decimal",
            "required": False,
            "readOnly": True,
        }
    )
    if loinc is not None:
        code = {"system": codes.LOINC, "code": loinc.panel[0], "display": loinc.panel[1]}
    else:
        code = {"system": codes.MEASURES, "code": instrument.slug, "display": instrument.title}
    return {
        "resourceType": "Questionnaire",
        "id": _stable_id("Questionnaire", instrument.slug, version),
        "url": codes.questionnaire_url(instrument.slug),
        "version": version,
        "name": instrument.name.replace("-", ""),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": instrument.instructions,
        "copyright": instrument.citation,
        "code": [code],
        "item": items,
    }


def _known_instrument(slug: str) -> Instrument | None:
    return measures.INSTRUMENTS.get(slug)


def measure_canonical(result: MeasureFacts, instrument: Instrument) -> str:
    """The Questionnaire an administration answered: ``url|version`` at the version
    stored with it, or the bare ``url`` for a result kept before versions were."""
    url = codes.questionnaire_url(instrument.slug)
    return f"{url}|{result.instrument_version}" if result.instrument_version else url


def measure_response(result: MeasureFacts, instrument: Instrument, subject: Resource) -> Resource:
    """One administration as a QuestionnaireResponse: each item's answer as a coding with
    its points, then the total (as in HL7's PHQ-9 examples). Each item's ``text`` is the
    instrument's own English, as shown (never translated: see i18n_extract.py), unless
    the administration was asked in an earlier wording, which the clinic no longer has."""
    stale = result.instrument_version not in (None, instrument_version(instrument.slug))
    items: list[Resource] = []
    for number, points in enumerate(result.item_points[: len(instrument.items)], start=1):
        item: Resource = {"linkId": _measure_link_id(instrument, number)}
        if not stale:
            item["text"] = instrument.item(number).text
        coding = _answer_coding(instrument, number, points, wording_known=not stale)
        items.append({**item, "answer": [{"valueCoding": coding}]})
    items.append(
        {
            "linkId": _total_link_id(instrument),
            "text": f"{instrument.name} total score",
            "answer": [{"valueDecimal": result.total}],
        }
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(result.id),
        **_language(result.language),
        "questionnaire": measure_canonical(result, instrument),
        "status": "completed",
        "subject": _reference(subject),
        "authored": fhir_datetime(result.administered_at),
        "author": _reference(subject),
        "item": items,
    }


def total_observation(
    result: MeasureFacts, instrument: Instrument, subject: Resource, response: Resource
) -> Resource:
    """The administration's total score, with the band it falls in."""
    coding = _total_coding(instrument)
    return {
        "resourceType": "Observation",
        "id": _stable_id("Observation", str(result.id), "total"),
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                ]
            }
        ],
        "code": {"coding": [coding], "text": coding["display"]},
        "subject": _reference(subject),
        "effectiveDateTime": fhir_datetime(result.administered_at),
        "valueQuantity": {
            "value": result.total,
            "unit": "{score}",
            "system": codes.UCUM,
            "code": "{score}",
        },
        "interpretation": [{"text": result.band}],
        "derivedFrom": [_reference(response)],
    }


# --- the Bundle -----------------------------------------------------------------------------


def partner_bundle(record: PartnerRecord, *, generated_at: datetime) -> Resource:
    """One partner's questionnaires, answers and scores as a FHIR R4 ``collection``."""
    subject = patient(record.partner)
    questionnaires: dict[str, Resource] = {}
    answers: list[Resource] = []
    for intake in record.intakes:
        response = intake_response(intake, record.intake_pages, record.intake_version, subject)
        if response is None:
            continue
        questionnaires.setdefault(
            INTAKE, intake_questionnaire(record.intake_pages, record.intake_version)
        )
        answers.append(response)
    for result in record.measures:
        instrument = _known_instrument(result.instrument)
        if instrument is None:  # an instrument this version of the clinic does not define
            continue
        questionnaires.setdefault(instrument.slug, measure_questionnaire(instrument))
        response = measure_response(result, instrument, subject)
        answers += [response, total_observation(result, instrument, subject, response)]
    resources = [subject, *questionnaires.values(), *answers]
    return {
        "resourceType": "Bundle",
        "id": _stable_id("Bundle", str(record.partner.id), fhir_datetime(generated_at)),
        "meta": {
            "security": [{"system": codes.CONFIDENTIALITY, "code": "R", "display": "restricted"}]
        },
        "type": "collection",
        "timestamp": fhir_datetime(generated_at),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def bundle_json(bundle: Resource) -> bytes:
    """The Bundle as the file a therapist downloads (UTF-8 JSON, FHIR's media type)."""
    return json.dumps(bundle, indent=2, ensure_ascii=False).encode()


FHIR_JSON = "application/fhir+json"
