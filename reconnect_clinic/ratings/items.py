"""What a partner is asked after a session: a few items in the project's own words.

This is **not** a licensed or validated instrument. It is not the Session Rating Scale
(SRS), the Working Alliance Inventory or any other published measure, and it has no
norms: it is a short, plain check on how the session went for each partner, meant to be
talked about in the next session, not scored against a population. A practice that holds
a licence for a published measure, or wants its own wording, sets
``RECONNECT_CLINIC_RATING_MEASURE`` (see :func:`configured_measure`).

Each item is answered on a 0 to 10 scale. Why 0 to 10 rather than 1 to 5: it is the
"rate it from 0 to 10" almost everyone already knows, so it needs no anchors learnt; and
with eleven points a partner can show a modest change (a 7 becoming a 5) that a five-point
scale would round away, which is what the split-alliance rules need to notice early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RatingItem:
    key: str
    text: str  # what the partner reads
    low: str  # what the lowest point means
    high: str  # what the highest point means


@dataclass(frozen=True)
class RatingMeasure:
    slug: str
    title: str
    version: str
    low: int
    high: int
    items: tuple[RatingItem, ...]

    def item(self, key: str) -> RatingItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def points(self) -> range:
        return range(self.low, self.high + 1)


BUILT_IN = RatingMeasure(
    slug="session_check",
    title="How this session was for you",
    version="1",
    low=0,
    high=10,
    items=(
        RatingItem(
            "heard",
            "In this session I felt heard and understood.",
            "not at all",
            "completely",
        ),
        RatingItem(
            "what_matters",
            "We worked on what matters to me.",
            "not at all",
            "completely",
        ),
        RatingItem(
            "approach",
            "The therapist's way of working fits me.",
            "not at all",
            "very well",
        ),
        RatingItem(
            "overall",
            "Overall, this session was right for me.",
            "not at all",
            "completely",
        ),
    ),
)


def measure_from_setting(spec: Mapping[str, Any] | None) -> RatingMeasure:
    """The measure a practice configured, or the built-in one for ``None``.

    ``spec`` is ``{"slug", "title", "version", "low", "high", "items": [[key, text, low
    words, high words], ...]}``. Raises ValueError naming what is wrong, so a bad
    setting shows on the first page that asks for it, never as a wrong score.
    """
    if spec is None:
        return BUILT_IN
    try:
        low, high = int(spec["low"]), int(spec["high"])
        items = tuple(RatingItem(*map(str, item)) for item in spec["items"])
        measure = RatingMeasure(
            slug=str(spec["slug"]),
            title=str(spec["title"]),
            version=str(spec.get("version", "1")),
            low=low,
            high=high,
            items=items,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"RECONNECT_CLINIC_RATING_MEASURE is malformed: {error}") from None
    keys = [item.key for item in items]
    if not items or len(set(keys)) != len(keys):
        raise ValueError("RECONNECT_CLINIC_RATING_MEASURE needs items with distinct keys")
    if high <= low or high - low > 100:
        raise ValueError("RECONNECT_CLINIC_RATING_MEASURE needs low < high (at most 100 apart)")
    if not measure.slug or len(measure.slug) > 60 or len(measure.version) > 20:
        raise ValueError("RECONNECT_CLINIC_RATING_MEASURE needs a short slug and version")
    return measure


def clean_answers(measure: RatingMeasure, answers: Mapping[str, object]) -> dict[str, int]:
    """Every item's answer as an int on the measure's scale; ValueError if one is
    missing or out of range (a forged post, never a partner's typing: the page offers
    only the scale's points)."""
    cleaned: dict[str, int] = {}
    for item in measure.items:
        value = answers.get(item.key)
        try:
            number = int(str(value))
        except ValueError:
            raise ValueError(f"no answer for {item.key!r}") from None
        if number not in measure.points:
            raise ValueError(f"answer for {item.key!r} is off the scale")
        cleaned[item.key] = number
    return cleaned


def score(measure: RatingMeasure, answers: Mapping[str, int]) -> float | None:
    """The rating as one number from 0 to 10: the mean of the answered items, put on a
    0-10 scale whatever the measure's own, so the split-alliance thresholds mean the
    same for a practice's own measure. None when nothing was answered."""
    values = [answers[item.key] for item in measure.items if item.key in answers]
    if not values:
        return None
    mean = sum(values) / len(values)
    return round((mean - measure.low) * 10 / (measure.high - measure.low), 1)
