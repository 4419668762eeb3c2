"""Scoring a partner's intake and comparing the two partners: pure functions over the
values a partner entered (strings, as the form sent them), no request, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import measures
from ..taxonomy import Taxonomy
from .content import (
    FREQUENCY_MAX,
    SAFETY_DISCUSS,
    SAFETY_QUESTIONS,
    SAFETY_YES,
    field_name_for_item,
    measure_field,
)

PageValues = Mapping[str, Mapping[str, str]]

MEASURE_PAGES = {"csi16": "relationship", "phq9": "wellbeing", "gad7": "wellbeing"}
# Two partners whose scores on a sign or cause differ by at least this many points (of
# 100) see that part of their relationship notably differently.
NOTABLE_DIFFERENCE = 25

FLAG_SELF_HARM = "self_harm_risk"
FLAG_SAFETY = "safety_concern"
FLAG_SAFETY_DISCUSS = "safety_discuss"


@dataclass(frozen=True, slots=True)
class ConcernScore:
    slug: str
    kind: str
    score: int | None  # 0-100, None when no item was answered
    item_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IntakeScores:
    taxonomy_version: str
    concerns: dict[str, ConcernScore]
    measures: dict[str, measures.MeasureScore]
    item_points: dict[str, list[int]]
    flags: frozenset[str] = field(default_factory=frozenset)

    def as_json(self) -> dict[str, Any]:
        """The form stored with the response: plain JSON, stamped with the taxonomy
        version and the item ids behind each score."""
        return {
            "taxonomy_version": self.taxonomy_version,
            "concerns": {
                slug: {"kind": c.kind, "score": c.score, "item_ids": list(c.item_ids)}
                for slug, c in self.concerns.items()
            },
            "measures": {
                slug: {
                    "total": m.total,
                    "band": m.band,
                    "flags": sorted(m.flags),
                    "item_points": self.item_points[slug],
                }
                for slug, m in self.measures.items()
            },
            "flags": sorted(self.flags),
        }


def concern_scores(taxonomy: Taxonomy, values: PageValues) -> dict[str, ConcernScore]:
    """Each sign and cause on 0–100: the mean of its items' frequency answers, reversed
    for positively worded items, scaled so 0 is "never" and 100 is "almost always"."""
    flat = _flatten(values)
    result: dict[str, ConcernScore] = {}
    for concern in taxonomy.concerns:
        points: list[int] = []
        for item in concern.items:
            raw = flat.get(field_name_for_item(item.id))
            value = _int_in_range(raw, 0, FREQUENCY_MAX)
            if value is None:
                continue
            points.append(FREQUENCY_MAX - value if item.reverse else value)
        score = round(100 * sum(points) / (FREQUENCY_MAX * len(points))) if points else None
        result[concern.slug] = ConcernScore(
            slug=concern.slug,
            kind=concern.kind,
            score=score,
            item_ids=tuple(item.id for item in concern.items),
        )
    return result


def measure_points(instrument_slug: str, values: PageValues) -> list[int]:
    """The item points of one measure, in item order, as the form stored them.

    Raises ValueError (from ``measures.score``'s checks, or here for a missing or
    non-numeric answer) naming the item.
    """
    instrument = measures.get(instrument_slug)
    page = values.get(MEASURE_PAGES[instrument_slug], {})
    points: list[int] = []
    for item in instrument.items:
        raw = page.get(measure_field(instrument_slug, item.number))
        try:
            # arg-type: an unanswered item is None, whose TypeError is caught below.
            points.append(int(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{instrument.name} item {item.number}: no answer") from None
    return points


def safety_flags(values: PageValues) -> frozenset[str]:
    answers = values.get("safety", {})
    flags = set()
    if any(answers.get(name) == SAFETY_YES for name in SAFETY_QUESTIONS):
        flags.add(FLAG_SAFETY)
    if any(answers.get(name) == SAFETY_DISCUSS for name in SAFETY_QUESTIONS):
        flags.add(FLAG_SAFETY_DISCUSS)
    return frozenset(flags)


def score_intake(taxonomy: Taxonomy, values: PageValues) -> IntakeScores:
    """Everything the therapist's view needs from one partner's complete intake."""
    scored: dict[str, measures.MeasureScore] = {}
    points: dict[str, list[int]] = {}
    flags: set[str] = set(safety_flags(values))
    for slug in MEASURE_PAGES:
        points[slug] = measure_points(slug, values)
        scored[slug] = measures.score(slug, points[slug])
        flags |= scored[slug].flags
    return IntakeScores(
        taxonomy_version=taxonomy.version,
        concerns=concern_scores(taxonomy, values),
        measures=scored,
        item_points=points,
        flags=frozenset(flags),
    )


@dataclass(frozen=True, slots=True)
class ProfileRow:
    slug: str
    kind: str
    title: str
    a: int | None
    b: int | None

    @property
    def difference(self) -> int | None:
        if self.a is None or self.b is None:
            return None
        return abs(self.a - self.b)


def couple_profile(
    taxonomy: Taxonomy,
    a_scores: Mapping[str, Any] | None,
    b_scores: Mapping[str, Any] | None,
) -> list[ProfileRow]:
    """Partner A beside partner B for every sign and cause, from stored scores JSON.

    A concern that a stored score does not know (a later taxonomy added it) shows as
    unanswered rather than being re-derived from answers given under another version.
    """

    def score(stored: Mapping[str, Any] | None, slug: str) -> int | None:
        if not stored:
            return None
        entry = stored.get("concerns", {}).get(slug)
        return entry.get("score") if entry else None

    return [
        ProfileRow(
            slug=concern.slug,
            kind=concern.kind,
            title=concern.title,
            a=score(a_scores, concern.slug),
            b=score(b_scores, concern.slug),
        )
        for concern in taxonomy.concerns
    ]


def largest_differences(
    rows: list[ProfileRow], *, threshold: int = NOTABLE_DIFFERENCE, limit: int = 3
) -> list[ProfileRow]:
    """Where the partners see things most differently: the widest gaps at or above
    ``threshold``, widest first."""
    notable = [r for r in rows if r.difference is not None and r.difference >= threshold]
    return sorted(notable, key=lambda r: (-(r.difference or 0), r.slug))[:limit]


def _flatten(values: PageValues) -> dict[str, str]:
    flat: dict[str, str] = {}
    for page in values.values():
        flat.update(page)
    return flat


def _int_in_range(raw: str | None, low: int, high: int) -> int | None:
    try:
        # arg-type: None (no answer) raises TypeError, caught below.
        value = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None
