"""Pure scoring for the validated measures.

``score()`` deliberately does no reverse keying and no imputation: the forms map each
chosen option to the points the published key gives it (see ``instruments``), and this
module only checks those points and sums them. Keeping the two steps apart means the key
lives in one place and a score can be recomputed from stored points alone.

Validation is strict because a silently mis-scored screen is worse than a loud error: a
missing answer, a ``True`` from a checkbox, a ``2.0`` from JSON or a ``"3"`` from a form
field all raise ``ValueError`` naming the instrument and the item.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from .instruments import Band, Instrument, get


@dataclass(frozen=True, slots=True)
class MeasureScore:
    """The result of scoring one administration.

    ``band`` is the label of the instrument's band containing ``total``; ``flags`` holds
    item-level alerts (e.g. ``"self_harm_risk"``) that must be surfaced whatever the
    total is.
    """

    slug: str
    total: int
    band: str
    flags: frozenset[str] = frozenset()


def band_for(instrument: Instrument, total: int) -> Band:
    """Return the band of ``instrument`` containing ``total``.

    Reads the instrument's own band table so that thresholds are never restated here.
    """
    for band in instrument.bands:
        if band.contains(total):
            return band
    raise ValueError(f"{instrument.name}: total {total} is outside 0–{instrument.max_total}")


def _validated_points(instrument: Instrument, answers: Sequence[int]) -> list[int]:
    """Check ``answers`` against the instrument's key and return them as plain ints."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise TypeError(
            f"{instrument.name} expects a sequence of points in item order, "
            f"got {type(answers).__name__}"
        )
    expected = len(instrument.items)
    if len(answers) != expected:
        raise ValueError(f"{instrument.name} expects {expected} answers, got {len(answers)}")

    points: list[int] = []
    for item, value in zip(instrument.items, answers, strict=True):
        # bool is an int subclass, but True/False here means a form bug, not 1/0 points.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(
                f"{instrument.name} item {item.number}: expected integer points, "
                f"got {type(value).__name__} {value!r}"
            )
        value = int(value)
        if value not in item.points:
            raise ValueError(
                f"{instrument.name} item {item.number}: {value} is outside "
                f"{item.min_points}–{item.max_points}"
            )
        points.append(value)
    return points


def score(slug: str, answers: Sequence[int]) -> MeasureScore:
    """Score one administration of the instrument ``slug``.

    ``answers`` holds the points for each item in the instrument's item order, already
    keyed as the published scoring key assigns them. Raises ``ValueError`` for an
    unknown slug (listing the known ones), a wrong number of answers, a non-integer
    answer or an answer outside the item's range.
    """
    instrument = get(slug)
    points = _validated_points(instrument, answers)
    total = sum(points)
    flags = frozenset(
        flag.flag for flag in instrument.item_flags if points[flag.item - 1] > flag.above
    )
    return MeasureScore(
        slug=instrument.slug,
        total=total,
        band=band_for(instrument, total).label,
        flags=flags,
    )
