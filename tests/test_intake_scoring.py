"""Intake scoring and the couple's profile, as pure functions over answer values."""

from __future__ import annotations

import pytest

from reconnect_clinic import taxonomy as taxonomy_module
from reconnect_clinic.intake.content import field_name_for_item, pages_for
from reconnect_clinic.intake.scoring import (
    FLAG_SAFETY,
    FLAG_SAFETY_DISCUSS,
    FLAG_SELF_HARM,
    ProfileRow,
    concern_scores,
    couple_profile,
    largest_differences,
    measure_points,
    safety_flags,
    score_intake,
)
from tests.factories import intake_answers

TAXONOMY = taxonomy_module.load()


def _item_values(frequency: int) -> dict[str, dict[str, str]]:
    return {
        "signs": {
            field_name_for_item(i.id): str(frequency) for c in TAXONOMY.signs for i in c.items
        },
        "background": {
            field_name_for_item(i.id): str(frequency) for c in TAXONOMY.causes for i in c.items
        },
    }


def test_scores_run_0_to_100_with_reverse_items_flipped():
    concern = TAXONOMY.signs[0]
    values = {"signs": {}}
    for item in concern.items:
        # Answer "almost always" for plain items and "never" for reverse ones: all max.
        values["signs"][field_name_for_item(item.id)] = "0" if item.reverse else "4"
    scores = concern_scores(TAXONOMY, values)
    assert scores[concern.slug].score == 100
    for item in concern.items:
        values["signs"][field_name_for_item(item.id)] = "4" if item.reverse else "0"
    assert concern_scores(TAXONOMY, values)[concern.slug].score == 0


def test_mean_of_answered_items_and_unanswered_is_none():
    concern = TAXONOMY.causes[0]
    plain = [i for i in concern.items if not i.reverse]
    values = {"background": {field_name_for_item(plain[0].id): "2"}}
    scores = concern_scores(TAXONOMY, values)
    assert scores[concern.slug].score == 50
    assert scores[TAXONOMY.causes[1].slug].score is None
    # Out-of-range or junk answers count as unanswered, never as a number.
    values = {"background": {field_name_for_item(plain[0].id): "9"}}
    assert concern_scores(TAXONOMY, values)[concern.slug].score is None
    values = {"background": {field_name_for_item(plain[0].id): "x"}}
    assert concern_scores(TAXONOMY, values)[concern.slug].score is None


def test_scores_are_stamped_with_version_and_item_ids():
    result = score_intake(TAXONOMY, intake_answers())
    stored = result.as_json()
    assert stored["taxonomy_version"] == TAXONOMY.version
    first = TAXONOMY.signs[0]
    assert stored["concerns"][first.slug]["item_ids"] == [i.id for i in first.items]
    assert set(stored["measures"]) == {"csi16", "phq9", "gad7"}
    assert len(stored["measures"]["csi16"]["item_points"]) == 16


def test_measures_are_scored_from_the_pages():
    lowest = score_intake(TAXONOMY, intake_answers(measure_pick="first"))
    highest = score_intake(TAXONOMY, intake_answers(measure_pick="last"))
    # The first option of every PHQ-9 and GAD-7 item is 0 points, the last is 3.
    assert lowest.measures["phq9"].total == 0
    assert lowest.measures["phq9"].band == "minimal"
    assert highest.measures["phq9"].total == 27
    assert highest.measures["phq9"].band == "severe"
    assert highest.measures["gad7"].total == 21
    assert FLAG_SELF_HARM in highest.flags
    assert FLAG_SELF_HARM not in lowest.flags
    # CSI-16 options are listed in the form's order, some items high-to-low, so the
    # first option is not always 0 points: the total is the sum of their points.
    assert 0 < lowest.measures["csi16"].total < 81


def test_missing_measure_answer_names_the_item():
    values = intake_answers()
    del values["wellbeing"]["phq9_4"]
    with pytest.raises(ValueError, match="PHQ-9 item 4"):
        measure_points("phq9", values)


def test_out_of_range_measure_answer_is_refused():
    values = intake_answers()
    values["wellbeing"]["gad7_2"] = "7"
    with pytest.raises(ValueError, match="item 2"):
        score_intake(TAXONOMY, values)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, set()),
        ({"safety_afraid": "no", "safety_hurt": "no"}, set()),
        ({"safety_afraid": "yes"}, {FLAG_SAFETY}),
        ({"safety_threatened": "discuss"}, {FLAG_SAFETY_DISCUSS}),
        (
            {"safety_hurt": "yes", "safety_controlled": "discuss"},
            {FLAG_SAFETY, FLAG_SAFETY_DISCUSS},
        ),
        ({"safety_note": "yes"}, set()),  # free text is not an answer to a question
    ],
)
def test_safety_flags(answers, expected):
    assert safety_flags({"safety": answers}) == expected


def test_couple_profile_side_by_side_and_differences():
    a = score_intake(TAXONOMY, {**intake_answers(), **_item_values(4)}).as_json()
    b = score_intake(TAXONOMY, {**intake_answers(), **_item_values(0)}).as_json()
    rows = couple_profile(TAXONOMY, a, b)
    assert [r.slug for r in rows] == [c.slug for c in TAXONOMY.concerns]
    assert all(r.difference is not None for r in rows)
    assert len(largest_differences(rows)) == 3
    only_a = couple_profile(TAXONOMY, a, None)
    assert all(r.b is None and r.difference is None for r in only_a)
    assert largest_differences(only_a) == []


def test_a_concern_unknown_to_the_stored_scores_shows_unanswered():
    stored = {"concerns": {TAXONOMY.signs[0].slug: {"score": 40}}}
    rows = couple_profile(TAXONOMY, stored, stored)
    assert rows[0].a == 40
    assert all(r.a is None for r in rows[1:])


@pytest.mark.parametrize(
    ("a", "b", "listed"),
    [(50, 75, True), (50, 74, False), (100, 0, True), (None, 10, False)],
)
def test_largest_differences_threshold(a, b, listed):
    row = ProfileRow("x", "sign", "X", a, b)
    assert (largest_differences([row]) == [row]) is listed


def test_largest_differences_widest_first():
    rows = [ProfileRow(s, "sign", s, 0, d) for s, d in (("a", 30), ("b", 90), ("c", 60), ("d", 40))]
    assert [r.slug for r in largest_differences(rows)] == ["b", "c", "d"]


def test_every_page_question_has_a_unique_name():
    names = [q.name for page in pages_for(TAXONOMY) for q in page.questions]
    assert len(names) == len(set(names))
