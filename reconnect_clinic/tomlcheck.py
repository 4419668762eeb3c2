"""One checker for the package's data files (and the settings shaped like them).

The taxonomy, the homework library and the crisis resources are TOML files whose mistakes
must stop start-up with a message an editor can act on. Each loader declares the shape of
its tables as a :class:`Schema` of :class:`Field` s; :func:`check` walks the data against it
and returns the cleaned values, or raises :class:`CheckError` naming where the problem is (the
file, the table path such as ``signs[2] 'emotional_distance' items[1]``, and the field) and
what it is. Rules that need more than one field or another file (numbering, links, the
taxonomy's steps) stay in the loaders, which raise the same error type.

::

    EXERCISE = Schema(
        {"slug": Field("text", pattern=SLUG, pattern_hint="snake_case"),
         "minutes": Field("integer", minimum=1, maximum=240)},
        label=by_key("slug"),
    )
    values = check(table, EXERCISE, where="exercises[1]", error=LibraryError)
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal, TypeVar

__all__ = ["TOP", "CheckError", "Field", "Schema", "Table", "by_key", "check", "load"]

T = TypeVar("T")

#: The ``where`` of a file's top-level table.
TOP = "top level"

Kind = Literal["text", "integer", "boolean", "list", "tables", "table_map", "any"]


class CheckError(ValueError):
    """Data does not fit its schema, or breaks a rule of its loader.

    ``source`` names the file (or setting), ``where`` the table, ``problem`` what is wrong;
    ``str()`` joins those that are given with ": ". The loaders' own errors
    (``TaxonomyError``, ``LibraryError``, ``CrisisResourceError``) are subclasses.
    """

    def __init__(self, problem: str, *, where: str = "", source: str = "") -> None:
        self.problem = problem
        self.where = where
        self.source = source
        super().__init__(": ".join(part for part in (source, where, problem) if part))


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a table.

    ``kind`` is what the value must be:

    - ``"text"``: a non-blank string (``blank=True`` allows ""), stripped unless
      ``strip=False`` (identifiers are kept exactly as written, so a stray newline fails
      their ``pattern`` instead of vanishing); ``choices`` or ``pattern`` restrict it;
    - ``"integer"`` (never a boolean) within ``minimum``..``maximum``;
    - ``"boolean"``;
    - ``"list"`` of ``item`` (another Field, by default text), ``min_items``..``max_items``
      long, ``unique`` if no entry may repeat; returned as a tuple;
    - ``"tables"``: a list of tables of ``schema``, returned as a tuple of :class:`Table`;
    - ``"table_map"``: a table of tables of ``schema`` whose names match ``pattern``,
      returned as a dict of :class:`Table`;
    - ``"any"``: present (if required), left for the loader to check.

    An optional field that is left out takes ``default``. ``hint`` is added, in brackets, to
    every message about the field.
    """

    kind: Kind
    required: bool = True
    default: Any = None
    blank: bool = False
    strip: bool = True
    choices: Collection[str] | None = None
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""
    minimum: int | None = None
    maximum: int | None = None
    item: Field | None = None
    min_items: int = 1
    max_items: int | None = None
    unique: bool = False
    schema: Schema | None = None
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Schema:
    """The fields a table may hold. Keys not listed are refused (a misspelt optional key
    must fail loudly, not silently change the meaning of the data) unless ``extra=True``.
    ``label`` names an entry from its raw table (e.g. its slug), so messages can point at
    it; see :func:`by_key`."""

    fields: Mapping[str, Field]
    extra: bool = False
    label: Callable[[Mapping[str, Any]], str] | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A checked table: its cleaned values by key, and where it is, for later messages."""

    where: str
    values: Mapping[str, Any] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def by_key(*keys: str) -> Callable[[Mapping[str, Any]], str]:
    """A label: the repr of the first of ``keys`` that holds non-blank text, else ""."""

    def label(table: Mapping[str, Any]) -> str:
        for key in keys:
            value = table.get(key)
            if isinstance(value, str) and value.strip():
                return repr(value.strip())
        return ""

    return label


def load(
    handle: IO[bytes],
    source: str,
    parse: Callable[[dict[str, Any]], T],
    error: type[CheckError] = CheckError,
) -> T:
    """Parse TOML from ``handle`` and hand it to ``parse``; any CheckError (or invalid
    TOML) comes out as ``error`` with ``source`` (the file's name) in front."""
    try:
        data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"not valid TOML: {exc}", source=source) from exc
    try:
        return parse(data)
    except CheckError as exc:
        if exc.source:
            raise
        raise error(exc.problem, where=exc.where, source=source) from exc


def check(
    data: object,
    schema: Schema,
    *,
    where: str = TOP,
    error: type[CheckError] = CheckError,
) -> Table:
    """Check one table against ``schema``; return its cleaned values.

    The schema's label, if it finds one, is added to ``where``. Raises ``error`` (naming
    ``where``, then the field) at the first problem.
    """
    if not isinstance(data, Mapping):
        raise error(f"expected a table, got {_kind_of(data)}", where=where)
    name = schema.label(data) if schema.label else ""
    if name:
        where = f"{where} {name}"
    if not schema.extra:
        unknown = sorted(set(data) - set(schema.fields))
        if unknown:
            raise error(f"unknown field(s) {', '.join(map(repr, unknown))}", where=where)
    values: dict[str, Any] = {}
    for key, spec in schema.fields.items():
        if key not in data:
            if spec.required:
                raise error(_say(f"field {key!r}", "is missing", spec), where=where)
            values[key] = spec.default
            continue
        values[key] = _value(data[key], key, f"field {key!r}", spec, where, error)
    return Table(where, values)


def _value(
    value: object, key: str, name: str, spec: Field, where: str, error: type[CheckError]
) -> Any:
    """Check one value; ``name`` is how messages name it ("field 'x'", "field 'x' entry 2")."""

    def fail(problem: str) -> CheckError:
        return error(_say(name, problem, spec), where=where)

    kind = spec.kind
    if kind == "any":
        return value
    if kind == "text":
        if not isinstance(value, str):
            raise fail(f"must be text, got {_kind_of(value)}")
        text = value.strip() if spec.strip else value
        if not value.strip() and not spec.blank:
            raise fail("must be text, not blank")
        if spec.choices is not None and text not in spec.choices:
            raise fail(f"is {text!r}; expected one of {', '.join(map(repr, spec.choices))}")
        if spec.pattern is not None and text and not spec.pattern.fullmatch(text):
            raise fail(f"is {text!r}; it must be {spec.pattern_hint or spec.pattern.pattern}")
        return text
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(f"must be an integer, got {_kind_of(value)}")
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise fail(f"is {value}; it must be {_range(low, high)}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise fail(f"must be true or false, got {_kind_of(value)}")
        return value
    if kind == "table_map":
        schema = _schema_of(spec)
        if not isinstance(value, Mapping):
            raise fail(f"must be a table of tables, got {_kind_of(value)}")
        tables: dict[str, Table] = {}
        for table_name, table in value.items():
            label = f"{key}.{table_name}" if where == TOP else f"{where} {key}.{table_name}"
            if spec.pattern is not None and not spec.pattern.fullmatch(table_name):
                hint = spec.pattern_hint or spec.pattern.pattern
                raise error(f"the name {table_name!r} must be {hint}", where=label)
            tables[table_name] = check(table, schema, where=label, error=error)
        return tables
    # "list" and "tables"
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        noun = "a list of tables" if kind == "tables" else "a list"
        raise fail(f"must be {noun}, got {_kind_of(value)}")
    count, low, high = len(value), spec.min_items, spec.max_items
    if count < low:
        needs = f"; it needs {_range(low, high)}" if low > 1 else ""
        raise fail(("is empty" if count == 0 else f"has {_entries(count)}") + needs)
    if high is not None and count > high:
        raise fail(
            f"has {_entries(count)}; "
            + (f"it needs {low} to {high}" if low > 1 else f"at most {high}")
        )
    if kind == "tables":
        schema = _schema_of(spec)
        return tuple(
            check(
                table,
                schema,
                where=f"{key}[{number}]" if where == TOP else f"{where} {key}[{number}]",
                error=error,
            )
            for number, table in enumerate(value, start=1)
        )
    item = spec.item or Field("text")
    entries = []
    for number, entry in enumerate(value, start=1):
        entries.append(_value(entry, key, f"{name} entry {number}", item, where, error))
    if spec.unique:
        for number, entry in enumerate(entries, start=1):
            if entry in entries[: number - 1]:
                raise fail(f"names {entry!r} twice")
    return tuple(entries)


def _schema_of(spec: Field) -> Schema:
    if spec.schema is None:
        raise TypeError(f"a {spec.kind!r} field needs a schema")
    return spec.schema


def _say(name: str, problem: str, spec: Field) -> str:
    return f"{name} {problem}" + (f" ({spec.hint})" if spec.hint else "")


def _range(low: int | None, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"{low} to {high}"


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


_KINDS: Sequence[tuple[type | tuple[type, ...], str]] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a decimal number"),
    (str, "a string"),
    ((list, tuple), "a list"),
    (Mapping, "a table"),
    ((datetime.date, datetime.time), "a date or time"),
)


def _kind_of(value: object) -> str:
    """What ``value`` is, in the words of a TOML file."""
    if value is None:
        return "nothing (None)"
    for types, name in _KINDS:
        if isinstance(value, types):
            return name
    return type(value).__name__
