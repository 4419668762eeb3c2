"""The built-in library of homework exercises, one or more for every healing step.

Therapists assign homework from this library. Each exercise belongs to one healing step of
the taxonomy (by slug), and when it is assigned a full snapshot of it
(:meth:`Exercise.as_snapshot`) is stored with the assignment, so that rewording the library
later never changes what a client already received.

The exercises live in one data file (``data/exercises.toml``) that is checked against the
taxonomy when it is loaded. A misspelt step slug, a missing field or a healing step with no
exercise should stop the application at start-up, not leave a therapist with a gap or a
broken assignment later on.

Use :func:`load` with no arguments to get the packaged library. It is parsed once per process
and then shared, which is safe because every object here is immutable.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast, get_args

from .. import taxonomy as _taxonomy
from ..risk.core import CONTRAINDICATION_TAGS

__all__ = [
    "CONTRAINDICATIONS",
    "CONTRAINDICATION_LABELS",
    "Exercise",
    "Frequency",
    "Library",
    "LibraryError",
    "Mode",
    "load",
]

Mode = Literal["together", "individual"]
Frequency = Literal["once", "daily", "weekly"]

MODES: tuple[str, ...] = get_args(Mode)
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

#: Bounds the loader enforces. They are deliberately looser than the editorial guidance in the
#: data file (3-7 instructions, 2-4 prompts): they catch data that is plainly broken, while
#: leaving room for an exercise that genuinely needs one more step.
MAX_DURATION_MINUTES = 240
MAX_INSTRUCTIONS = 12
MAX_REFLECTION_PROMPTS = 6

#: The contraindication tags an exercise may carry, one per kind of risk
#: (``reconnect_clinic.risk.CONTRAINDICATION_TAGS``): an exercise tagged with one is not
#: suggested, nor assigned without a therapist's written override, while that kind of
#: risk is open or acknowledged for either partner.
CONTRAINDICATIONS: frozenset[str] = frozenset(CONTRAINDICATION_TAGS.values())
#: How the therapist's pages name each tag.
CONTRAINDICATION_LABELS: Mapping[str, str] = {
    "ipv": "a safety concern at home (fear, violence, control or threats)",
    "self_harm": "thoughts of self-harm",
    "active_affair": "an affair still going on",
}
# Joint work puts the partners in a room (or a conversation) together and asks each to
# open up to the other: never while one of them may be in danger from the other.
_JOINT_RULED_OUT_BY = "ipv"

_SLUG_RE = re.compile(r"[a-z][a-z0-9_]*")
_DEFAULT_FILE = "exercises.toml"

# Unknown keys are rejected so that a misspelt field (``therapist_notes``) fails loudly
# instead of silently dropping text a clinician was meant to see.
_TOP_KEYS = frozenset({"library_version", "exercises"})
_EXERCISE_KEYS = frozenset(
    {
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
)
# Fields later editions added: a snapshot stored before them reads them as empty.
_OPTIONAL_SNAPSHOT_KEYS = frozenset({"contraindications", "privacy"})
_SNAPSHOT_TEXT_KEYS = (
    "library_version",
    "slug",
    "step",
    "title",
    "purpose",
    "mode",
    "frequency",
    "therapist_note",
)


class LibraryError(ValueError):
    """The exercise library data is malformed or does not fit the taxonomy.

    The message always names the exercise slug (or its position) and the field at fault, so
    whoever edits the data file can find the problem without reading this module.
    """


@dataclass(frozen=True, slots=True)
class Exercise:
    """One homework exercise, as written in the library.

    ``mode`` says whether the partners do it jointly ("together") or each on their own
    ("individual"). ``frequency`` and ``times_per_week`` are suggestions the therapist can
    adjust when assigning; ``times_per_week`` is only meaningful for "weekly" and is 0
    otherwise. ``therapist_note`` is for the clinician and is never shown to clients.

    ``library_version`` records which edition of the library the text comes from. It is
    keyword-only so the clinical fields keep their natural positional order, and it travels
    with every snapshot so a stored assignment can always say where its wording came from.

    ``contraindications`` are the kinds of risk (tags of :data:`CONTRAINDICATIONS`) during
    which the exercise must not be given without a therapist's written override.
    ``privacy`` is advice for the partner on keeping what they write private (where to
    keep it, that they need not share it); empty for exercises that involve no writing.
    """

    slug: str
    step: str
    title: str
    purpose: str
    mode: Mode
    frequency: Frequency
    times_per_week: int
    duration_minutes: int
    instructions: tuple[str, ...]
    reflection_prompts: tuple[str, ...]
    therapist_note: str
    library_version: str = field(kw_only=True)
    contraindications: tuple[str, ...] = field(default=(), kw_only=True)
    privacy: str = field(default="", kw_only=True)

    def as_snapshot(self) -> dict[str, Any]:
        """Return a plain, JSON-ready copy of every field, for storing with an assignment.

        The assignment keeps this dict rather than a reference to the library, so later edits
        to the library never change what a client received. Sequences become lists because
        JSON has no tuples.
        """
        return {
            "library_version": self.library_version,
            "slug": self.slug,
            "step": self.step,
            "title": self.title,
            "purpose": self.purpose,
            "mode": self.mode,
            "frequency": self.frequency,
            "times_per_week": self.times_per_week,
            "duration_minutes": self.duration_minutes,
            "instructions": list(self.instructions),
            "reflection_prompts": list(self.reflection_prompts),
            "therapist_note": self.therapist_note,
            "contraindications": list(self.contraindications),
            "privacy": self.privacy,
        }

    def ruled_out_by(self, tags: Iterable[str]) -> frozenset[str]:
        """Which of ``tags`` (those a couple's risks rule out) this exercise carries."""
        return frozenset(self.contraindications).intersection(tags)

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> Exercise:
        """Rebuild an exercise from a dict made by :meth:`as_snapshot`.

        This only checks the snapshot's shape, not the library's rules or the current
        taxonomy: a snapshot is a historical record, and it must stay readable even after
        its step has been retired or the library's limits have changed. Keys added by later
        versions are ignored for the same reason. Raises LibraryError naming a missing or
        wrongly typed field.
        """
        where = f"snapshot {snapshot.get('slug')!r}"
        required = (_EXERCISE_KEYS | {"library_version"}) - _OPTIONAL_SNAPSHOT_KEYS
        missing = sorted(required - set(snapshot))
        if missing:
            raise LibraryError(f"{where}: missing field(s) {', '.join(map(repr, missing))}")
        for key in ("times_per_week", "duration_minutes"):
            if not _is_int(snapshot[key]):
                raise LibraryError(f"{where}: field {key!r} must be an integer")
        for key in ("instructions", "reflection_prompts"):
            value = snapshot[key]
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise LibraryError(f"{where}: field {key!r} must be a list of strings")
        for key in _SNAPSHOT_TEXT_KEYS:
            if not isinstance(snapshot[key], str):
                raise LibraryError(f"{where}: field {key!r} must be a string")
        tags = snapshot.get("contraindications", [])
        if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
            raise LibraryError(f"{where}: field 'contraindications' must be a list of strings")
        privacy = snapshot.get("privacy", "")
        if not isinstance(privacy, str):
            raise LibraryError(f"{where}: field 'privacy' must be a string")
        return cls(
            slug=snapshot["slug"],
            step=snapshot["step"],
            title=snapshot["title"],
            purpose=snapshot["purpose"],
            mode=snapshot["mode"],
            frequency=snapshot["frequency"],
            times_per_week=snapshot["times_per_week"],
            duration_minutes=snapshot["duration_minutes"],
            instructions=tuple(snapshot["instructions"]),
            reflection_prompts=tuple(snapshot["reflection_prompts"]),
            therapist_note=snapshot["therapist_note"],
            library_version=snapshot["library_version"],
            contraindications=tuple(tags),
            privacy=privacy,
        )


@dataclass(frozen=True, slots=True)
class Library:
    """All exercises of one library version, with lookups by exercise slug and healing step.

    Constructing one checks that exercise slugs are unique and that every exercise carries
    this library's version, so any ``Library`` you hold can be looked up safely. Field-level
    checks and the check against the taxonomy happen in :func:`load`.
    """

    version: str
    exercises: tuple[Exercise, ...]

    _index: dict[str, Exercise] = field(init=False, repr=False, compare=False)
    _by_step: dict[str, tuple[Exercise, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Exercise] = {}
        by_step: dict[str, list[Exercise]] = {}
        for exercise in self.exercises:
            if exercise.slug in index:
                raise LibraryError(f"duplicate exercise slug {exercise.slug!r}")
            if exercise.library_version != self.version:
                raise LibraryError(
                    f"exercise {exercise.slug!r} has library_version "
                    f"{exercise.library_version!r}, expected {self.version!r}"
                )
            index[exercise.slug] = exercise
            by_step.setdefault(exercise.step, []).append(exercise)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_by_step", {k: tuple(v) for k, v in by_step.items()})

    def get(self, slug: str) -> Exercise:
        """Return the exercise with this slug.

        Raises KeyError rather than returning None, because an unknown slug almost always
        means a stored assignment refers to a retired or misspelt exercise.
        """
        try:
            return self._index[slug]
        except KeyError:
            raise KeyError(
                f"no exercise with slug {slug!r} in homework library {self.version}"
            ) from None

    def for_step(self, step_slug: str) -> tuple[Exercise, ...]:
        """The exercises for a healing step, in file order.

        Raises KeyError for a step with no exercises: a loaded library covers every step of
        its taxonomy, so an empty answer could only hide a typo or a retired step.
        """
        try:
            return self._by_step[step_slug]
        except KeyError:
            raise KeyError(
                f"no exercises for healing step {step_slug!r} in homework library {self.version}"
            ) from None

    @property
    def steps_covered(self) -> frozenset[str]:
        """The slugs of every healing step that has at least one exercise."""
        return frozenset(self._by_step)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load(
    path: str | os.PathLike[str] | None = None,
    taxonomy: _taxonomy.Taxonomy | None = None,
) -> Library:
    """Load and validate an exercise library file against a taxonomy.

    With no arguments the packaged ``exercises.toml`` is checked against the packaged
    taxonomy. That result is cached for the life of the process, so ``load() is load()`` and
    callers never need to cache it themselves. An explicit ``path`` or ``taxonomy`` is always
    read fresh, which is what tests and tooling for drafting a new library want.

    Raises LibraryError (naming the file and the offending slug or field) if the data is
    invalid or does not fit the taxonomy, and OSError if the file cannot be read.
    """
    if path is None and taxonomy is None:
        return _load_default()
    tax = taxonomy if taxonomy is not None else _taxonomy.load()
    if path is None:
        return _load_packaged(tax)
    path = Path(path)
    with path.open("rb") as fh:
        return _load_stream(fh, str(path), tax)


@functools.cache
def _load_default() -> Library:
    return _load_packaged(_taxonomy.load())


def _load_packaged(tax: _taxonomy.Taxonomy) -> Library:
    resource = resources.files(__package__) / "data" / _DEFAULT_FILE
    with resource.open("rb") as fh:
        return _load_stream(fh, f"{__package__}/data/{_DEFAULT_FILE}", tax)


def _load_stream(fh: BinaryIO, name: str, tax: _taxonomy.Taxonomy) -> Library:
    try:
        return _parse(tomllib.load(fh), tax)
    except tomllib.TOMLDecodeError as exc:
        raise LibraryError(f"{name}: not valid TOML: {exc}") from exc
    except LibraryError as exc:
        raise LibraryError(f"{name}: {exc}") from exc


def _parse(data: Mapping[str, Any], tax: _taxonomy.Taxonomy) -> Library:
    _check_keys(data, _TOP_KEYS, "top level")
    version = _text(data, "library_version", "top level")
    tables = data.get("exercises")
    if not isinstance(tables, list) or not tables:
        raise LibraryError("top level: 'exercises' is missing or empty (expected [[exercises]])")

    known_steps = {step.slug for step in tax.steps}
    exercises: list[Exercise] = []
    seen: set[str] = set()
    for number, table in enumerate(tables, start=1):
        exercise = _parse_exercise(table, f"exercises[{number}]", version, known_steps)
        if exercise.slug in seen:
            raise LibraryError(f"exercises[{number}]: duplicate slug {exercise.slug!r}")
        seen.add(exercise.slug)
        exercises.append(exercise)

    # Every step must offer at least one exercise, otherwise a therapist could be pointed at
    # a step by intake results and then find nothing to assign for it.
    covered = {exercise.step for exercise in exercises}
    for step in tax.steps:
        if step.slug not in covered:
            raise LibraryError(f"healing step {step.slug!r} has no exercise")

    return Library(version=version, exercises=tuple(exercises))


def _parse_exercise(table: Any, label: str, version: str, known_steps: set[str]) -> Exercise:
    if not isinstance(table, dict):
        raise LibraryError(f"{label}: expected a table, got {type(table).__name__}")
    slug = table.get("slug")
    where = f"{label} {slug!r}" if isinstance(slug, str) and slug else label
    _check_keys(table, _EXERCISE_KEYS, where)

    slug = _text(table, "slug", where)
    if not _SLUG_RE.fullmatch(slug):
        raise LibraryError(
            f"{where}: slug {slug!r} must be snake_case (lowercase letters, digits, "
            "underscores, starting with a letter)"
        )
    step = _text(table, "step", where)
    if step not in known_steps:
        raise LibraryError(f"{where}: field 'step' names unknown healing step {step!r}")

    mode = _choice(table, "mode", MODES, where)
    frequency = _choice(table, "frequency", FREQUENCIES, where)

    times_per_week = _integer(table, "times_per_week", where)
    if frequency == "weekly":
        if not 1 <= times_per_week <= 7:
            raise LibraryError(
                f"{where}: field 'times_per_week' is {times_per_week}; a weekly exercise "
                "needs 1 to 7"
            )
    elif times_per_week != 0:
        raise LibraryError(
            f"{where}: field 'times_per_week' is {times_per_week}; it must be 0 unless "
            "frequency is 'weekly'"
        )

    duration = _integer(table, "duration_minutes", where)
    if not 1 <= duration <= MAX_DURATION_MINUTES:
        raise LibraryError(
            f"{where}: field 'duration_minutes' is {duration}; it must be 1 to "
            f"{MAX_DURATION_MINUTES}"
        )
    contraindications = _contraindications(table, mode, where)
    privacy = table.get("privacy", "")
    if not isinstance(privacy, str) or ("privacy" in table and not privacy.strip()):
        raise LibraryError(f"{where}: field 'privacy' must be text (leave it out if not needed)")

    return Exercise(
        slug=slug,
        step=step,
        title=_text(table, "title", where),
        purpose=_text(table, "purpose", where),
        mode=cast(Mode, mode),  # checked against MODES above
        frequency=cast(Frequency, frequency),  # checked against FREQUENCIES above
        times_per_week=times_per_week,
        duration_minutes=duration,
        instructions=_text_list(table, "instructions", MAX_INSTRUCTIONS, where),
        reflection_prompts=_text_list(table, "reflection_prompts", MAX_REFLECTION_PROMPTS, where),
        therapist_note=_text(table, "therapist_note", where),
        library_version=version,
        contraindications=contraindications,
        privacy=privacy.strip(),
    )


def _contraindications(table: Mapping[str, Any], mode: str, where: str) -> tuple[str, ...]:
    """The exercise's contraindication tags: required (an empty list is a decision too),
    each a known tag, none twice, and ``ipv`` on every joint exercise."""
    value = table.get("contraindications")
    if not isinstance(value, list):
        raise LibraryError(
            f"{where}: field 'contraindications' is missing or not a list (use [] for none)"
        )
    known = ", ".join(map(repr, sorted(CONTRAINDICATIONS)))
    for tag in value:
        if tag not in CONTRAINDICATIONS:
            raise LibraryError(
                f"{where}: field 'contraindications' has unknown tag {tag!r}; expected {known}"
            )
    if len(set(value)) != len(value):
        raise LibraryError(f"{where}: field 'contraindications' names a tag twice")
    if mode == "together" and _JOINT_RULED_OUT_BY not in value:
        raise LibraryError(
            f"{where}: a joint exercise must carry the {_JOINT_RULED_OUT_BY!r} "
            "contraindication (no joint work while a partner may be unsafe)"
        )
    return tuple(value)


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise LibraryError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    """A required, non-blank string; surrounding whitespace is dropped."""
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LibraryError(f"{where}: field {key!r} is missing or empty")
    return value.strip()


def _choice(table: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = _text(table, key, where)
    if value not in allowed:
        raise LibraryError(
            f"{where}: field {key!r} is {value!r}; expected one of {', '.join(map(repr, allowed))}"
        )
    return value


def _is_int(value: object) -> bool:
    # bool is a subclass of int, but ``times_per_week = true`` is a mistake, not a number.
    return isinstance(value, int) and not isinstance(value, bool)


def _integer(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise LibraryError(f"{where}: field {key!r} is missing or not an integer")
    return value


def _text_list(table: Mapping[str, Any], key: str, maximum: int, where: str) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not value:
        raise LibraryError(f"{where}: field {key!r} is missing or empty")
    if len(value) > maximum:
        raise LibraryError(f"{where}: field {key!r} has {len(value)} entries; at most {maximum}")
    entries = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, str) or not entry.strip():
            raise LibraryError(f"{where}: field {key!r} entry {number} is empty or not text")
        entries.append(entry.strip())
    return tuple(entries)
