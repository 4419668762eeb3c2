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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any, Literal, cast, get_args

from .. import taxonomy as _taxonomy
from ..risk.core import CONTRAINDICATION_TAGS
from ..tomlcheck import CheckError, Field, Schema, Table, by_key, check
from ..tomlcheck import load as load_toml

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

# The shape of the file (see reconnect_clinic.tomlcheck). Unknown keys are rejected so that a
# misspelt field (``therapist_notes``) fails loudly instead of silently dropping text a
# clinician was meant to see.
_EXERCISE = Schema(
    {
        "slug": Field(
            "text",
            pattern=_SLUG_RE,
            pattern_hint="snake_case (lowercase letters, digits, underscores, starting with "
            "a letter)",
        ),
        "step": Field("text"),
        "title": Field("text"),
        "purpose": Field("text"),
        "mode": Field("text", choices=MODES),
        "frequency": Field("text", choices=FREQUENCIES),
        # Its bounds depend on the frequency: checked in _exercise.
        "times_per_week": Field("integer"),
        "duration_minutes": Field("integer", minimum=1, maximum=MAX_DURATION_MINUTES),
        "instructions": Field("list", item=Field("text"), max_items=MAX_INSTRUCTIONS),
        "reflection_prompts": Field("list", item=Field("text"), max_items=MAX_REFLECTION_PROMPTS),
        "therapist_note": Field("text"),
        # Required (an empty list is a decision too); its tags are checked in
        # _contraindications.
        "contraindications": Field("any", hint="use [] for none"),
        "privacy": Field("text", False, default="", hint="leave it out if not needed"),
    },
    label=by_key("slug"),
)
_LIBRARY = Schema(
    {"library_version": Field("text"), "exercises": Field("tables", schema=_EXERCISE)}
)
# A snapshot is a historical record: only its shape is checked, keys added by later versions
# are ignored, and fields later editions added read as empty when a snapshot predates them.
_ANY_TEXT = Field("text", blank=True, strip=False)
_ANY_TEXT_LIST = Field("list", item=_ANY_TEXT, min_items=0)
_SNAPSHOT = Schema(
    {
        "library_version": _ANY_TEXT,
        "slug": _ANY_TEXT,
        "step": _ANY_TEXT,
        "title": _ANY_TEXT,
        "purpose": _ANY_TEXT,
        "mode": _ANY_TEXT,
        "frequency": _ANY_TEXT,
        "times_per_week": Field("integer"),
        "duration_minutes": Field("integer"),
        "instructions": _ANY_TEXT_LIST,
        "reflection_prompts": _ANY_TEXT_LIST,
        "therapist_note": _ANY_TEXT,
        "contraindications": Field("list", False, default=(), item=_ANY_TEXT, min_items=0),
        "privacy": Field("text", False, default="", blank=True, strip=False),
    },
    extra=True,
)


class LibraryError(CheckError):
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
        values = check(
            snapshot, _SNAPSHOT, where=f"snapshot {snapshot.get('slug')!r}", error=LibraryError
        )
        return cls(
            slug=values["slug"],
            step=values["step"],
            title=values["title"],
            purpose=values["purpose"],
            mode=values["mode"],
            frequency=values["frequency"],
            times_per_week=values["times_per_week"],
            duration_minutes=values["duration_minutes"],
            instructions=values["instructions"],
            reflection_prompts=values["reflection_prompts"],
            therapist_note=values["therapist_note"],
            library_version=values["library_version"],
            contraindications=values["contraindications"],
            privacy=values["privacy"],
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


def _load_stream(fh: IO[bytes], name: str, tax: _taxonomy.Taxonomy) -> Library:
    return load_toml(fh, name, lambda data: _parse(data, tax), LibraryError)


def _parse(data: Mapping[str, Any], tax: _taxonomy.Taxonomy) -> Library:
    top = check(data, _LIBRARY, error=LibraryError)
    version = top["library_version"]
    known_steps = {step.slug for step in tax.steps}
    exercises: list[Exercise] = []
    seen: set[str] = set()
    for number, table in enumerate(top["exercises"], start=1):
        exercise = _exercise(table, version, known_steps)
        if exercise.slug in seen:
            raise LibraryError(f"duplicate slug {exercise.slug!r}", where=f"exercises[{number}]")
        seen.add(exercise.slug)
        exercises.append(exercise)

    # Every step must offer at least one exercise, otherwise a therapist could be pointed at
    # a step by intake results and then find nothing to assign for it.
    covered = {exercise.step for exercise in exercises}
    for step in tax.steps:
        if step.slug not in covered:
            raise LibraryError(f"healing step {step.slug!r} has no exercise")

    return Library(version=version, exercises=tuple(exercises))


def _exercise(table: Table, version: str, known_steps: set[str]) -> Exercise:
    """An exercise from its checked table, with the rules that span fields or the taxonomy."""
    where = table.where
    step = table["step"]
    if step not in known_steps:
        raise LibraryError(f"field 'step' names unknown healing step {step!r}", where=where)
    times_per_week = table["times_per_week"]
    if table["frequency"] == "weekly":
        if not 1 <= times_per_week <= 7:
            raise LibraryError(
                f"field 'times_per_week' is {times_per_week}; a weekly exercise needs 1 to 7",
                where=where,
            )
    elif times_per_week != 0:
        raise LibraryError(
            f"field 'times_per_week' is {times_per_week}; it must be 0 unless "
            "frequency is 'weekly'",
            where=where,
        )
    return Exercise(
        slug=table["slug"],
        step=step,
        title=table["title"],
        purpose=table["purpose"],
        mode=cast(Mode, table["mode"]),  # checked against MODES by the schema
        frequency=cast(Frequency, table["frequency"]),  # and against FREQUENCIES
        times_per_week=times_per_week,
        duration_minutes=table["duration_minutes"],
        instructions=table["instructions"],
        reflection_prompts=table["reflection_prompts"],
        therapist_note=table["therapist_note"],
        library_version=version,
        contraindications=_contraindications(table["contraindications"], table["mode"], where),
        privacy=table["privacy"],
    )


def _contraindications(value: object, mode: str, where: str) -> tuple[str, ...]:
    """The exercise's contraindication tags: a list (an empty one is a decision too) of
    known tags, none twice, and ``ipv`` on every joint exercise."""
    if not isinstance(value, list):
        raise LibraryError(
            "field 'contraindications' is missing or not a list (use [] for none)", where=where
        )
    known = ", ".join(map(repr, sorted(CONTRAINDICATIONS)))
    for tag in value:
        if tag not in CONTRAINDICATIONS:
            raise LibraryError(
                f"field 'contraindications' has unknown tag {tag!r}; expected {known}",
                where=where,
            )
    if len(set(value)) != len(value):
        raise LibraryError("field 'contraindications' names a tag twice", where=where)
    if mode == "together" and _JOINT_RULED_OUT_BY not in value:
        raise LibraryError(
            f"a joint exercise must carry the {_JOINT_RULED_OUT_BY!r} "
            "contraindication (no joint work while a partner may be unsafe)",
            where=where,
        )
    return tuple(value)
