"""Tests for reconnect_clinic.homework.library: the packaged exercises and the loader's checks.

Broken libraries are produced by loading the real data file, changing one thing and writing
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

from reconnect_clinic import taxonomy
from reconnect_clinic.homework.library import (
    Exercise,
    Library,
    LibraryError,
    load,
)

DATA_FILE = resources.files("reconnect_clinic.homework") / "data" / "exercises.toml"

SNAPSHOT_KEYS = {
    "library_version",
    "slug",
    "step",
    "title",
    "purpose",
    "mode",
    "frequency",
    "times_per_week",
    "duration_minutes",
    "instructions",
    "reflection_prompts",
    "therapist_note",
    "contraindications",
    "privacy",
}

# Steps whose exercises must be done by each partner on their own (see the clinical notes in
# the data file): help-seeking exercises prepare and reflect, self-care is personal.
INDIVIDUAL_ONLY_STEPS = {"seek_professional_help", "seek_individual_therapy", "practice_self_care"}
SAFETY_FIRST_STEPS = {"practice_forgiveness", "establish_boundaries"}


# --------------------------------------------------------------------------------------------
# A tiny TOML writer, enough for the library's shape (no new dependency needed)
# --------------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are a subset of TOML basic-string escapes.
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_toml(data: dict[str, Any]) -> str:
    """Write top-level scalars, then each ``[[exercises]]`` table (kept in order)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if k != "exercises"]
    for table in data.get("exercises", []):
        lines += ["", "[[exercises]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def raw_data() -> dict[str, Any]:
    with DATA_FILE.open("rb") as fh:
        return tomllib.load(fh)


def write_variant(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    data = copy.deepcopy(raw_data())
    mutate(data)
    path = tmp_path / "exercises.toml"
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


def first(data: dict[str, Any]) -> dict[str, Any]:
    return data["exercises"][0]


def find(data: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(t for t in data["exercises"] if t["slug"] == slug)


@pytest.fixture(scope="module")
def lib() -> Library:
    return load()


@pytest.fixture(scope="module")
def tax() -> taxonomy.Taxonomy:
    return taxonomy.load()


def test_toml_writer_round_trips_the_real_file() -> None:
    data = raw_data()
    assert tomllib.loads(dump_toml(data)) == data


# --------------------------------------------------------------------------------------------
# The packaged library
# --------------------------------------------------------------------------------------------


def test_packaged_library_loads(lib: Library) -> None:
    assert isinstance(lib, Library)
    assert lib.version == "2026.2"
    assert 20 <= len(lib.exercises) <= 24
    assert all(isinstance(e, Exercise) for e in lib.exercises)
    assert {e.library_version for e in lib.exercises} == {lib.version}


def test_every_healing_step_has_an_exercise(lib: Library, tax: taxonomy.Taxonomy) -> None:
    step_slugs = {step.slug for step in tax.steps}
    assert len(step_slugs) == 15
    assert lib.steps_covered == step_slugs
    for slug in step_slugs:
        assert lib.for_step(slug)


def test_slugs_are_unique_and_snake_case(lib: Library) -> None:
    slugs = [e.slug for e in lib.exercises]
    assert len(slugs) == len(set(slugs))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", s) for s in slugs)


def test_packaged_exercises_follow_the_editorial_guidance(lib: Library) -> None:
    # Tighter than the loader's limits, which only catch plainly broken data.
    for e in lib.exercises:
        assert 3 <= len(e.instructions) <= 7, e.slug
        assert 2 <= len(e.reflection_prompts) <= 4, e.slug
        assert all(p.endswith("?") for p in e.reflection_prompts), e.slug
        assert e.mode in {"together", "individual"}
        if e.frequency == "weekly":
            assert 1 <= e.times_per_week <= 7, e.slug
        else:
            assert e.times_per_week == 0, e.slug


def test_modes_are_mixed(lib: Library) -> None:
    modes = [e.mode for e in lib.exercises]
    assert modes.count("together") >= len(modes) // 3
    assert modes.count("individual") >= len(modes) // 3


def test_help_seeking_and_self_care_exercises_are_individual(lib: Library) -> None:
    for step in INDIVIDUAL_ONLY_STEPS:
        assert {e.mode for e in lib.for_step(step)} == {"individual"}, step


def test_forgiveness_and_boundaries_notes_ask_for_a_safety_check(lib: Library) -> None:
    for step in SAFETY_FIRST_STEPS:
        for e in lib.for_step(step):
            assert "safety" in e.therapist_note.lower(), e.slug
    for e in lib.for_step("practice_forgiveness"):
        assert "ongoing" in e.therapist_note.lower(), e.slug


def test_text_has_no_stray_whitespace(lib: Library) -> None:
    for e in lib.exercises:
        texts = [e.title, e.purpose, e.therapist_note, *e.instructions, *e.reflection_prompts]
        assert all(t == t.strip() and t for t in texts), e.slug


# --------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------


def test_get_returns_the_exercise(lib: Library) -> None:
    exercise = lib.get("daily_check_in")
    assert exercise.step == "improve_communication"
    assert exercise.mode == "together"
    assert exercise.frequency == "daily"
    assert exercise.times_per_week == 0


def test_get_unknown_slug_names_it(lib: Library) -> None:
    with pytest.raises(KeyError, match="no_such_exercise"):
        lib.get("no_such_exercise")


def test_for_step_keeps_file_order(lib: Library) -> None:
    expected = [t["slug"] for t in raw_data()["exercises"] if t["step"] == "practice_self_care"]
    assert [e.slug for e in lib.for_step("practice_self_care")] == expected


def test_for_step_unknown_step_names_it(lib: Library) -> None:
    with pytest.raises(KeyError, match="no_such_step"):
        lib.for_step("no_such_step")


# --------------------------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------------------------


def test_snapshot_round_trips_every_exercise(lib: Library) -> None:
    for exercise in lib.exercises:
        snapshot = exercise.as_snapshot()
        assert Exercise.from_snapshot(snapshot) == exercise
        # Stored as JSON in the database, so it must survive a JSON round trip too.
        assert Exercise.from_snapshot(json.loads(json.dumps(snapshot))) == exercise


def test_snapshot_is_plain_data_with_every_field(lib: Library) -> None:
    exercise = lib.get("daily_check_in")
    snapshot = exercise.as_snapshot()
    assert set(snapshot) == SNAPSHOT_KEYS
    assert {f.name for f in dataclasses.fields(Exercise)} == SNAPSHOT_KEYS
    assert snapshot["library_version"] == lib.version
    assert isinstance(snapshot["instructions"], list)
    assert isinstance(snapshot["reflection_prompts"], list)
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_snapshot_is_a_copy(lib: Library) -> None:
    exercise = lib.get("daily_check_in")
    snapshot = exercise.as_snapshot()
    snapshot["instructions"].append("changed later")
    assert "changed later" not in exercise.instructions
    assert "changed later" not in exercise.as_snapshot()["instructions"]


def test_from_snapshot_survives_retired_steps_and_new_keys(lib: Library) -> None:
    # Snapshots are historical records: they must stay readable whatever the library becomes.
    snapshot = lib.get("daily_check_in").as_snapshot()
    snapshot["step"] = "a_step_retired_long_ago"
    snapshot["added_in_a_later_version"] = True
    exercise = Exercise.from_snapshot(snapshot)
    assert exercise.step == "a_step_retired_long_ago"


def test_from_snapshot_missing_field_is_named(lib: Library) -> None:
    snapshot = lib.get("daily_check_in").as_snapshot()
    del snapshot["therapist_note"]
    with pytest.raises(LibraryError, match="'therapist_note'"):
        Exercise.from_snapshot(snapshot)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("duration_minutes", "10"),
        ("times_per_week", True),
        ("instructions", "one long string"),
        ("reflection_prompts", [1, 2]),
        ("title", None),
    ],
)
def test_from_snapshot_wrong_type_is_named(lib: Library, key: str, value: Any) -> None:
    snapshot = lib.get("daily_check_in").as_snapshot()
    snapshot[key] = value
    with pytest.raises(LibraryError, match=repr(key)):
        Exercise.from_snapshot(snapshot)


# --------------------------------------------------------------------------------------------
# Immutability and caching
# --------------------------------------------------------------------------------------------


def test_dataclasses_are_frozen_and_slotted(lib: Library) -> None:
    exercise = lib.exercises[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        exercise.title = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lib.version = "changed"  # type: ignore[misc]
    assert not hasattr(exercise, "__dict__")
    assert not hasattr(lib, "__dict__")
    assert isinstance(exercise.instructions, tuple)
    assert isinstance(exercise.reflection_prompts, tuple)
    assert isinstance(lib.exercises, tuple)
    assert isinstance(lib.steps_covered, frozenset)


def test_default_load_is_cached() -> None:
    assert load() is load()


def test_explicit_path_or_taxonomy_is_read_fresh(tmp_path: Path, tax: taxonomy.Taxonomy) -> None:
    path = write_variant(tmp_path, lambda data: None)
    from_path = load(path)
    assert from_path is not load()
    assert from_path == load()
    with_taxonomy = load(taxonomy=tax)
    assert with_taxonomy is not load()
    assert with_taxonomy == load()


def test_library_constructor_rejects_duplicates_and_mixed_versions(lib: Library) -> None:
    exercise = lib.exercises[0]
    with pytest.raises(LibraryError, match=f"duplicate exercise slug {exercise.slug!r}"):
        Library(version=lib.version, exercises=(exercise, exercise))
    with pytest.raises(LibraryError, match="library_version"):
        Library(version="1999.1", exercises=(exercise,))


# --------------------------------------------------------------------------------------------
# Validation: each rule, one change at a time
# --------------------------------------------------------------------------------------------


def _set(slug: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        find(data, slug)[key] = value

    return mutate


def _drop(slug: str, key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del find(data, slug)[key]

    return mutate


def _duplicate_slug(data: dict[str, Any]) -> None:
    data["exercises"][1]["slug"] = data["exercises"][0]["slug"]


def _remove_step(step: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["exercises"] = [t for t in data["exercises"] if t["step"] != step]

    return mutate


def _top_level(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value

    return mutate


def _drop_top_level(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del data[key]

    return mutate


CHECK_IN = "daily_check_in"  # a daily exercise
WEEKLY = "small_promises_kept"  # a weekly exercise

INVALID_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    # Top level
    ("unknown top-level key", _top_level("versoin", "x"), r"top level: unknown field.*'versoin'"),
    ("missing version", _drop_top_level("library_version"), r"'library_version' is missing"),
    (
        "empty version",
        _top_level("library_version", " "),
        r"'library_version' must be text, not blank",
    ),
    # An empty array of tables is not written at all, so this file has no 'exercises'.
    ("no exercises", _top_level("exercises", []), r"top level: field 'exercises' is missing"),
    # Slugs and steps
    ("unknown step", _set(CHECK_IN, "step", "talk_more"), r"'daily_check_in'.*'talk_more'"),
    ("duplicate slug", _duplicate_slug, r"exercises\[2\]: duplicate slug"),
    ("slug with capitals", _set(CHECK_IN, "slug", "Daily_Check_In"), r"'Daily_Check_In'"),
    ("slug with hyphen", _set(CHECK_IN, "slug", "daily-check-in"), r"must be snake_case"),
    ("slug starting with digit", _set(CHECK_IN, "slug", "1_check_in"), r"must be snake_case"),
    ("step without exercise", _remove_step("cultivate_trust"), r"'cultivate_trust' has no"),
    # Unknown, missing and empty fields
    ("unknown key", _set(CHECK_IN, "therapist_notes", "x"), r"unknown field.*'therapist_notes'"),
    ("missing title", _drop(CHECK_IN, "title"), r"'daily_check_in'.*'title' is missing"),
    ("empty purpose", _set(CHECK_IN, "purpose", "   "), r"'daily_check_in'.*'purpose'"),
    ("missing note", _drop(CHECK_IN, "therapist_note"), r"'therapist_note' is missing"),
    ("missing step", _drop(CHECK_IN, "step"), r"'daily_check_in'.*'step' is missing"),
    ("title not text", _set(CHECK_IN, "title", 7), r"'title' must be text, got an integer"),
    # Mode and frequency
    ("bad mode", _set(CHECK_IN, "mode", "both"), r"'mode' is 'both'"),
    ("missing mode", _drop(CHECK_IN, "mode"), r"'mode' is missing"),
    ("bad frequency", _set(CHECK_IN, "frequency", "monthly"), r"'frequency' is 'monthly'"),
    # times_per_week
    ("weekly with zero", _set(WEEKLY, "times_per_week", 0), r"'small_promises_kept'.*1 to 7"),
    ("weekly with eight", _set(WEEKLY, "times_per_week", 8), r"'times_per_week' is 8"),
    ("daily with times", _set(CHECK_IN, "times_per_week", 2), r"must be 0 unless"),
    (
        "times not int",
        _set(CHECK_IN, "times_per_week", "0"),
        r"'times_per_week' must be an integer, got a string",
    ),
    ("times is bool", _set(WEEKLY, "times_per_week", True), r"must be an integer, got a boolean"),
    ("missing times", _drop(CHECK_IN, "times_per_week"), r"'times_per_week' is missing"),
    # duration_minutes
    ("zero duration", _set(CHECK_IN, "duration_minutes", 0), r"'duration_minutes' is 0"),
    ("long duration", _set(CHECK_IN, "duration_minutes", 241), r"'duration_minutes' is 241"),
    (
        "float duration",
        _set(CHECK_IN, "duration_minutes", 1.5),
        r"must be an integer, got a decimal",
    ),
    # instructions and reflection prompts
    ("no instructions", _set(CHECK_IN, "instructions", []), r"'instructions' is empty"),
    ("13 instructions", _set(CHECK_IN, "instructions", ["Do it."] * 13), r"13 entries"),
    (
        "blank instruction",
        _set(CHECK_IN, "instructions", ["Do it.", " "]),
        r"entry 2 must be text, not blank",
    ),
    (
        "instructions text",
        _set(CHECK_IN, "instructions", "Do it."),
        r"'instructions' must be a list, got a string",
    ),
    ("no prompts", _set(CHECK_IN, "reflection_prompts", []), r"'reflection_prompts' is empty"),
    ("7 prompts", _set(CHECK_IN, "reflection_prompts", ["Why?"] * 7), r"7 entries; at most 6"),
    ("prompt not text", _set(CHECK_IN, "reflection_prompts", ["Why?", 3]), r"entry 2"),
]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [pytest.param(mutate, message, id=name) for name, mutate, message in INVALID_CASES],
)
def test_invalid_library_is_rejected(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = write_variant(tmp_path, mutate)
    with pytest.raises(LibraryError, match=message) as excinfo:
        load(path)
    # Every message starts with the file it came from.
    assert str(excinfo.value).startswith(str(path))


@pytest.mark.parametrize("count", [1, 12])
def test_instruction_count_limits_are_inclusive(tmp_path: Path, count: int) -> None:
    path = write_variant(tmp_path, _set(CHECK_IN, "instructions", ["Do it."] * count))
    assert len(load(path).get(CHECK_IN).instructions) == count


@pytest.mark.parametrize(("times", "duration"), [(1, 1), (7, 240)])
def test_numeric_limits_are_inclusive(tmp_path: Path, times: int, duration: int) -> None:
    def mutate(data: dict[str, Any]) -> None:
        find(data, WEEKLY)["times_per_week"] = times
        find(data, WEEKLY)["duration_minutes"] = duration

    exercise = load(write_variant(tmp_path, mutate)).get(WEEKLY)
    assert (exercise.times_per_week, exercise.duration_minutes) == (times, duration)


def test_surrounding_whitespace_is_trimmed(tmp_path: Path) -> None:
    def mutate(data: dict[str, Any]) -> None:
        first(data)["title"] = "  Padded title \n"
        first(data)["instructions"][0] = "\n  Padded step. "

    exercise = load(write_variant(tmp_path, mutate)).exercises[0]
    assert exercise.title == "Padded title"
    assert exercise.instructions[0] == "Padded step."


def test_steps_are_checked_against_the_given_taxonomy(tmp_path: Path) -> None:
    # A taxonomy that has retired a step the library still uses.
    tax = taxonomy.load()
    retired = "celebrate_progress"
    smaller = dataclasses.replace(
        tax,
        steps=tuple(s for s in tax.steps if s.slug != retired),
        links=tuple(link for link in tax.links if link.step != retired),
    )
    with pytest.raises(LibraryError, match=f"unknown healing step {retired!r}"):
        load(taxonomy=smaller)


def test_invalid_toml_is_a_library_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("library_version = \n", encoding="utf-8")
    with pytest.raises(LibraryError, match="not valid TOML"):
        load(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load(tmp_path / "nope.toml")


def test_non_table_exercise_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "odd.toml"
    path.write_text('library_version = "x"\nexercises = ["daily_check_in"]\n', encoding="utf-8")
    with pytest.raises(LibraryError, match=r"exercises\[1\]: expected a table"):
        load(path)
