"""Instrument definitions for the validated measures, kept as plain data.

Everything a form needs to render an instrument and everything ``score()`` needs to
score it lives here, once: the item wording, the response options with the points the
published key gives them, the severity bands and the chart cut-offs. Keeping this as data
(rather than thresholds scattered through scoring and template code) means a change to a
band or an anchor happens in exactly one reviewed place.

Sources
-------
PHQ-9 and GAD-7: the public-domain forms developed by Drs. Robert L. Spitzer, Janet B. W.
Williams, Kurt Kroenke and colleagues with an educational grant from Pfizer Inc.
("No permission required to reproduce, translate, display or distribute"). Item 10 of
the PHQ-9 form (how difficult the problems have made things) is not part of the score
and is deliberately not modelled here.

CSI-16: Funk & Rogge (2007), Journal of Family Psychology 21(4):572-583, and the authors'
own CSI-16 form (https://couples-research.com/measures/), which states the CSI scales are
free for clinical and research use. The wording, anchors and per-option points below were
cross-checked against two independent public transcriptions of that form and one public
transcription of the full CSI-32 (from which the CSI-16 is drawn: CSI-32 items 1, 5, 9,
11, 12, 17, 19, 20, 21, 22, 26, 27, 28, 30, 31, 32), all of which agree. The original
PDF itself was not available to us.

CSI-4: Funk & Rogge (2007), the same article, which gives the four-item short form and its
distress cut-off (totals below 13.5). Its items are CSI-32 items 1, 12, 19 and 22, that is
CSI-16 items 1, 5, 7 and 10, so they are taken from the CSI-16 definition below rather
than transcribed a second time: one wording, one key. The item list was cross-checked
against a public transcription of the CSI-32 (items 1 and 12 read there word for word as
here) and a public CSI-4 transcription that names the same four CSI-32 items; one other
public transcription puts "How well does your partner meet your needs?" second and drops
the "warm and comfortable" item, which matches neither, and is not followed.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class ResponseOption:
    """One answer a client can pick, with the points the published key assigns it.

    Forms show ``label`` and submit ``points``; that is how reverse keying is applied
    before ``score()`` ever sees an answer.
    """

    label: str
    points: int


@dataclass(frozen=True, slots=True)
class InstrumentItem:
    """A single scored item.

    ``options`` are listed in the order the published form prints them, so a form can
    render them as-is. ``reverse_keyed`` marks items whose first-printed option scores
    highest (points run high to low), which is easy to get backwards when transcribing.
    """

    number: int
    text: str
    options: tuple[ResponseOption, ...]
    reverse_keyed: bool = False

    @property
    def points(self) -> frozenset[int]:
        """The set of point values an answer to this item may take."""
        return frozenset(option.points for option in self.options)

    @property
    def min_points(self) -> int:
        return min(self.points)

    @property
    def max_points(self) -> int:
        return max(self.points)


@dataclass(frozen=True, slots=True)
class Band:
    """An interpretive band over integer totals, inclusive at both ends."""

    label: str
    low: int
    high: int

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True, slots=True)
class ItemFlag:
    """Raise ``flag`` when the answer to item ``item`` scores above ``above``.

    Kept as data so that a clinically important single-item alert (PHQ-9 item 9) is
    declared next to the item it depends on instead of being hard-coded in scoring.
    """

    item: int
    above: int
    flag: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """A validated measure: wording, key, bands and chart cut-offs.

    ``name`` is the short name clinicians use ("PHQ-9"); it is what error messages and
    charts show. ``title`` is the full name for headings. ``bands`` is the single source
    of interpretive thresholds for ``score()``. ``chart_cutoffs`` are reference lines for
    progress charts and may sit between integer totals (the CSI-16's 51.5).

    ``__post_init__`` checks the invariants scoring relies on, so a transcription slip
    in a future instrument fails at import rather than mis-scoring a client.
    """

    slug: str
    name: str
    citation: str
    instructions: str
    items: tuple[InstrumentItem, ...]
    bands: tuple[Band, ...]
    chart_cutoffs: tuple[tuple[str, float], ...]
    max_total: int
    title: str
    item_flags: tuple[ItemFlag, ...] = ()

    def __post_init__(self) -> None:
        numbers = [item.number for item in self.items]
        if numbers != list(range(1, len(self.items) + 1)):
            raise ValueError(f"{self.name}: items must be numbered 1..n in order, got {numbers}")
        for item in self.items:
            points = [option.points for option in item.options]
            if len(set(points)) != len(points):
                raise ValueError(f"{self.name} item {item.number}: duplicate points {points}")
            expected = list(range(item.min_points, item.max_points + 1))
            if sorted(points) != expected:
                raise ValueError(f"{self.name} item {item.number}: points {points} have gaps")
            ordered = sorted(points, reverse=item.reverse_keyed)
            if points != ordered:
                direction = "descending" if item.reverse_keyed else "ascending"
                raise ValueError(
                    f"{self.name} item {item.number}: points must be {direction}, got {points}"
                )
        maxima = sum(item.max_points for item in self.items)
        minima = sum(item.min_points for item in self.items)
        if maxima != self.max_total:
            raise ValueError(f"{self.name}: max_total {self.max_total} != sum of maxima {maxima}")
        if not self.bands or self.bands[0].low != minima or self.bands[-1].high != maxima:
            raise ValueError(f"{self.name}: bands must span {minima}..{maxima}")
        for lower, upper in zip(self.bands, self.bands[1:], strict=False):
            if lower.high + 1 != upper.low or lower.low > lower.high:
                raise ValueError(f"{self.name}: bands {lower} and {upper} are not contiguous")
        for flag in self.item_flags:
            if not 1 <= flag.item <= len(self.items):
                raise ValueError(f"{self.name}: flag {flag.flag!r} names unknown item")

    def item(self, number: int) -> InstrumentItem:
        """Return item ``number`` (1-based, as printed on the form)."""
        return self.items[number - 1]


def _options(*pairs: tuple[str, int]) -> tuple[ResponseOption, ...]:
    return tuple(ResponseOption(label, points) for label, points in pairs)


# --- PHQ-9 and GAD-7 ---------------------------------------------------------------------

_FREQUENCY_2_WEEKS = _options(
    ("Not at all", 0),
    ("Several days", 1),
    ("More than half the days", 2),
    ("Nearly every day", 3),
)

_PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or "
    "your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite "
    "— being so fidgety or restless that you have been moving around a lot more than "
    "usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)

_GAD7_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)

PHQ9 = Instrument(
    slug="phq9",
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    citation=(
        "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression "
        "severity measure. J Gen Intern Med. 2001;16(9):606-613. Developed by Drs. Robert L. "
        "Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant "
        "from Pfizer Inc. No permission required to reproduce, translate, display or "
        "distribute."
    ),
    instructions=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=tuple(
        InstrumentItem(number, text, _FREQUENCY_2_WEEKS)
        for number, text in enumerate(_PHQ9_ITEMS, start=1)
    ),
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("moderately severe", 15, 19),
        Band("severe", 20, 27),
    ),
    chart_cutoffs=(("moderate", 10),),
    max_total=27,
    # Any endorsement of item 9 warrants a same-session safety check, whatever the total.
    item_flags=(ItemFlag(item=9, above=0, flag="self_harm_risk"),),
)

GAD7 = Instrument(
    slug="gad7",
    name="GAD-7",
    title="Generalized Anxiety Disorder 7-item scale (GAD-7)",
    citation=(
        "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing "
        "generalized anxiety disorder: the GAD-7. Arch Intern Med. 2006;166(10):1092-1097. "
        "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
        "colleagues, with an educational grant from Pfizer Inc. No permission required to "
        "reproduce, translate, display or distribute."
    ),
    # The GAD-7 form words its stem without "any of", unlike the PHQ-9.
    instructions=(
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    ),
    items=tuple(
        InstrumentItem(number, text, _FREQUENCY_2_WEEKS)
        for number, text in enumerate(_GAD7_ITEMS, start=1)
    ),
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("severe", 15, 21),
    ),
    chart_cutoffs=(("moderate", 10),),
    max_total=21,
)


# --- CSI-16 --------------------------------------------------------------------------------

CSI16_CUTOFF = 51.5
"""Funk & Rogge's distress cut-off: totals below 51.5 suggest notable dissatisfaction."""

_CSI_HAPPINESS = _options(
    ("Extremely Unhappy", 0),
    ("Fairly Unhappy", 1),
    ("A Little Unhappy", 2),
    ("Happy", 3),
    ("Very Happy", 4),
    ("Extremely Happy", 5),
    ("Perfect", 6),
)

# Printed "All the time" first, and that first option scores highest: reverse keyed.
_CSI_HOW_OFTEN = _options(
    ("All the time", 5),
    ("Most of the time", 4),
    ("More often than not", 3),
    ("Occasionally", 2),
    ("Rarely", 1),
    ("Never", 0),
)

_CSI_TRUE = _options(
    ("Not at all TRUE", 0),
    ("A little TRUE", 1),
    ("Somewhat TRUE", 2),
    ("Mostly TRUE", 3),
    ("Almost Completely TRUE", 4),
    ("Completely TRUE", 5),
)

_CSI_EXTENT = _options(
    ("Not at all", 0),
    ("A little", 1),
    ("Somewhat", 2),
    ("Mostly", 3),
    ("Almost Completely", 4),
    ("Completely", 5),
)


# The pole that scores 5 in each semantic-differential pair, per the published key.
_POSITIVE_POLES = frozenset({"INTERESTING", "GOOD", "FULL", "STURDY", "HOPEFUL", "ENJOYABLE"})


def _semantic_differential(left: str, right: str) -> tuple[ResponseOption, ...]:
    """Six positions between two poles, printed left to right as on the authors' form.

    The form prints the numerals between the poles (e.g. ``INTERESTING 5 4 3 2 1 0
    BORING``) and the positive pole always scores 5, whichever side it is printed on. The
    end positions are labelled with their pole word and the inner ones with the numeral
    the form prints there, so a plain option list still reads the way the paper does.
    """
    positive_left = left in _POSITIVE_POLES
    if positive_left == (right in _POSITIVE_POLES):
        raise ValueError(f"exactly one of {left!r}/{right!r} must be the positive pole")
    points = [5, 4, 3, 2, 1, 0] if positive_left else [0, 1, 2, 3, 4, 5]
    labels = [left, *(str(p) for p in points[1:-1]), right]
    return tuple(ResponseOption(label, p) for label, p in zip(labels, points, strict=True))


# (text, options, reverse_keyed) in CSI-16 order. Items 11-16 are semantic differentials:
# the pole pair, in printed order, is the item text.
_CSI16_ITEMS: tuple[tuple[str, tuple[ResponseOption, ...], bool], ...] = (
    (
        "Please indicate the degree of happiness, all things considered, of your relationship.",
        _CSI_HAPPINESS,
        False,
    ),
    (
        "In general, how often do you think that things between you and your partner are "
        "going well?",
        _CSI_HOW_OFTEN,
        True,
    ),
    ("Our relationship is strong", _CSI_TRUE, False),
    ("My relationship with my partner makes me happy", _CSI_TRUE, False),
    ("I have a warm and comfortable relationship with my partner", _CSI_TRUE, False),
    ("I really feel like part of a team with my partner", _CSI_TRUE, False),
    ("How rewarding is your relationship with your partner?", _CSI_EXTENT, False),
    ("How well does your partner meet your needs?", _CSI_EXTENT, False),
    ("To what extent has your relationship met your original expectations?", _CSI_EXTENT, False),
    ("In general, how satisfied are you with your relationship?", _CSI_EXTENT, False),
    ("INTERESTING — BORING", _semantic_differential("INTERESTING", "BORING"), True),
    ("BAD — GOOD", _semantic_differential("BAD", "GOOD"), False),
    ("FULL — EMPTY", _semantic_differential("FULL", "EMPTY"), True),
    ("STURDY — FRAGILE", _semantic_differential("STURDY", "FRAGILE"), True),
    ("DISCOURAGING — HOPEFUL", _semantic_differential("DISCOURAGING", "HOPEFUL"), False),
    ("ENJOYABLE — MISERABLE", _semantic_differential("ENJOYABLE", "MISERABLE"), True),
)

#: Where both CSI forms come from (the CSI-16 and the CSI-4 are short forms of the CSI-32).
FUNK_ROGGE_2007 = (
    "Funk JL, Rogge RD. Testing the ruler with item response theory: increasing precision "
    "of measurement for relationship satisfaction with the Couples Satisfaction Index. "
    "J Fam Psychol. 2007;21(4):572-583. doi:10.1037/0893-3200.21.4.572. The CSI scales "
    "are free for clinical and research use."
)

CSI16 = Instrument(
    slug="csi16",
    name="CSI-16",
    title="Couples Satisfaction Index (CSI-16)",
    citation=FUNK_ROGGE_2007,
    # The only instruction printed on the authors' form; items 1-10 carry their own stems,
    # so on paper it introduces the semantic-differential items 11-16.
    instructions=(
        "For each of the following items, select the answer that best describes how you "
        "feel about your relationship. Base your responses on your first impressions and "
        "immediate feelings about the item."
    ),
    items=tuple(
        InstrumentItem(number, text, options, reverse_keyed)
        for number, (text, options, reverse_keyed) in enumerate(_CSI16_ITEMS, start=1)
    ),
    # Totals are integers, so "below 51.5" is exactly "51 or less"; derive both bands from
    # the published cut-off so the chart line and the bands cannot drift apart.
    bands=(
        Band("distressed", 0, math.floor(CSI16_CUTOFF)),
        Band("not distressed", math.floor(CSI16_CUTOFF) + 1, 81),
    ),
    chart_cutoffs=(("distress cut-off", CSI16_CUTOFF),),
    max_total=81,
)


# --- CSI-4 ---------------------------------------------------------------------------------

CSI4_CUTOFF = 13.5
"""Funk & Rogge's distress cut-off for the CSI-4: totals below 13.5 suggest notable
dissatisfaction."""

#: The CSI-16 items the CSI-4 consists of, in CSI-4 order (CSI-32 items 1, 12, 19, 22).
CSI4_FROM_CSI16 = (1, 5, 7, 10)

CSI4 = Instrument(
    slug="csi4",
    name="CSI-4",
    title="Couples Satisfaction Index (CSI-4)",
    citation=FUNK_ROGGE_2007,
    # Each CSI-4 item carries its own stem; this is the first sentence of the CSI-16 form's
    # instruction, the part that applies to these items too.
    instructions=(
        "For each of the following items, select the answer that best describes how you "
        "feel about your relationship."
    ),
    # The same wording, anchors and points as the CSI-16 items they are, renumbered 1-4.
    items=tuple(
        replace(CSI16.item(source), number=number)
        for number, source in enumerate(CSI4_FROM_CSI16, start=1)
    ),
    # Integer totals: "below 13.5" is exactly "13 or less", derived from the cut-off.
    bands=(
        Band("distressed", 0, math.floor(CSI4_CUTOFF)),
        Band("not distressed", math.floor(CSI4_CUTOFF) + 1, 21),
    ),
    chart_cutoffs=(("distress cut-off", CSI4_CUTOFF),),
    max_total=21,
)


INSTRUMENTS: dict[str, Instrument] = {
    instrument.slug: instrument for instrument in (CSI16, CSI4, PHQ9, GAD7)
}


def get(slug: str) -> Instrument:
    """Return the instrument for ``slug``.

    Raises ``ValueError`` naming the known slugs, because a bad slug almost always comes
    from a typo in a form or URL and the list is the quickest fix.
    """
    try:
        return INSTRUMENTS[slug]
    except (KeyError, TypeError):
        known = ", ".join(sorted(INSTRUMENTS))
        raise ValueError(f"unknown instrument {slug!r}; known instruments: {known}") from None


def instrument_version(slug: str) -> str:
    """Which wording and key an administration was asked in: the slug and the first
    twelve hex digits of a SHA-256 over every item's text and its options' labels and
    points. A later change to a transcription gives a new version, so an old result
    always says what its partner was shown."""
    instrument = get(slug)
    content = [
        [item.number, item.text, [[o.label, o.points] for o in item.options]]
        for item in instrument.items
    ]
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()
    return f"{slug}:{digest[:12]}"


#: Measures each partner answers privately (their wellbeing): never shown to, or told
#: of, the other partner (records exports, the celebration message). The CSI forms are
#: about the relationship and belong to the joint record.
PRIVATE_TO_PARTNER = ("phq9", "gad7")
