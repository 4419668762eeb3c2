"""How alarming a score is: one scale, calm to severe, for every score a therapist sees.

The couple's page colours each band and each sign-or-cause score along this scale (calm,
mild, moderate, severe) and says the level in words, with a mark beside the colour: never
by colour alone. Which end of an instrument is the worse one is kept here, per
instrument, because it differs: a higher PHQ-9 or GAD-7 total is worse, while a higher
CSI-16 total is better (more satisfied; a low total is "distressed"). The intake's sign
and cause scores (0 "never" to 100 "almost always") are worse the higher they are.

Pure: no request, no database.
"""

from __future__ import annotations

from enum import Enum, IntEnum

from .instruments import get
from .scoring import band_for


class Severity(IntEnum):
    """A level on the calm-to-alarming scale; a larger value is more alarming."""

    CALM = 0
    MILD = 1
    MODERATE = 2
    SEVERE = 3

    @property
    def css(self) -> str:
        """The class the stylesheet colours this level by (``level-moderate``)."""
        return f"level-{self.name.lower()}"

    @property
    def word(self) -> str:
        """The level in words, for a score that has no band of its own (a concern)."""
        return _WORDS[self]


_WORDS = {
    Severity.CALM: "low",
    Severity.MILD: "mild",
    Severity.MODERATE: "moderate",
    Severity.SEVERE: "high",
}


class Direction(Enum):
    """Which way an instrument's total gets worse."""

    HIGHER_IS_WORSE = "higher is worse"
    HIGHER_IS_BETTER = "higher is better"


DIRECTIONS: dict[str, Direction] = {
    "phq9": Direction.HIGHER_IS_WORSE,
    "gad7": Direction.HIGHER_IS_WORSE,
    "csi16": Direction.HIGHER_IS_BETTER,
    "csi4": Direction.HIGHER_IS_BETTER,
}

#: The level of each published band. The PHQ-9's "moderately severe" and "severe" share
#: the top level (the band's own name tells them apart in words). The CSI-16 has one
#: published cut-off (51.5) and no finer grading, so "distressed" is one level, moderate:
#: no threshold is made up here that its authors did not publish.
BAND_LEVELS: dict[str, dict[str, Severity]] = {
    "phq9": {
        "minimal": Severity.CALM,
        "mild": Severity.MILD,
        "moderate": Severity.MODERATE,
        "moderately severe": Severity.SEVERE,
        "severe": Severity.SEVERE,
    },
    "gad7": {
        "minimal": Severity.CALM,
        "mild": Severity.MILD,
        "moderate": Severity.MODERATE,
        "severe": Severity.SEVERE,
    },
    "csi16": {
        "not distressed": Severity.CALM,
        "distressed": Severity.MODERATE,
    },
    # The CSI-4 likewise has one published cut-off (13.5), graded like the CSI-16.
    "csi4": {
        "not distressed": Severity.CALM,
        "distressed": Severity.MODERATE,
    },
}

#: A sign or cause score (0-100) at or above each bound reaches that level. The bounds sit
#: on the answer anchors the score is scaled from: 25 is "rarely", 50 "sometimes", 75
#: "often" on average.
CONCERN_BOUNDS: tuple[tuple[int, Severity], ...] = (
    (75, Severity.SEVERE),
    (50, Severity.MODERATE),
    (25, Severity.MILD),
    (0, Severity.CALM),
)

CONCERN_DIRECTION = Direction.HIGHER_IS_WORSE


def direction(slug: str) -> Direction:
    """Which way the instrument ``slug`` gets worse (``ValueError`` if unknown)."""
    get(slug)  # names the known instruments for a typo
    return DIRECTIONS[slug]


def band_level(slug: str, band: str) -> Severity:
    """The level of the band labelled ``band`` of the instrument ``slug``.

    Raises ``ValueError`` for a band the instrument does not have, so a band renamed in
    ``instruments`` without a level here fails loudly (the tests walk every band).
    """
    get(slug)
    try:
        return BAND_LEVELS[slug][band]
    except KeyError:
        raise ValueError(f"{slug}: no level for the band {band!r}") from None


def measure_level(slug: str, total: int) -> Severity:
    """The level of a total of the instrument ``slug``, through its band."""
    return band_level(slug, band_for(get(slug), total).label)


def concern_level(score: int | None) -> Severity | None:
    """The level of a sign or cause score (0-100, higher is worse); None unanswered."""
    if score is None:
        return None
    if not 0 <= score <= 100:
        raise ValueError(f"a concern score runs 0-100, got {score}")
    return next(level for bound, level in CONCERN_BOUNDS if score >= bound)


def concern_scale_text() -> str:
    """The concern levels and their bounds in words, for a table's caption."""
    ascending = sorted(CONCERN_BOUNDS)
    parts = []
    for (low, level), upper in zip(ascending, [*(b for b, _ in ascending[1:]), None], strict=True):
        span = f"{low}–{upper - 1}" if upper is not None else f"{low}–100"
        parts.append(f"{level.word} {span}")
    return ", ".join(parts)
