"""Reliable and clinically significant change between two totals of one measure.

``change(slug, before, after)`` answers the two questions a therapist asks of a repeated
measure: is the difference larger than the measure's own noise (*reliable*), and did the
partner cross the line between the clinical and the non-clinical range on the way
(*clinically significant*)? Both answers are read from published thresholds kept here as
data, each with its source; nothing is estimated from this practice's own clients.

Two methods are used, because the measures' communities use two:

* PHQ-9 and GAD-7: the fixed point thresholds of NHS Talking Therapies for anxiety and
  depression (formerly IAPT). A change of 6 or more PHQ-9 points, or 4 or more GAD-7
  points, is reliable; "caseness" is a PHQ-9 of 10 or more, a GAD-7 of 8 or more.
  Sources: the NHS Talking Therapies for anxiety and depression Manual (NHS England; the
  IAPT Manual before it), and Gyani A, Shafran R, Layard R, Clark DM. Enhancing recovery
  rates: lessons from year one of IAPT. Behav Res Ther. 2013;51(9):597-606.
  doi:10.1016/j.brat.2013.06.004 (reliable improvement and recovery defined on these
  thresholds). The GAD-7 caseness line (8) is the programme's, not the chart's "moderate"
  band line (10) in ``instruments``.
* CSI-16 and CSI-4: the Jacobson-Truax reliable change index (Jacobson NS, Truax P.
  Clinical significance: a statistical approach to defining meaningful change in
  psychotherapy research. J Consult Clin Psychol. 1991;59(1):12-19):
  ``RCI = (after - before) / S_diff``, ``S_diff = sqrt(2 * SE**2)``,
  ``SE = SD * sqrt(1 - r)``, reliable when ``|RCI| >= 1.96``. The clinical line is Funk &
  Rogge's distress cut-off (CSI-16 51.5, CSI-4 13.5; see ``instruments``).

Which way is better comes from ``severity.direction``: a falling PHQ-9 or GAD-7 is an
improvement, a rising CSI is one.

Pure: no request, no database.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from .instruments import CSI4_CUTOFF, CSI16_CUTOFF, Instrument, get
from .severity import Direction, direction

ChangeDirection = Literal["improved", "worsened", "no reliable change"]

IMPROVED: Final = "improved"
WORSENED: Final = "worsened"
NO_RELIABLE_CHANGE: Final = "no reliable change"

#: The two-tailed 95% point of the normal distribution Jacobson & Truax compare the RCI to.
RCI_CRITICAL: Final = 1.96

#: Slack for floating-point rounding when an RCI lands exactly on 1.96 (a difference that
#: is, in exact arithmetic, at the cut counts as reliable).
_EPSILON: Final = 1e-9


class ReliableChangeUnavailable(LookupError):
    """No published standard deviation and reliability are on record for this measure.

    Raised rather than guessing: a reliable-change verdict made from invented constants
    would be a clinical statement with nothing behind it.
    """


@dataclass(frozen=True, slots=True)
class PointRule:
    """A fixed published threshold: ``points`` or more is reliable; ``caseness`` or more
    is the clinical range (for measures where a higher total is worse)."""

    points: int
    caseness: int
    source: str


@dataclass(frozen=True, slots=True)
class ReliabilityBasis:
    """A published standard deviation and reliability (Cronbach's alpha) of a measure,
    the two numbers the Jacobson-Truax index needs, with where they were published."""

    sd: float
    reliability: float
    source: str

    def __post_init__(self) -> None:
        if not self.sd > 0:
            raise ValueError(f"a standard deviation must be positive, got {self.sd}")
        if not 0 <= self.reliability < 1:
            raise ValueError(f"a reliability must be in [0, 1), got {self.reliability}")

    @property
    def standard_error(self) -> float:
        """SE = SD * sqrt(1 - r), the standard error of measurement."""
        return self.sd * math.sqrt(1 - self.reliability)

    @property
    def s_diff(self) -> float:
        """S_diff = sqrt(2 * SE^2), the standard error of a difference of two scores."""
        return math.sqrt(2 * self.standard_error**2)


_NHS_TALKING_THERAPIES = (
    "NHS Talking Therapies for anxiety and depression Manual (NHS England; formerly the "
    "IAPT Manual); Gyani et al., Behav Res Ther 2013;51(9):597-606"
)

#: PHQ-9 and GAD-7: NHS Talking Therapies' reliable-change and caseness thresholds.
POINT_RULES: Final[dict[str, PointRule]] = {
    "phq9": PointRule(points=6, caseness=10, source=_NHS_TALKING_THERAPIES),
    "gad7": PointRule(points=4, caseness=8, source=_NHS_TALKING_THERAPIES),
}

#: CSI-16 and CSI-4: the distress cut-off each total is compared with (Funk & Rogge 2007).
CSI_CUTOFFS: Final[dict[str, float]] = {"csi16": CSI16_CUTOFF, "csi4": CSI4_CUTOFF}

#: The standard deviation and reliability Funk & Rogge (2007) published for each CSI form.
#:
#: NOT YET ON RECORD. The article (J Fam Psychol 2007;21(4):572-583) was not available to
#: us, and no copy we could read gave its standard deviations or alphas for the CSI-16 and
#: the CSI-4 with a source we could check, so none is written here: a number from memory
#: or from an unsourced web page would make every CSI verdict unfounded. Until someone
#: with the article fills these in (sd=..., reliability=..., source="Funk & Rogge 2007,
#: Table N"), ``change()`` raises ``ReliableChangeUnavailable`` for the CSI unless the
#: caller passes a ``basis``, and ``can_judge()`` says False.
PUBLISHED_BASIS: Final[dict[str, ReliabilityBasis | None]] = {
    "csi16": None,
    "csi4": None,
}


#: The practice's own figures for the CSI forms (``RECONNECT_CLINIC_CSI_RELIABILITY``).
SETTING: Final = "RECONNECT_CLINIC_CSI_RELIABILITY"

#: What ``bases_from_setting`` returns: a basis per CSI form that has one.
Bases = Mapping[str, ReliabilityBasis]


def bases_from_setting(setting: Mapping[str, Any] | None) -> dict[str, ReliabilityBasis]:
    """The practice's CSI reliability figures, checked: ``{"csi16": {"sd": ..,
    "reliability": .., "source": ".."}, "csi4": {...}}`` (either form, or neither).

    For a practice that holds Funk & Rogge's article, or its own published norms: each
    basis must name where its figures were published, and the verdicts printed from it
    say so. ``ValueError`` naming the setting for anything malformed; None or {} is none.
    """
    if not setting:
        return {}
    if not isinstance(setting, Mapping):
        raise ValueError(f"{SETTING} must be a mapping of CSI form to its figures")
    bases = {}
    for slug, figures in setting.items():
        if slug not in CSI_CUTOFFS:
            raise ValueError(f"{SETTING}: {slug!r} is not a CSI form (csi16 or csi4)")
        if not isinstance(figures, Mapping) or set(figures) != {"sd", "reliability", "source"}:
            raise ValueError(f"{SETTING}[{slug!r}] needs exactly sd, reliability and source")
        sd, reliability, source = figures["sd"], figures["reliability"], figures["source"]
        for name, value in (("sd", sd), ("reliability", reliability)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{SETTING}[{slug!r}][{name!r}] must be a number")
            if not math.isfinite(value):  # TOML and JSON settings can say inf or nan
                raise ValueError(f"{SETTING}[{slug!r}][{name!r}] must be a finite number")
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"{SETTING}[{slug!r}]['source'] must say where it was published")
        try:
            bases[slug] = ReliabilityBasis(float(sd), float(reliability), source.strip())
        except ValueError as error:
            raise ValueError(f"{SETTING}[{slug!r}]: {error}") from None
    return bases


@dataclass(frozen=True, slots=True)
class Change:
    """The verdict on one partner's change on one measure, from ``before`` to ``after``.

    ``difference`` is ``after - before`` (negative when the total fell). ``threshold`` is
    the size of difference that counts as reliable, in points (PHQ-9 6, GAD-7 4; for the
    CSI ``1.96 * S_diff``, not necessarily whole); ``points_needed`` is the smallest whole
    number of points that reaches it. ``rci`` is the Jacobson-Truax index (None for the
    PHQ-9 and GAD-7, which use fixed points). ``clinical_before`` and ``clinical_after``
    say whether each total lies in the clinical range (PHQ-9 10+, GAD-7 8+, CSI below its
    distress cut-off). ``meaning`` says it all in one sentence for the therapist.
    """

    slug: str
    name: str
    before: int
    after: int
    difference: int
    threshold: float
    points_needed: int
    method: str
    rci: float | None
    reliable: bool
    direction: ChangeDirection
    clinically_significant: bool
    cutoff: float
    clinical_before: bool
    clinical_after: bool
    source: str
    meaning: str


def _total(instrument: Instrument, label: str, value: object) -> int:
    """``value`` as a total of ``instrument``, or ``ValueError`` naming what is wrong."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{instrument.name}: the {label} total must be a whole number, "
            f"got {type(value).__name__} {value!r}"
        )
    total = int(value)
    if not 0 <= total <= instrument.max_total:
        raise ValueError(
            f"{instrument.name}: the {label} total {total} is outside 0–{instrument.max_total}"
        )
    return total


def can_judge(slug: str, bases: Bases | None = None) -> bool:
    """Whether ``change(slug, ...)`` can give a verdict: from a published rule, or from a
    basis in ``bases`` (the practice's, ``bases_from_setting``).

    ``ValueError`` for an unknown instrument, like ``change``.
    """
    get(slug)
    if slug in POINT_RULES:
        return True
    return PUBLISHED_BASIS.get(slug) is not None or (bases is not None and slug in bases)


def basis_for(slug: str, bases: Bases | None) -> ReliabilityBasis | None:
    """The basis to pass ``change`` for ``slug``: the practice's for a CSI form that has
    one; None otherwise (the PHQ-9 and GAD-7 take none)."""
    if bases is None or slug in POINT_RULES:
        return None
    return bases.get(slug)


def _cutoff_words(slug: str, cutoff: float) -> tuple[str, str]:
    """How a total inside and outside the clinical range is described, in words."""
    shown = f"{cutoff:g}"
    if slug in POINT_RULES:
        return (
            f"at or above the clinical cut-off of {shown}",
            f"below the clinical cut-off of {shown}",
        )
    return (f"below the distress cut-off of {shown}", f"above the distress cut-off of {shown}")


def _meaning(
    *,
    before: int,
    after: int,
    difference: int,
    points_needed: int,
    direction: ChangeDirection,
    clinical_before: bool,
    clinical_after: bool,
    inside: str,
    outside: str,
) -> str:
    """One plain sentence: the verdict, where the partner now stands, and the figures."""
    where_now = inside if clinical_after else outside
    if direction == IMPROVED:
        head = "Reliable improvement"
        if clinical_before and not clinical_after:
            status = f"now {outside}"
        elif clinical_after:
            status = f"but still {inside}"
        else:
            status = f"and still {outside}"
    elif direction == WORSENED:
        head = "Reliable worsening"
        if not clinical_before and clinical_after:
            status = f"now {inside}"
        elif clinical_after:
            status = f"and still {inside}"
        else:
            status = f"though still {outside}"
    else:
        head = "No reliable change"
        status = (
            f"still {where_now}" if clinical_before == clinical_after else f"though now {where_now}"
        )
    if difference == 0:
        moved = "no change"
    else:
        unit = "point" if abs(difference) == 1 else "points"
        moved = f"{'up' if difference > 0 else 'down'} {abs(difference)} {unit}"
    figures = f"{before} → {after}: {moved}; a change of {points_needed} or more is reliable"
    return f"{head}, {status} ({figures})."


def change(
    slug: str,
    before: int,
    after: int,
    *,
    basis: ReliabilityBasis | None = None,
) -> Change:
    """Judge the change of one partner's total on the measure ``slug``.

    ``before`` and ``after`` are totals as ``score()`` returns them. Raises ``ValueError``
    for an unknown slug or a total that is not a whole number inside the instrument's
    range, and ``ReliableChangeUnavailable`` for a CSI form without a published
    ``basis`` on record (pass ``basis`` to supply one; it is refused for the PHQ-9 and
    GAD-7, whose thresholds are fixed points).
    """
    instrument = get(slug)
    start = _total(instrument, "before", before)
    end = _total(instrument, "after", after)
    difference = end - start
    better_higher = direction(slug) is Direction.HIGHER_IS_BETTER

    rci: float | None
    if slug in POINT_RULES:
        if basis is not None:
            raise ValueError(f"{instrument.name} uses fixed published points, not a basis")
        rule = POINT_RULES[slug]
        threshold = float(rule.points)
        points_needed = rule.points
        reliable = abs(difference) >= rule.points
        rci = None
        method = f"fixed points (NHS Talking Therapies: {rule.points} or more)"
        cutoff = float(rule.caseness)
        clinical_before = start >= rule.caseness
        clinical_after = end >= rule.caseness
        source = rule.source
    elif slug in CSI_CUTOFFS:
        used = basis if basis is not None else PUBLISHED_BASIS.get(slug)
        if used is None:
            raise ReliableChangeUnavailable(
                f"{instrument.name}: no published standard deviation and reliability are "
                "on record, so reliable change cannot be judged"
            )
        threshold = RCI_CRITICAL * used.s_diff
        points_needed = math.ceil(threshold - _EPSILON)
        rci = difference / used.s_diff
        reliable = abs(rci) >= RCI_CRITICAL - _EPSILON
        method = f"Jacobson-Truax (|RCI| ≥ {RCI_CRITICAL}, S_diff {used.s_diff:.2f})"
        cutoff = CSI_CUTOFFS[slug]
        clinical_before = start < cutoff
        clinical_after = end < cutoff
        source = used.source
    else:
        raise ValueError(f"{instrument.name}: no reliable-change rule is defined")

    direction_word: ChangeDirection = NO_RELIABLE_CHANGE
    if reliable and difference != 0:
        improved = (difference > 0) == better_higher
        direction_word = IMPROVED if improved else WORSENED
    clinically_significant = (
        direction_word == IMPROVED and clinical_before and not clinical_after
    ) or (direction_word == WORSENED and not clinical_before and clinical_after)

    inside, outside = _cutoff_words(slug, cutoff)
    return Change(
        slug=instrument.slug,
        name=instrument.name,
        before=start,
        after=end,
        difference=difference,
        threshold=threshold,
        points_needed=points_needed,
        method=method,
        rci=rci,
        reliable=reliable,
        direction=direction_word,
        clinically_significant=clinically_significant,
        cutoff=cutoff,
        clinical_before=clinical_before,
        clinical_after=clinical_after,
        source=source,
        meaning=_meaning(
            before=start,
            after=end,
            difference=difference,
            points_needed=points_needed,
            direction=direction_word,
            clinical_before=clinical_before,
            clinical_after=clinical_after,
            inside=inside,
            outside=outside,
        ),
    )
