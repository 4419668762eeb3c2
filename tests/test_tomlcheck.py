"""The shared checker for the package's TOML data (reconnect_clinic.tomlcheck)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from reconnect_clinic.tomlcheck import TOP, CheckError, Field, Schema, by_key, check, load

ENTRY = Schema(
    {
        "slug": Field("text", strip=False, pattern=re.compile(r"[a-z_]+"), pattern_hint="snake"),
        "title": Field("text"),
        "count": Field("integer", minimum=1, maximum=7),
        "mode": Field("text", choices=("together", "individual")),
        "flag": Field("boolean", False, default=False),
        "notes": Field("list", max_items=2),
        "tags": Field("list", False, default=(), min_items=0, unique=True),
        "extra": Field("text", False, default="", hint="leave it out if not needed"),
    },
    label=by_key("slug"),
)
TOP_SCHEMA = Schema({"version": Field("text"), "entries": Field("tables", schema=ENTRY)})


class OwnError(CheckError):
    pass


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "slug": "first",
        "title": " A title ",
        "count": 3,
        "mode": "together",
        "notes": ["one"],
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def _problem(entry: dict[str, Any]) -> str:
    with pytest.raises(CheckError) as excinfo:
        check({"version": "1", "entries": [entry]}, TOP_SCHEMA)
    return str(excinfo.value)


def test_checked_values_are_cleaned_and_defaults_filled() -> None:
    top = check({"version": "1", "entries": [_entry()]}, TOP_SCHEMA)
    entry = top["entries"][0]
    assert entry["title"] == "A title"
    assert entry["flag"] is False
    assert entry["tags"] == ()
    assert entry["notes"] == ("one",)
    assert entry.where == "entries[1] 'first'"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry(title=None), "entries[1] 'first': field 'title' is missing"),
        (_entry(title="  "), "entries[1] 'first': field 'title' must be text, not blank"),
        (_entry(title=7), "entries[1] 'first': field 'title' must be text, got an integer"),
        (_entry(slug="Bad"), "entries[1] 'Bad': field 'slug' is 'Bad'; it must be snake"),
        (
            _entry(slug="first\n"),
            "entries[1] 'first': field 'slug' is 'first\\n'; it must be snake",
        ),
        (_entry(count=True), "entries[1] 'first': field 'count' must be an integer, got a boolean"),
        (_entry(count=8), "entries[1] 'first': field 'count' is 8; it must be 1 to 7"),
        (
            _entry(mode="both"),
            "entries[1] 'first': field 'mode' is 'both'; expected one of 'together', 'individual'",
        ),
        (
            _entry(flag="yes"),
            "entries[1] 'first': field 'flag' must be true or false, got a string",
        ),
        (_entry(notes=[]), "entries[1] 'first': field 'notes' is empty"),
        (_entry(notes="one"), "entries[1] 'first': field 'notes' must be a list, got a string"),
        (
            _entry(notes=["a", "b", "c"]),
            "entries[1] 'first': field 'notes' has 3 entries; at most 2",
        ),
        (
            _entry(notes=["a", 2]),
            "entries[1] 'first': field 'notes' entry 2 must be text, got an integer",
        ),
        (_entry(tags=["a", "a"]), "entries[1] 'first': field 'tags' names 'a' twice"),
        (
            _entry(extra=" "),
            "entries[1] 'first': field 'extra' must be text, not blank "
            "(leave it out if not needed)",
        ),
        (_entry(titel="x"), "entries[1] 'first': unknown field(s) 'titel'"),
        ("first", "entries[1]: expected a table, got a string"),
    ],
)
def test_each_problem_is_named_with_its_table_and_field(entry: Any, message: str) -> None:
    assert _problem(entry) == message


def test_top_level_problems_say_top_level() -> None:
    with pytest.raises(CheckError) as excinfo:
        check({"entries": [_entry()]}, TOP_SCHEMA)
    assert str(excinfo.value) == "top level: field 'version' is missing"
    assert excinfo.value.where == TOP


def test_nested_tables_name_their_whole_path() -> None:
    inner = Schema({"id": Field("text")}, label=by_key("id"))
    outer = Schema(
        {"slug": Field("text"), "items": Field("tables", schema=inner)}, label=by_key("slug")
    )
    schema = Schema({"signs": Field("tables", schema=outer)})
    with pytest.raises(CheckError) as excinfo:
        check({"signs": [{"slug": "s", "items": [{"id": "s.1", "x": 1}]}]}, schema)
    assert str(excinfo.value) == "signs[1] 's' items[1] 's.1': unknown field(s) 'x'"


def test_list_length_bounds_say_what_is_needed() -> None:
    schema = Schema({"items": Field("list", min_items=2, max_items=4)})
    with pytest.raises(CheckError, match="'items' has 1 entry; it needs 2 to 4"):
        check({"items": ["a"]}, schema)
    with pytest.raises(CheckError, match="'items' has 5 entries; it needs 2 to 4"):
        check({"items": ["a"] * 5}, schema)


def test_a_table_of_tables_checks_each_name_and_table() -> None:
    schema = Schema(
        {
            "countries": Field(
                "table_map",
                schema=Schema({"name": Field("text")}),
                pattern=re.compile(r"[A-Z]{2}"),
                pattern_hint="two capital letters",
            )
        }
    )
    top = check({"countries": {"GB": {"name": "United Kingdom"}}}, schema)
    assert top["countries"]["GB"]["name"] == "United Kingdom"
    assert top["countries"]["GB"].where == "countries.GB"
    with pytest.raises(CheckError) as excinfo:
        check({"countries": {"gb": {"name": "x"}}}, schema)
    assert str(excinfo.value) == "countries.gb: the name 'gb' must be two capital letters"
    with pytest.raises(CheckError, match=r"^countries.GB: field 'name' is missing$"):
        check({"countries": {"GB": {}}}, schema)


def test_extra_keys_may_be_allowed() -> None:
    schema = Schema({"slug": Field("text")}, extra=True)
    assert dict(check({"slug": "a", "later": 1}, schema).values) == {"slug": "a"}


def test_the_error_type_is_the_callers() -> None:
    with pytest.raises(OwnError, match="field 'version' is missing"):
        check({}, TOP_SCHEMA, error=OwnError)


def test_load_names_the_file_in_every_message() -> None:
    def parse(data: dict[str, Any]) -> Any:
        return check(data, TOP_SCHEMA)

    source = io.BytesIO(b'version = "1"\n')
    with pytest.raises(OwnError) as excinfo:
        load(source, "data/x.toml", parse, OwnError)
    assert str(excinfo.value) == "data/x.toml: top level: field 'entries' is missing"
    assert excinfo.value.source == "data/x.toml"


def test_load_says_the_file_is_not_toml() -> None:
    with pytest.raises(OwnError, match=r"^data/x.toml: not valid TOML: "):
        load(io.BytesIO(b"version = \n"), "data/x.toml", lambda data: data, OwnError)


def test_a_loaders_own_rule_gets_the_file_too() -> None:
    def parse(data: dict[str, Any]) -> Any:
        raise OwnError("'b' has number 3, expected 2", where="steps")

    with pytest.raises(OwnError) as excinfo:
        load(io.BytesIO(b""), "data/x.toml", parse, OwnError)
    assert str(excinfo.value) == "data/x.toml: steps: 'b' has number 3, expected 2"
