"""The pure risk core: every source of a disclosure, and the state a partner's risk is in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconnect_clinic.risk import (
    Assessment,
    DisclosureSource,
    RiskKind,
    RiskLevel,
    RiskStatus,
    contraindication_tags,
    highest_open_level,
    intake_disclosures,
    measure_disclosures,
    newly_disclosed,
    partner_risks,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


ALL_NO = {
    "safety_afraid": "no",
    "safety_hurt": "no",
    "safety_controlled": "no",
    "safety_threatened": "no",
    "safety_note": "",
}


def test_all_no_and_no_note_discloses_nothing() -> None:
    assert intake_disclosures({"safety": ALL_NO}, at=T0) == ()


@pytest.mark.parametrize(
    "question",
    [
        "safety_afraid",
        "safety_hurt",
        "safety_controlled",
        "safety_threatened",
        "safety_insulted",
        "safety_sexual",
        "safety_own_force",
    ],
)
@pytest.mark.parametrize("answer", ["yes", "discuss"])
def test_each_safety_question_answered_yes_or_discuss_is_a_safety_concern(
    question: str, answer: str
) -> None:
    (found,) = intake_disclosures({"safety": {**ALL_NO, question: answer}}, at=T0)
    assert found.kind is RiskKind.SAFETY
    assert found.level is RiskLevel.CONCERN
    assert found.source is DisclosureSource.SAFETY_ANSWER
    assert found.item == question


@pytest.mark.parametrize("question", ["safety_strangled", "safety_weapon"])
def test_strangulation_and_weapons_raise_the_level(question: str) -> None:
    (found,) = intake_disclosures({"safety": {**ALL_NO, question: "yes"}}, at=T0)
    assert found.level is RiskLevel.HIGH


def test_wanting_to_talk_about_a_weapon_in_person_is_a_concern_not_high() -> None:
    (found,) = intake_disclosures({"safety": {**ALL_NO, "safety_weapon": "discuss"}}, at=T0)
    assert found.level is RiskLevel.CONCERN


def test_a_safety_note_with_every_answer_no_is_a_disclosure() -> None:
    (found,) = intake_disclosures(
        {"safety": {**ALL_NO, "safety_note": "  He checks my phone "}}, at=T0
    )
    assert found.source is DisclosureSource.SAFETY_NOTE
    assert found.kind is RiskKind.SAFETY


def test_a_blank_safety_note_is_not() -> None:
    assert intake_disclosures({"safety": {**ALL_NO, "safety_note": " \n "}}, at=T0) == ()


@pytest.mark.parametrize(
    ("points", "level"),
    [("0", None), ("1", RiskLevel.CONCERN), ("2", RiskLevel.HIGH), ("3", RiskLevel.HIGH)],
)
def test_phq9_item_9_in_intake_values(points: str, level: RiskLevel | None) -> None:
    found = intake_disclosures({"wellbeing": {"phq9_9": points}}, at=T0)
    if level is None:
        assert found == ()
    else:
        (disclosure,) = found
        assert disclosure.kind is RiskKind.SELF_HARM
        assert disclosure.level is level
        assert disclosure.item == "phq9_9"


def test_a_draft_with_item_9_unanswered_or_garbled_discloses_nothing() -> None:
    assert intake_disclosures({"wellbeing": {"phq9_9": ""}}, at=T0) == ()
    assert intake_disclosures({"wellbeing": {"phq9_9": "x"}}, at=T0) == ()


def test_a_later_phq9_discloses_item_9() -> None:
    (found,) = measure_disclosures("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1], at=T0)
    assert found.kind is RiskKind.SELF_HARM
    assert found.source is DisclosureSource.MEASURE_ITEM


def test_other_measures_and_item_9_at_zero_disclose_nothing() -> None:
    assert measure_disclosures("phq9", [3] * 8 + [0], at=T0) == ()
    assert measure_disclosures("gad7", [3] * 7, at=T0) == ()


def test_a_disclosure_opens_a_risk() -> None:
    (risk,) = partner_risks(intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=T0), [])
    assert risk.status is RiskStatus.OPEN
    assert risk.needs_attention


def test_acknowledged_then_resolved() -> None:
    found = intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=at(0))
    acknowledged = Assessment(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, at(1))
    (risk,) = partner_risks(found, [acknowledged])
    assert risk.status is RiskStatus.ACKNOWLEDGED
    assert risk.constrains_homework
    resolved = Assessment(RiskKind.SAFETY, RiskStatus.RESOLVED, at(2))
    (risk,) = partner_risks(found, [acknowledged, resolved])
    assert risk.status is RiskStatus.RESOLVED
    assert not risk.constrains_homework


def test_a_disclosure_after_the_therapists_word_opens_it_again() -> None:
    first = intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=at(0))
    later = measure_disclosures("phq9", [0] * 8 + [2], at=at(5))
    resolved = Assessment(RiskKind.SELF_HARM, RiskStatus.RESOLVED, at(3))
    risks = {r.kind: r for r in partner_risks(first + later, [resolved])}
    assert risks[RiskKind.SELF_HARM].status is RiskStatus.OPEN
    assert risks[RiskKind.SAFETY].status is RiskStatus.OPEN


def test_the_therapist_can_open_a_risk_no_partner_disclosed() -> None:
    opened = Assessment(RiskKind.ACTIVE_AFFAIR, RiskStatus.OPEN, at(1))
    (risk,) = partner_risks([], [opened])
    assert risk.status is RiskStatus.OPEN
    assert risk.disclosures[0].source is DisclosureSource.THERAPIST


def test_level_after_resolution_counts_only_newer_disclosures() -> None:
    strangled = intake_disclosures({"safety": {"safety_strangled": "yes"}}, at=at(0))
    resolved = Assessment(RiskKind.SAFETY, RiskStatus.RESOLVED, at(1))
    afraid = intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=at(2))
    (risk,) = partner_risks(strangled + afraid, [resolved])
    assert risk.status is RiskStatus.OPEN
    assert risk.level is RiskLevel.CONCERN


def test_most_urgent_first() -> None:
    safety = intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=at(0))
    self_harm = measure_disclosures("phq9", [0] * 8 + [3], at=at(0))
    acknowledged = Assessment(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, at(1))
    kinds = [r.kind for r in partner_risks(safety + self_harm, [acknowledged])]
    assert kinds == [RiskKind.SELF_HARM, RiskKind.SAFETY]


def test_newly_disclosed_ignores_what_was_already_known() -> None:
    before = intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=at(0))
    after = intake_disclosures(
        {"safety": {"safety_afraid": "yes", "safety_note": "please call me"}}, at=at(1)
    )
    (new,) = newly_disclosed(before, after)
    assert new.source is DisclosureSource.SAFETY_NOTE


def test_contraindications_and_marker_follow_status() -> None:
    safety = intake_disclosures({"safety": {"safety_afraid": "yes"}}, at=at(0))
    self_harm = measure_disclosures("phq9", [0] * 8 + [1], at=at(0))
    risks = partner_risks(
        safety + self_harm, [Assessment(RiskKind.SELF_HARM, RiskStatus.RESOLVED, at(1))]
    )
    assert contraindication_tags(risks) == {"ipv"}
    assert highest_open_level(risks) is RiskLevel.CONCERN
    assert highest_open_level(partner_risks([], [])) is None
