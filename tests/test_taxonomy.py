"""Tests for reconnect_clinic.taxonomy: the packaged data and the checks made when loading.

Broken taxonomies are produced by loading the real data file, changing one thing and writing
it back with a tiny TOML writer, so each test shows exactly which rule it exercises.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from reconnect_clinic.taxonomy import (
    Concern,
    HealingStep,
    Item,
    StepLink,
    Taxonomy,
    TaxonomyError,
    load,
)

DATA_FILE = resources.files("reconnect_clinic.taxonomy") / "data" / "emotional_neglect.toml"

SIGN_TITLES = [
    "Lack of Communication",
    "Emotional Distance",
    "Feeling Invisible",
    "Loss of Intimacy",
    "Emotional Self-Sufficiency",
]
CAUSE_TITLES = [
    "Childhood Experiences",
    "Busy and Stressful Lives",
    "Unresolved Emotional Baggage",
    "Mismatched Emotional Needs",
]
STEP_TITLES = [
    "Recognize and Acknowledge",
    "Improve Communication",
    "Increase Emotional Awareness",
    "Prioritize Quality Time",
    "Practice Self-Care",
    "Establish Boundaries",
    "Develop Empathy and Compassion",
    "Practice Active Listening",
    "Foster Emotional Intimacy",
    "Practice Forgiveness",
    "Cultivate Trust",
    "Engage in Relationship Enrichment Activities",
    "Seek Professional Help",
    "Seek Individual Therapy",
    "Celebrate Progress",
]

# Slugs are stored with client answers and must never change once shipped. This list pins
# them: if a test here fails, add a new slug instead of renaming an old one.
SIGN_SLUGS = [
    "lack_of_communication",
    "emotional_distance",
    "feeling_invisible",
    "loss_of_intimacy",
    "emotional_self_sufficiency",
]
CAUSE_SLUGS = [
    "childhood_experiences",
    "busy_and_stressful_lives",
    "unresolved_emotional_baggage",
    "mismatched_emotional_needs",
]
STEP_SLUGS = [
    "recognize_and_acknowledge",
    "improve_communication",
    "increase_emotional_awareness",
    "prioritize_quality_time",
    "practice_self_care",
    "establish_boundaries",
    "develop_empathy_and_compassion",
    "practice_active_listening",
    "foster_emotional_intimacy",
    "practice_forgiveness",
    "cultivate_trust",
    "engage_in_relationship_enrichment_activities",
    "seek_professional_help",
    "seek_individual_therapy",
    "celebrate_progress",
]


# --------------------------------------------------------------------------------------------
# A tiny TOML writer, enough for the taxonomy's shape (no new dependency needed)
# --------------------------------------------------------------------------------------------


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are a subset of TOML basic-string escapes.
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _emit_table(table: dict[str, Any], path: str, lines: list[str]) -> None:
    for key, value in table.items():
        if not _is_table_array(value):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in table.items():
        if _is_table_array(value):
            full = f"{path}.{key}" if path else key
            for sub in value:
                lines.append("")
                lines.append(f"[[{full}]]")
                _emit_table(sub, full, lines)


def dump_toml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    _emit_table(data, "", lines)
    return "\n".join(lines) + "\n"


def raw_data() -> dict[str, Any]:
    with DATA_FILE.open("rb") as fh:
        return tomllib.load(fh)


def write_variant(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    data = copy.deepcopy(raw_data())
    mutate(data)
    path = tmp_path / "taxonomy.toml"
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


def rename_concern(data: dict[str, Any], section: str, index: int, new_slug: str) -> None:
    """Rename a sign or cause consistently (its item ids and links too)."""
    table = data[section][index]
    old_slug = table["slug"]
    kind = section[:-1]
    table["slug"] = new_slug
    for item in table["items"]:
        item["id"] = item["id"].replace(f"{kind}.{old_slug}.", f"{kind}.{new_slug}.")
    for link in data["links"]:
        if link["source"] == old_slug:
            link["source"] = new_slug


# --------------------------------------------------------------------------------------------
# The packaged taxonomy
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load()


def test_toml_writer_round_trips_the_real_file() -> None:
    data = raw_data()
    assert tomllib.loads(dump_toml(data)) == data


def test_packaged_taxonomy_loads(tax: Taxonomy) -> None:
    assert isinstance(tax, Taxonomy)
    assert tax.version == "2026.1"
    assert tax.title == "Emotional neglect in couples"
    assert (len(tax.signs), len(tax.causes), len(tax.steps)) == (5, 4, 15)


def test_titles_follow_the_source_in_order(tax: Taxonomy) -> None:
    assert [s.title for s in tax.signs] == SIGN_TITLES
    assert [c.title for c in tax.causes] == CAUSE_TITLES
    assert [s.title for s in tax.steps] == STEP_TITLES


def test_slugs_are_pinned(tax: Taxonomy) -> None:
    assert [s.slug for s in tax.signs] == SIGN_SLUGS
    assert [c.slug for c in tax.causes] == CAUSE_SLUGS
    assert [s.slug for s in tax.steps] == STEP_SLUGS


def test_numbers_and_kinds(tax: Taxonomy) -> None:
    assert [s.number for s in tax.signs] == list(range(1, 6))
    assert [c.number for c in tax.causes] == list(range(1, 5))
    assert [s.number for s in tax.steps] == list(range(1, 16))
    assert {s.kind for s in tax.signs} == {"sign"}
    assert {c.kind for c in tax.causes} == {"cause"}


def test_loading_twice_returns_the_same_object() -> None:
    assert load() is load()


def test_explicit_path_is_read_fresh_but_equal(tax: Taxonomy) -> None:
    fresh = load(str(DATA_FILE))
    assert fresh is not tax
    assert fresh == tax


def test_every_step_is_reachable(tax: Taxonomy) -> None:
    for step in tax.steps:
        assert tax.links_to(step.slug), step.slug
    assert {link.step for link in tax.links} == set(STEP_SLUGS)


def test_every_concern_links_to_two_to_five_steps(tax: Taxonomy) -> None:
    for concern in tax.concerns:
        links = tax.links_from(concern.slug)
        assert 2 <= len(links) <= 5, concern.slug
        assert all(link.source == concern.slug for link in links)
        assert len({link.step for link in links}) == len(links)


def test_links_to_lists_every_source(tax: Taxonomy) -> None:
    sources = {link.source for link in tax.links_to("seek_individual_therapy")}
    assert {"childhood_experiences", "unresolved_emotional_baggage"} <= sources


def test_every_link_has_a_rationale(tax: Taxonomy) -> None:
    for link in tax.links:
        assert link.rationale.strip(), link


def test_item_ids_are_unique_and_prefixed(tax: Taxonomy) -> None:
    ids = [item.id for item in tax.items]
    assert len(ids) == len(set(ids))
    for concern in tax.concerns:
        assert 2 <= len(concern.items) <= 4, concern.slug
        for item in concern.items:
            assert item.id.startswith(f"{concern.kind}.{concern.slug}."), item.id


def test_items_property_is_signs_then_causes_in_order(tax: Taxonomy) -> None:
    expected = [item for concern in (*tax.signs, *tax.causes) for item in concern.items]
    assert list(tax.items) == expected


def test_concerns_property_is_signs_then_causes(tax: Taxonomy) -> None:
    assert tax.concerns == tax.signs + tax.causes


def test_some_items_are_reverse_keyed_but_no_concern_only_reverse(tax: Taxonomy) -> None:
    with_reverse = [c.slug for c in tax.concerns if any(i.reverse for i in c.items)]
    assert len(with_reverse) >= 3
    for concern in tax.concerns:
        assert not all(i.reverse for i in concern.items), concern.slug


def test_lookups(tax: Taxonomy) -> None:
    assert tax.concern("feeling_invisible").title == "Feeling Invisible"
    assert tax.concern("childhood_experiences").kind == "cause"
    assert tax.step("celebrate_progress").number == 15
    item = tax.item("sign.lack_of_communication.1")
    assert item is tax.concern("lack_of_communication").items[0]


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("concern", "no_such_sign"),
        ("concern", "celebrate_progress"),  # a step is not a concern
        ("step", "no_such_step"),
        ("step", "feeling_invisible"),  # a sign is not a step
        ("item", "sign.no_such.1"),
        ("links_from", "no_such_sign"),
        ("links_to", "no_such_step"),
    ],
)
def test_unknown_keys_raise_key_error_naming_the_key(tax: Taxonomy, method: str, key: str) -> None:
    with pytest.raises(KeyError, match=re.escape(key)):
        getattr(tax, method)(key)


def test_client_facing_text_is_first_person_and_not_blaming(tax: Taxonomy) -> None:
    blaming = re.compile(
        r"your fault|to blame|neglectful|you failed|you should|failure|selfish|cold partner",
        re.IGNORECASE,
    )
    first_person = re.compile(r"\b(I|me|my|we|us|our)\b", re.IGNORECASE)
    for concern in tax.concerns:
        assert not blaming.search(concern.client_description), concern.slug
        for item in concern.items:
            assert first_person.search(item.text), item.id
            assert not blaming.search(item.text), item.id
    for step in tax.steps:
        assert not blaming.search(step.client_description), step.slug


def test_text_fields_are_filled(tax: Taxonomy) -> None:
    for entry in (*tax.concerns, *tax.steps):
        assert entry.client_description.strip(), entry.slug
        assert entry.therapist_description.strip(), entry.slug


@pytest.mark.parametrize(
    ("obj", "attr"),
    [
        (Item(id="sign.x.1", text="t"), "text"),
        (HealingStep("x", 1, "X", "c", "t"), "title"),
        (StepLink("a", "b", "r"), "step"),
        (Concern("sign", "x", 1, "X", "c", "t", ()), "slug"),
    ],
)
def test_dataclasses_are_frozen(obj: object, attr: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, attr, "changed")


def test_taxonomy_is_frozen(tax: Taxonomy) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        tax.version = "9999"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tax.signs = ()  # type: ignore[misc]


def test_taxonomy_error_is_a_value_error() -> None:
    assert issubclass(TaxonomyError, ValueError)


def test_constructing_inconsistent_taxonomy_directly_fails(tax: Taxonomy) -> None:
    with pytest.raises(TaxonomyError, match="duplicate slug 'lack_of_communication'"):
        dataclasses.replace(tax, signs=tax.signs + tax.signs[:1])


# --------------------------------------------------------------------------------------------
# Validation at load: each rule, on a copy of the real file with one thing broken
# --------------------------------------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _drop_links(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["links"] = [link for link in data["links"] if not predicate(link)]

    return mutate


def _swap_steps(data: dict[str, Any]) -> None:
    steps = data["steps"]
    steps[3], steps[4] = steps[4], steps[3]


def _rename(section: str, index: int, slug: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: rename_concern(data, section, index, slug)


def _add_items(count: int) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        items = data["signs"][1]["items"]
        for n in range(len(items) + 1, len(items) + 1 + count):
            items.append({"id": f"sign.emotional_distance.{n}", "text": "An extra statement."})

    return mutate


def _duplicate_link(data: dict[str, Any]) -> None:
    data["links"].append(dict(data["links"][0]))


def _step_name_clash(data: dict[str, Any]) -> None:
    # A step whose slug is already a sign's; keep its links pointing at it by slug.
    data["steps"][14]["slug"] = "feeling_invisible"


INVALID_CASES: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    # Missing or empty fields
    ("missing version", _delete(("version",)), ("'version'",)),
    ("empty title", _set(("title",), "  "), ("'title'",)),
    ("missing signs", _delete(("signs",)), ("'signs'",)),
    ("empty causes", _set(("causes",), []), ("'causes'",)),
    ("missing steps", _delete(("steps",)), ("'steps'",)),
    ("missing links", _delete(("links",)), ("'links'",)),
    (
        "sign missing client_description",
        _delete(("signs", 1, "client_description")),
        ("emotional_distance", "'client_description'"),
    ),
    (
        "cause blank therapist_description",
        _set(("causes", 2, "therapist_description"), " \n "),
        ("unresolved_emotional_baggage", "'therapist_description'"),
    ),
    ("step empty title", _set(("steps", 9, "title"), ""), ("practice_forgiveness", "'title'")),
    ("sign missing slug", _delete(("signs", 0, "slug")), ("signs[1]", "'slug'")),
    (
        "item empty text",
        _set(("signs", 2, "items", 1, "text"), ""),
        ("feeling_invisible", "sign.feeling_invisible.2", "'text'"),
    ),
    (
        "item missing id",
        _delete(("causes", 0, "items", 0, "id")),
        ("childhood_experiences", "'id'"),
    ),
    (
        "link missing rationale",
        _delete(("links", 0, "rationale")),
        ("lack_of_communication", "recognize_and_acknowledge", "'rationale'"),
    ),
    ("sign with no items", _set(("signs", 3, "items"), []), ("loss_of_intimacy", "'items'")),
    # Wrong types and unknown fields
    (
        "number is a string",
        _set(("steps", 0, "number"), "1"),
        ("recognize_and_acknowledge", "'number'"),
    ),
    ("number is a bool", _set(("signs", 0, "number"), True), ("lack_of_communication", "'number'")),
    (
        "reverse is not a bool",
        _set(("signs", 0, "items", 2, "reverse"), "yes"),
        ("sign.lack_of_communication.3", "'reverse'"),
    ),
    (
        "misspelt reverse",
        _set(("signs", 0, "items", 0, "revers"), True),
        ("sign.lack_of_communication.1", "'revers'"),
    ),
    ("unknown top-level key", _set(("sings",), "x"), ("'sings'",)),
    (
        "unknown step key",
        _set(("steps", 2, "items"), [{"id": "step.x.1", "text": "t"}]),
        ("increase_emotional_awareness", "'items'"),
    ),
    # Slugs
    ("slug with capitals", _rename("signs", 0, "LackOfCommunication"), ("LackOfCommunication",)),
    ("slug with hyphens", _set(("steps", 1, "slug"), "improve-communication"), ("improve-comm",)),
    ("slug with spaces", _set(("causes", 1, "slug"), "busy lives"), ("'busy lives'",)),
    ("slug starting with digit", _set(("steps", 0, "slug"), "1st_step"), ("1st_step",)),
    ("slug starting with underscore", _set(("steps", 0, "slug"), "_step"), ("'_step'",)),
    (
        "slug with trailing newline",
        _set(("steps", 0, "slug"), "recognize_and_acknowledge\n"),
        ("recognize_and_acknowledge",),
    ),
    # Duplicates
    (
        "duplicate sign slug",
        _rename("signs", 1, "lack_of_communication"),
        ("duplicate slug 'lack_of_communication'",),
    ),
    (
        "cause slug clashes with sign",
        _rename("causes", 0, "loss_of_intimacy"),
        ("duplicate slug 'loss_of_intimacy'", "sign 4", "cause 1"),
    ),
    (
        "step slug clashes with sign",
        _step_name_clash,
        ("duplicate slug 'feeling_invisible'", "step 15"),
    ),
    (
        "duplicate step slug",
        _set(("steps", 1, "slug"), "recognize_and_acknowledge"),
        ("duplicate slug 'recognize_and_acknowledge'",),
    ),
    (
        "duplicate item id",
        _set(("signs", 0, "items", 1, "id"), "sign.lack_of_communication.1"),
        ("duplicate item id 'sign.lack_of_communication.1'",),
    ),
    (
        "duplicate link",
        _duplicate_link,
        ("lack_of_communication", "recognize_and_acknowledge", "twice"),
    ),
    # Numbering
    ("sign number skips", _set(("signs", 1, "number"), 3), ("emotional_distance", "number 3")),
    ("cause numbers from zero", _set(("causes", 0, "number"), 0), ("childhood_experiences",)),
    ("steps out of order", _swap_steps, ("practice_self_care", "expected 4")),
    # Item counts
    (
        "too few items",
        _set(("causes", 3, "items"), [{"id": "cause.mismatched_emotional_needs.1", "text": "t"}]),
        ("mismatched_emotional_needs", "'items' has 1 entry; it needs 2 to 4"),
    ),
    (
        "too many items",
        _add_items(2),
        ("emotional_distance", "'items' has 5 entries; it needs 2 to 4"),
    ),
    # Item id prefixes
    (
        "item id names another sign",
        _set(("signs", 0, "items", 0, "id"), "sign.emotional_distance.9"),
        ("sign.emotional_distance.9", "'sign.lack_of_communication.'"),
    ),
    (
        "cause item with sign prefix",
        _set(("causes", 0, "items", 0, "id"), "sign.childhood_experiences.1"),
        ("'cause.childhood_experiences.'",),
    ),
    (
        "item id without suffix",
        _set(("signs", 4, "items", 0, "id"), "sign.emotional_self_sufficiency."),
        ("emotional_self_sufficiency",),
    ),
    # Links
    (
        "link from unknown source",
        _set(("links", 0, "source"), "lack_of_talking"),
        ("unknown sign or cause 'lack_of_talking'",),
    ),
    (
        "link from a step",
        _set(("links", 0, "source"), "celebrate_progress"),
        ("unknown sign or cause 'celebrate_progress'",),
    ),
    (
        "link to unknown step",
        _set(("links", 0, "step"), "talk_more"),
        ("unknown step 'talk_more'",),
    ),
    (
        "step nothing links to",
        _drop_links(lambda link: link["step"] == "practice_forgiveness"),
        ("step 'practice_forgiveness' is not linked",),
    ),
    (
        "sign with no links",
        _drop_links(lambda link: link["source"] == "lack_of_communication"),
        ("sign 'lack_of_communication' is not linked",),
    ),
    (
        "cause with no links",
        _drop_links(lambda link: link["source"] == "childhood_experiences"),
        ("cause 'childhood_experiences' is not linked",),
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fragments"),
    [pytest.param(m, f, id=name) for name, m, f in INVALID_CASES],
)
def test_invalid_taxonomy_is_rejected(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], fragments: tuple[str, ...]
) -> None:
    path = write_variant(tmp_path, mutate)
    with pytest.raises(TaxonomyError) as excinfo:
        load(path)
    message = str(excinfo.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_unmodified_copy_is_accepted(tmp_path: Path) -> None:
    path = write_variant(tmp_path, lambda data: None)
    assert load(path) == load()


def test_a_later_version_may_have_different_counts(tmp_path: Path) -> None:
    """5 signs / 4 causes / 15 steps is today's content, not a rule of the format."""

    def drop_last_sign(data: dict[str, Any]) -> None:
        gone = data["signs"].pop()["slug"]
        data["links"] = [link for link in data["links"] if link["source"] != gone]
        data["version"] = "2099.1"

    tax = load(write_variant(tmp_path, drop_last_sign))
    assert len(tax.signs) == 4
    assert tax.version == "2099.1"


def test_invalid_toml_is_a_taxonomy_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('version = "2026.1"\ntitle = \n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid TOML"):
        load(path)


def test_missing_file_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.toml")
