"""Suggesting healing steps from the intake profile: a pure function."""

from __future__ import annotations

from reconnect_clinic import taxonomy as taxonomy_module
from reconnect_clinic.homework import library as library_module
from reconnect_clinic.homework.recommend import SAFETY_NOTE, suggest

TAXONOMY = taxonomy_module.load()
LIBRARY = library_module.load()


def scores(**by_slug: int) -> dict:
    return {"concerns": {slug: {"score": value} for slug, value in by_slug.items()}}


def test_no_scores_no_suggestions():
    result = suggest(TAXONOMY, LIBRARY, None, None)
    assert result.items == ()
    assert result.safety_note is None


def test_a_concern_both_partners_share_leads_with_a_reason_naming_both():
    a = scores(emotional_distance=90)
    b = scores(emotional_distance=80)
    result = suggest(TAXONOMY, LIBRARY, a, b)
    assert result.items
    top = result.items[0]
    assert top.step in {link.step for link in TAXONOMY.links_from("emotional_distance")}
    assert "both partners scored high on emotional distance" in top.reason_text
    assert top.weight == 170
    assert top.joint_allowed


def test_one_partner_only_is_named():
    result = suggest(TAXONOMY, LIBRARY, None, scores(feeling_invisible=75))
    assert all("partner B scored high on feeling invisible" in s.reason_text for s in result.items)


def test_low_scores_suggest_nothing():
    assert suggest(TAXONOMY, LIBRARY, scores(emotional_distance=59), None).items == ()


def test_ranked_by_weight_and_limited():
    a = scores(**{c.slug: 100 for c in TAXONOMY.concerns})
    result = suggest(TAXONOMY, LIBRARY, a, a, limit=4)
    weights = [s.weight for s in result.items]
    assert len(weights) == 4
    assert weights == sorted(weights, reverse=True)


def test_dismissed_and_assigned_steps_are_left_out():
    a = scores(emotional_distance=90)
    everything = {s.step for s in suggest(TAXONOMY, LIBRARY, a, None).items}
    dismissed, assigned = sorted(everything)[:1], sorted(everything)[1:2]
    result = suggest(
        TAXONOMY, LIBRARY, a, None, dismissed=frozenset(dismissed), assigned=frozenset(assigned)
    )
    remaining = {s.step for s in result.items}
    assert not remaining & set(dismissed + assigned)


def test_a_safety_concern_means_no_joint_exercise_and_says_why():
    a = scores(emotional_distance=90, loss_of_intimacy=90)
    result = suggest(TAXONOMY, LIBRARY, a, a, ruled_out=frozenset({"ipv"}))
    assert result.safety_note == SAFETY_NOTE
    assert result.items
    for item in result.items:
        assert not item.joint_allowed
        assert all(exercise.mode == "individual" for exercise in item.exercises)
    unflagged = suggest(TAXONOMY, LIBRARY, a, a)
    assert any(e.mode == "together" for s in unflagged.items for e in s.exercises)
