"""The emotional-neglect taxonomy: signs, causes, healing steps and how they connect.

Everything else in reconnect_clinic (intake questionnaires, scoring, homework, reports) refers
to this taxonomy by slug and item id, and stores the taxonomy ``version`` next to every answer.
Because those identifiers end up in clinical records, the taxonomy lives in one data file
(``data/emotional_neglect.toml``) and is checked thoroughly when it is loaded: a typo there
should stop the application at start-up, not quietly mis-score a client's answers later.

Use :func:`load` with no argument to get the packaged taxonomy. It is parsed once per process
and then shared, which is safe because every object here is immutable.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any, Literal

from ..tomlcheck import CheckError, Field, Schema, Table, by_key, check
from ..tomlcheck import load as load_toml

__all__ = [
    "Concern",
    "ConcernKind",
    "HealingStep",
    "Item",
    "StepLink",
    "Taxonomy",
    "TaxonomyError",
    "load",
]

ConcernKind = Literal["sign", "cause"]

#: Items per sign or cause. Fewer than two makes a score too fragile to act on; more than
#: four makes intake long for people who may already feel worn out.
MIN_ITEMS = 2
MAX_ITEMS = 4

_SLUG_RE = re.compile(r"[a-z][a-z0-9_]*")
_ITEM_SUFFIX_RE = re.compile(r"[a-z0-9_]+")
_DEFAULT_FILE = "emotional_neglect.toml"

# The shape of each kind of table (see reconnect_clinic.tomlcheck). Unknown keys are rejected
# so that a misspelt optional key (``revers = true``) fails loudly instead of silently
# changing how an item scores. Identifiers keep their exact spelling (``strip=False``) so a
# stray space or newline fails the slug rule instead of vanishing.
_IDENTIFIER = Field("text", strip=False)
_SLUG = Field(
    "text",
    strip=False,
    pattern=_SLUG_RE,
    pattern_hint="snake_case (lowercase letters, digits, underscores, starting with a letter)",
)
_ITEM = Schema(
    {"id": _IDENTIFIER, "text": Field("text"), "reverse": Field("boolean", False, default=False)},
    label=by_key("id"),
)
_DESCRIBED = {
    "slug": _SLUG,
    "number": Field("integer"),
    "title": Field("text"),
    "client_description": Field("text"),
    "therapist_description": Field("text"),
}
# Fewer than two items makes a score too fragile to act on; more than four makes intake long.
_CONCERN = Schema(
    {
        **_DESCRIBED,
        "items": Field("tables", schema=_ITEM, min_items=MIN_ITEMS, max_items=MAX_ITEMS),
    },
    label=by_key("slug"),
)
_STEP = Schema(_DESCRIBED, label=by_key("slug"))


def _link_label(table: Mapping[str, Any]) -> str:
    source, step = table.get("source"), table.get("step")
    if isinstance(source, str) and isinstance(step, str):
        return f"({source!r} -> {step!r})"
    return ""


_LINK = Schema(
    {"source": _IDENTIFIER, "step": _IDENTIFIER, "rationale": Field("text")}, label=_link_label
)
_TOP = Schema(
    {
        "version": _IDENTIFIER,
        "title": Field("text"),
        "signs": Field("tables", schema=_CONCERN),
        "causes": Field("tables", schema=_CONCERN),
        "steps": Field("tables", schema=_STEP),
        "links": Field("tables", schema=_LINK),
    }
)


class TaxonomyError(CheckError):
    """The taxonomy data is malformed or inconsistent.

    The message always names the section, slug or field at fault, so whoever edits the data
    file can find the problem without reading this module.
    """


@dataclass(frozen=True, slots=True)
class Item:
    """One statement a partner rates on a never ... almost always frequency scale.

    ``id`` is stored with each answer, so it must never change once shipped. Statements are
    normally worded so that a more frequent answer means more of the concern; ``reverse`` marks
    a positively worded statement whose scale is flipped when scoring. Mixing in a few such
    statements keeps the questionnaire from reading as a list of complaints.
    """

    id: str
    text: str
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Concern:
    """A sign or a cause of emotional neglect, with the items that measure it.

    Signs and causes share one type because intake, scoring and reporting treat them the same
    way; ``kind`` says which one this is.
    """

    kind: ConcernKind
    slug: str
    number: int
    title: str
    client_description: str
    therapist_description: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class HealingStep:
    """A step couples can take toward reconnecting; homework is drawn from these."""

    slug: str
    number: int
    title: str
    client_description: str
    therapist_description: str


@dataclass(frozen=True, slots=True)
class StepLink:
    """States that healing step ``step`` helps with the sign or cause ``source``.

    The ``rationale`` is shown to therapists so a suggested step never appears without a reason.
    """

    source: str
    step: str
    rationale: str


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The whole taxonomy, with constant-time lookups by slug and item id.

    Constructing one checks that it is internally consistent (unique slugs and item ids, links
    that point at real entries, nothing left unlinked), so any ``Taxonomy`` you hold can be
    trusted by the code that uses it. Field-level checks on the raw data happen in :func:`load`.
    """

    version: str
    title: str
    signs: tuple[Concern, ...]
    causes: tuple[Concern, ...]
    steps: tuple[HealingStep, ...]
    links: tuple[StepLink, ...]

    _concerns: tuple[Concern, ...] = field(init=False, repr=False, compare=False)
    _items: tuple[Item, ...] = field(init=False, repr=False, compare=False)
    _concern_index: dict[str, Concern] = field(init=False, repr=False, compare=False)
    _step_index: dict[str, HealingStep] = field(init=False, repr=False, compare=False)
    _item_index: dict[str, Item] = field(init=False, repr=False, compare=False)
    _links_from: dict[str, tuple[StepLink, ...]] = field(init=False, repr=False, compare=False)
    _links_to: dict[str, tuple[StepLink, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        concerns = self.signs + self.causes

        # Slugs share one namespace so that a link's source or step is never ambiguous.
        owners: dict[str, str] = {}
        entries: tuple[Concern | HealingStep, ...] = (*concerns, *self.steps)
        for entry in entries:
            owner = f"{_kind_of(entry)} {entry.number}"
            if entry.slug in owners:
                raise TaxonomyError(
                    f"duplicate slug {entry.slug!r}: used by {owners[entry.slug]} and {owner}"
                )
            owners[entry.slug] = owner

        item_index: dict[str, Item] = {}
        item_owner: dict[str, str] = {}
        for concern in concerns:
            for item in concern.items:
                if item.id in item_index:
                    raise TaxonomyError(
                        f"duplicate item id {item.id!r} in {concern.kind} {concern.slug!r} "
                        f"(first used by {item_owner[item.id]})"
                    )
                item_index[item.id] = item
                item_owner[item.id] = f"{concern.kind} {concern.slug!r}"

        concern_index = {c.slug: c for c in concerns}
        step_index = {s.slug: s for s in self.steps}

        links_from: dict[str, list[StepLink]] = {slug: [] for slug in concern_index}
        links_to: dict[str, list[StepLink]] = {slug: [] for slug in step_index}
        seen_pairs: set[tuple[str, str]] = set()
        for number, link in enumerate(self.links, start=1):
            label = f"links[{number}] ({link.source!r} -> {link.step!r})"
            if link.source not in concern_index:
                raise TaxonomyError(f"{label}: unknown sign or cause {link.source!r}")
            if link.step not in step_index:
                raise TaxonomyError(f"{label}: unknown step {link.step!r}")
            if (link.source, link.step) in seen_pairs:
                raise TaxonomyError(f"{label}: {link.source!r} is linked to {link.step!r} twice")
            seen_pairs.add((link.source, link.step))
            links_from[link.source].append(link)
            links_to[link.step].append(link)

        # Every sign or cause must lead somewhere, and every step must be reachable; otherwise
        # a client could be told about a concern with no way forward, or a step could never
        # be suggested.
        for concern in concerns:
            if not links_from[concern.slug]:
                raise TaxonomyError(
                    f"{concern.kind} {concern.slug!r} is not linked to any healing step"
                )
        for step in self.steps:
            if not links_to[step.slug]:
                raise TaxonomyError(f"step {step.slug!r} is not linked from any sign or cause")

        set_ = object.__setattr__
        set_(self, "_concerns", concerns)
        set_(self, "_items", tuple(item for c in concerns for item in c.items))
        set_(self, "_concern_index", concern_index)
        set_(self, "_step_index", step_index)
        set_(self, "_item_index", item_index)
        set_(self, "_links_from", {k: tuple(v) for k, v in links_from.items()})
        set_(self, "_links_to", {k: tuple(v) for k, v in links_to.items()})

    @property
    def concerns(self) -> tuple[Concern, ...]:
        """All signs, then all causes, in file order (the order intake presents them)."""
        return self._concerns

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item of every sign, then every cause, in file order."""
        return self._items

    def concern(self, slug: str) -> Concern:
        """Return the sign or cause with this slug.

        Raises KeyError for an unknown slug rather than returning None, because a missing
        concern almost always means stored data refers to a retired or misspelt slug.
        """
        try:
            return self._concern_index[slug]
        except KeyError:
            raise KeyError(
                f"no sign or cause with slug {slug!r} in taxonomy {self.version}"
            ) from None

    def step(self, slug: str) -> HealingStep:
        """Return the healing step with this slug; KeyError if there is none."""
        try:
            return self._step_index[slug]
        except KeyError:
            raise KeyError(
                f"no healing step with slug {slug!r} in taxonomy {self.version}"
            ) from None

    def item(self, item_id: str) -> Item:
        """Return the item with this id; KeyError if there is none."""
        try:
            return self._item_index[item_id]
        except KeyError:
            raise KeyError(f"no item with id {item_id!r} in taxonomy {self.version}") from None

    def links_from(self, source_slug: str) -> tuple[StepLink, ...]:
        """The steps linked to a sign or cause, in file order.

        Raises KeyError for an unknown slug: an empty answer would hide a typo, since every
        known sign and cause has at least one link.
        """
        try:
            return self._links_from[source_slug]
        except KeyError:
            raise KeyError(
                f"no sign or cause with slug {source_slug!r} in taxonomy {self.version}"
            ) from None

    def links_to(self, step_slug: str) -> tuple[StepLink, ...]:
        """The signs and causes that point at a healing step, in file order; KeyError if unknown."""
        try:
            return self._links_to[step_slug]
        except KeyError:
            raise KeyError(
                f"no healing step with slug {step_slug!r} in taxonomy {self.version}"
            ) from None


def _kind_of(entry: Concern | HealingStep) -> str:
    return entry.kind if isinstance(entry, Concern) else "step"


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Load and validate a taxonomy file.

    With no ``path`` the packaged ``emotional_neglect.toml`` is returned. It is parsed once per
    process and the same object is handed out afterwards, so callers never need to cache it
    themselves. An explicit ``path`` is always read fresh, which is what tests and tooling for
    drafting a new taxonomy version want.

    Raises TaxonomyError (naming the file and the offending slug or field) if the data is
    invalid, and OSError if the file cannot be read.
    """
    if path is None:
        return _load_default()
    path = Path(path)
    with path.open("rb") as fh:
        return _load_stream(fh, str(path))


@functools.cache
def _load_default() -> Taxonomy:
    resource = resources.files(__package__) / "data" / _DEFAULT_FILE
    with resource.open("rb") as fh:
        return _load_stream(fh, f"{__package__}/data/{_DEFAULT_FILE}")


def _load_stream(fh: IO[bytes], name: str) -> Taxonomy:
    return load_toml(fh, name, _parse, TaxonomyError)


def _parse(data: Mapping[str, Any]) -> Taxonomy:
    top = check(data, _TOP, error=TaxonomyError)
    signs = _concerns(top["signs"], "sign")
    causes = _concerns(top["causes"], "cause")
    steps = tuple(
        HealingStep(
            slug=table["slug"],
            number=table["number"],
            title=table["title"],
            client_description=table["client_description"],
            therapist_description=table["therapist_description"],
        )
        for table in top["steps"]
    )
    _check_numbering("steps", steps)
    links = tuple(
        StepLink(source=table["source"], step=table["step"], rationale=table["rationale"])
        for table in top["links"]
    )
    return Taxonomy(
        version=top["version"],
        title=top["title"],
        signs=signs,
        causes=causes,
        steps=steps,
        links=links,
    )


def _concerns(tables: tuple[Table, ...], kind: ConcernKind) -> tuple[Concern, ...]:
    concerns = []
    for table in tables:
        prefix = f"{kind}.{table['slug']}."
        items = []
        for item in table["items"]:
            item_id = item["id"]
            if not (
                item_id.startswith(prefix) and _ITEM_SUFFIX_RE.fullmatch(item_id[len(prefix) :])
            ):
                raise TaxonomyError(
                    f"item id {item_id!r} must start with {prefix!r} "
                    f"and end with a number or snake_case name, like '{prefix}1'",
                    where=item.where,
                )
            items.append(Item(id=item_id, text=item["text"], reverse=item["reverse"]))
        concerns.append(
            Concern(
                kind=kind,
                slug=table["slug"],
                number=table["number"],
                title=table["title"],
                client_description=table["client_description"],
                therapist_description=table["therapist_description"],
                items=tuple(items),
            )
        )
    _check_numbering(f"{kind}s", concerns)
    return tuple(concerns)


def _check_numbering(section: str, entries: Sequence[Concern | HealingStep]) -> None:
    """Numbers are shown to clients ("step 4 of 15"), so they must run 1..N in file order."""
    for expected, entry in enumerate(entries, start=1):
        if entry.number != expected:
            raise TaxonomyError(
                f"{entry.slug!r} has number {entry.number}, expected {expected} "
                "(numbers must run 1..N in file order)",
                where=section,
            )
