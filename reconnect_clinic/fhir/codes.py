"""The codes the FHIR export speaks in: LOINC where LOINC has the instrument, the
clinic's own code systems for the rest.

Where each LOINC code was checked
---------------------------------
PHQ-9 (panel 44249-1, items 44250-9 ... 44260-8, total score 44261-6, answers LA6568-5
"Not at all", LA6569-3 "Several days", LA6570-1 "More than half the days", LA6571-9
"Nearly every day"): HL7 US Core's PHQ-9 example Questionnaire
(``input/examples/Questionnaire-phq-9-example.json`` in the HL7/US-Core repository,
published at hl7.org/fhir/us/core as Questionnaire/phq-9-example, generated from LOINC by
the NLM's LHC-Forms), which also fixes the structure followed here: one ``choice`` item
per question with ``linkId`` "/<LOINC code>", the LOINC item code in ``code``, LOINC
answer codes with an ``ordinalValue`` extension, and the total as a ``decimal`` item
"/44261-6". The same total code on an Observation: the Medizininformatik-Initiative's
PHQ-9 Observation example (kerndatensatzmodul-proms, mii-exa-pro-phq-9-observation) and
the CMS ACCESS Model IG's PHQ-9 QuestionnaireResponse example (answer codes).

GAD-7 (panel 69737-5, items 69725-0, 68509-9, 69733-4, 69734-2, 69735-9, 69689-8,
69736-7, total score 70274-6): the LHC-Forms rendering of LOINC 69737-5 as an SDC
Questionnaire (the same generator as the US Core example). Its answers are the PHQ's
LOINC answers; the form's own answer wording is the PHQ-9's ("More than half the days"),
so LA6570-1 is the code for that wording on every GAD-7 item (LOINC's answer list for
68509-9 alone words the third answer "More days than not", LA18938-3, which is not what
the partner was shown).

CSI-16 and CSI-4 have no LOINC panel we could confirm, and the intake's own pages are the
clinic's: they use the code systems below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
ORDINAL_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONFIDENTIALITY: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

# The clinic's own namespace. A URN rather than a web address: the clinic has no address
# of its own that every installation could answer at, and a URN claims none.
BASE: Final = "urn:reconnect-clinic"
PARTNER_IDENTIFIER: Final = f"{BASE}:partner"
INTAKE_ITEMS: Final = f"{BASE}:intake-item"  # a taxonomy item id, or a question's name
MEASURE_ITEMS: Final = f"{BASE}:measure-item"  # "<instrument>-<number>", "<instrument>-total"
MEASURES: Final = f"{BASE}:measure"  # an instrument's slug


def questionnaire_url(name: str) -> str:
    """The canonical address of one of the clinic's Questionnaires ("intake", "phq9")."""
    return f"{BASE}:Questionnaire:{name}"


def intake_answers_system(set_name: str) -> str:
    """The code system of one set of intake answers ("frequency", "safety", or a
    question's own name for the answers only it offers)."""
    return f"{BASE}:intake-answer:{set_name}"


def measure_answers_system(slug: str, number: int) -> str:
    """The answers of one item of a measure without LOINC codes, coded by their points."""
    return f"{BASE}:measure-answer:{slug}-{number}"


PHQ_ANSWERS: Final = {
    0: ("LA6568-5", "Not at all"),
    1: ("LA6569-3", "Several days"),
    2: ("LA6570-1", "More than half the days"),
    3: ("LA6571-9", "Nearly every day"),
}


@dataclass(frozen=True, slots=True)
class LoincInstrument:
    """One instrument as LOINC codes it: the panel, each item (in form order), the total,
    and the answers by their points."""

    panel: tuple[str, str]
    items: tuple[str, ...]
    total: tuple[str, str]
    answers: dict[int, tuple[str, str]]


LOINC_INSTRUMENTS: Final = {
    "phq9": LoincInstrument(
        panel=("44249-1", "PHQ-9 quick depression assessment panel [Reported.PHQ]"),
        items=(
            "44250-9",
            "44255-8",
            "44259-0",
            "44254-1",
            "44251-7",
            "44258-2",
            "44252-5",
            "44253-3",
            "44260-8",
        ),
        total=("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
        answers=PHQ_ANSWERS,
    ),
    "gad7": LoincInstrument(
        panel=("69737-5", "Generalized anxiety disorder 7 item (GAD-7)"),
        items=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
        total=("70274-6", "Generalized anxiety disorder 7 item total score"),
        answers=PHQ_ANSWERS,
    ),
}
