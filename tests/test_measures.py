"""Tests for reconnect_clinic.measures: the published keys, bands and strict validation.

Expected ranges, bands and reverse-keyed items are written out here independently of the
instrument data, so a transcription slip in ``instruments.py`` fails a test instead of
being checked against itself.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from reconnect_clinic.measures import (
    INSTRUMENTS,
    Band,
    Instrument,
    InstrumentItem,
    MeasureScore,
    ResponseOption,
    get,
    score,
)

SLUGS = ("csi16", "csi4", "phq9", "gad7")

# (item count, per-item (min, max)) straight from the published scoring keys.
ITEM_RANGES: dict[str, list[tuple[int, int]]] = {
    "csi16": [(0, 6)] + [(0, 5)] * 15,
    "csi4": [(0, 6)] + [(0, 5)] * 3,
    "phq9": [(0, 3)] * 9,
    "gad7": [(0, 3)] * 7,
}
NAMES = {"csi16": "CSI-16", "csi4": "CSI-4", "phq9": "PHQ-9", "gad7": "GAD-7"}
MAX_TOTALS = {"csi16": 81, "csi4": 21, "phq9": 27, "gad7": 21}

# CSI-16 items whose first-printed option scores highest on the authors' form.
CSI16_REVERSE_KEYED = {2, 11, 13, 14, 16}


def answers_summing_to(slug: str, total: int, *, from_end: bool = False) -> list[int]:
    """Fill items greedily (from the first or the last item) until they sum to ``total``."""
    ranges = ITEM_RANGES[slug]
    answers = [low for low, _ in ranges]
    remaining = total - sum(answers)
    order = range(len(ranges) - 1, -1, -1) if from_end else range(len(ranges))
    for index in order:
        low, high = ranges[index]
        step = min(high - low, remaining)
        answers[index] += step
        remaining -= step
    assert remaining == 0, f"{total} is not reachable for {slug}"
    return answers


BAND_CASES = [
    ("phq9", 0, "minimal"),
    ("phq9", 4, "minimal"),
    ("phq9", 5, "mild"),
    ("phq9", 9, "mild"),
    ("phq9", 10, "moderate"),
    ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately severe"),
    ("phq9", 19, "moderately severe"),
    ("phq9", 20, "severe"),
    ("phq9", 27, "severe"),
    ("gad7", 0, "minimal"),
    ("gad7", 4, "minimal"),
    ("gad7", 5, "mild"),
    ("gad7", 9, "mild"),
    ("gad7", 10, "moderate"),
    ("gad7", 14, "moderate"),
    ("gad7", 15, "severe"),
    ("gad7", 21, "severe"),
    ("csi16", 0, "distressed"),
    ("csi16", 51, "distressed"),
    ("csi16", 52, "not distressed"),
    ("csi16", 81, "not distressed"),
]


# --- bands -----------------------------------------------------------------------------


@pytest.mark.parametrize("from_end", [False, True], ids=["fill-first", "fill-last"])
@pytest.mark.parametrize(("slug", "total", "band"), BAND_CASES)
def test_band_boundaries(slug: str, total: int, band: str, from_end: bool) -> None:
    answers = answers_summing_to(slug, total, from_end=from_end)
    result = score(slug, answers)
    assert result.total == total
    assert result.band == band
    assert result.slug == slug


@pytest.mark.parametrize("slug", SLUGS)
def test_bands_tile_the_whole_range(slug: str) -> None:
    """Every reachable total falls in exactly one band: no gaps, no overlaps."""
    instrument = get(slug)
    for total in range(instrument.max_total + 1):
        matching = [band for band in instrument.bands if band.contains(total)]
        assert len(matching) == 1, (slug, total, matching)


def test_csi16_cutoff_is_between_the_bands() -> None:
    csi = get("csi16")
    assert csi.chart_cutoffs == (("distress cut-off", 51.5),)
    distressed, not_distressed = csi.bands
    assert distressed.high < 51.5 < not_distressed.low


@pytest.mark.parametrize(("slug", "cutoff"), [("phq9", 10), ("gad7", 10)])
def test_phq_gad_chart_cutoffs(slug: str, cutoff: float) -> None:
    assert get(slug).chart_cutoffs == (("moderate", cutoff),)


# --- flags -----------------------------------------------------------------------------


def test_phq9_item9_zero_raises_no_flag() -> None:
    answers = [3] * 8 + [0]
    result = score("phq9", answers)
    assert result.flags == frozenset()
    assert result.band == "severe"  # high total alone is not a self-harm flag


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_endorsed_flags_self_harm(item9: int) -> None:
    result = score("phq9", [0] * 8 + [item9])
    assert result.flags == {"self_harm_risk"}
    assert result.band == "minimal"  # flag is independent of a low total


@pytest.mark.parametrize("slug", ["csi16", "gad7"])
def test_other_instruments_raise_no_flags(slug: str) -> None:
    maxed = [high for _, high in ITEM_RANGES[slug]]
    assert score(slug, maxed).flags == frozenset()
    assert score(slug, [0] * len(maxed)).flags == frozenset()


# --- result type -----------------------------------------------------------------------


def test_result_is_frozen_and_accepts_any_sequence() -> None:
    from_list = score("gad7", [1, 2, 3, 0, 1, 2, 3])
    from_tuple = score("gad7", (1, 2, 3, 0, 1, 2, 3))
    assert from_list == from_tuple == MeasureScore("gad7", 12, "moderate", frozenset())
    assert isinstance(from_list.flags, frozenset)
    with pytest.raises(dataclasses.FrozenInstanceError):
        from_list.total = 0  # type: ignore[misc]


def test_answers_are_not_mutated() -> None:
    answers = [1] * 9
    score("phq9", answers)
    assert answers == [1] * 9


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("delta", [-1, +1])
def test_wrong_length(slug: str, delta: int) -> None:
    count = len(ITEM_RANGES[slug])
    answers = [0] * (count + delta)
    message = f"{NAMES[slug]} expects {count} answers, got {count + delta}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        score(slug, answers)


@pytest.mark.parametrize("slug", SLUGS)
def test_empty_answers(slug: str) -> None:
    with pytest.raises(ValueError, match=rf"expects {len(ITEM_RANGES[slug])} answers, got 0"):
        score(slug, [])


def test_csi16_length_message_matches_spec() -> None:
    with pytest.raises(ValueError, match=r"^CSI-16 expects 16 answers, got 15$"):
        score("csi16", [0] * 15)


OUT_OF_RANGE_CASES = [
    pytest.param(slug, position, bad, id=f"{slug}-item{position + 1}-{bad}")
    for slug, ranges in ITEM_RANGES.items()
    for position, (low, high) in enumerate(ranges)
    for bad in (low - 1, high + 1)
]


@pytest.mark.parametrize(("slug", "position", "bad"), OUT_OF_RANGE_CASES)
def test_out_of_range_names_instrument_and_item(slug: str, position: int, bad: int) -> None:
    low, high = ITEM_RANGES[slug][position]
    answers = [low] * len(ITEM_RANGES[slug])
    answers[position] = bad
    message = f"{NAMES[slug]} item {position + 1}: {bad} is outside {low}–{high}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        score(slug, answers)


def test_phq9_item9_message_matches_spec() -> None:
    with pytest.raises(ValueError, match=r"^PHQ-9 item 9: 4 is outside 0–3$"):
        score("phq9", [0] * 8 + [4])


def test_csi16_item1_allows_six_but_item2_does_not() -> None:
    assert score("csi16", [6] + [0] * 15).total == 6
    with pytest.raises(ValueError, match=r"^CSI-16 item 2: 6 is outside 0–5$"):
        score("csi16", [0, 6] + [0] * 14)


BAD_TYPES = [True, False, 1.0, 2.5, float("nan"), "1", b"1", None, [1]]


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("value", BAD_TYPES, ids=repr)
@pytest.mark.parametrize("where", ["first", "last"])
def test_non_integer_answers_rejected(slug: str, value: object, where: str) -> None:
    count = len(ITEM_RANGES[slug])
    answers: list[object] = [0] * count
    position = 0 if where == "first" else count - 1
    answers[position] = value
    pattern = rf"^{re.escape(NAMES[slug])} item {position + 1}: expected integer points"
    with pytest.raises(ValueError, match=pattern):
        score(slug, answers)  # type: ignore[arg-type]


@pytest.mark.parametrize("answers", ["000000000", {0, 1}, {"a": 0}, 5])
def test_non_sequence_answers_rejected(answers: object) -> None:
    with pytest.raises(TypeError, match=r"^PHQ-9 expects a sequence"):
        score("phq9", answers)  # type: ignore[arg-type]


@pytest.mark.parametrize("slug", ["phq-9", "PHQ9", "csi32", "", "gad 7"])
def test_unknown_slug_lists_known_slugs(slug: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(slug))) as excinfo:
        score(slug, [0] * 9)
    for known in SLUGS:
        assert known in str(excinfo.value)


def test_get_unknown_slug_and_unhashable_slug() -> None:
    with pytest.raises(ValueError, match="known instruments: csi16, csi4, gad7, phq9"):
        get("bdi")
    with pytest.raises(ValueError, match="known instruments"):
        get(["phq9"])  # type: ignore[arg-type]


# --- instrument data -------------------------------------------------------------------


def test_registry_holds_exactly_the_four_instruments() -> None:
    assert set(INSTRUMENTS) == set(SLUGS)
    for slug, instrument in INSTRUMENTS.items():
        assert instrument.slug == slug
        assert get(slug) is instrument
        assert instrument.name == NAMES[slug]
        assert instrument.citation
        assert instrument.instructions
        assert instrument.title


@pytest.mark.parametrize("slug", SLUGS)
def test_item_options_cover_exactly_the_allowed_range(slug: str) -> None:
    instrument = get(slug)
    assert len(instrument.items) == len(ITEM_RANGES[slug])
    for item, (low, high) in zip(instrument.items, ITEM_RANGES[slug], strict=True):
        points = [option.points for option in item.options]
        assert sorted(points) == list(range(low, high + 1)), (slug, item.number, points)
        assert all(option.label for option in item.options)
        assert len({option.label for option in item.options}) == len(item.options)


@pytest.mark.parametrize("slug", SLUGS)
def test_max_total_is_sum_of_item_maxima(slug: str) -> None:
    instrument = get(slug)
    assert instrument.max_total == sum(item.max_points for item in instrument.items)
    assert instrument.max_total == MAX_TOTALS[slug]
    assert instrument.bands[-1].high == instrument.max_total


def test_csi16_reverse_keyed_items_list_points_descending() -> None:
    csi = get("csi16")
    reverse = {item.number for item in csi.items if item.reverse_keyed}
    assert reverse == CSI16_REVERSE_KEYED
    for item in csi.items:
        points = [option.points for option in item.options]
        if item.number in CSI16_REVERSE_KEYED:
            assert points == sorted(points, reverse=True), item.number
        else:
            assert points == sorted(points), item.number


@pytest.mark.parametrize(
    ("number", "first", "last"),
    [
        (1, ("Extremely Unhappy", 0), ("Perfect", 6)),
        (2, ("All the time", 5), ("Never", 0)),
        (3, ("Not at all TRUE", 0), ("Completely TRUE", 5)),
        (7, ("Not at all", 0), ("Completely", 5)),
        (11, ("INTERESTING", 5), ("BORING", 0)),
        (12, ("BAD", 0), ("GOOD", 5)),
        (13, ("FULL", 5), ("EMPTY", 0)),
        (14, ("STURDY", 5), ("FRAGILE", 0)),
        (15, ("DISCOURAGING", 0), ("HOPEFUL", 5)),
        (16, ("ENJOYABLE", 5), ("MISERABLE", 0)),
    ],
)
def test_csi16_anchor_points_follow_the_published_key(
    number: int, first: tuple[str, int], last: tuple[str, int]
) -> None:
    item = get("csi16").item(number)
    assert (item.options[0].label, item.options[0].points) == first
    assert (item.options[-1].label, item.options[-1].points) == last


@pytest.mark.parametrize("slug", ["phq9", "gad7"])
def test_phq_gad_options(slug: str) -> None:
    for item in get(slug).items:
        assert [(o.label, o.points) for o in item.options] == [
            ("Not at all", 0),
            ("Several days", 1),
            ("More than half the days", 2),
            ("Nearly every day", 3),
        ]
        assert not item.reverse_keyed


def test_phq9_item9_wording() -> None:
    item = get("phq9").item(9)
    assert item.text.startswith("Thoughts that you would be better off dead")


def test_instrument_rejects_inconsistent_data() -> None:
    """The import-time guard catches transcription slips in future instruments."""
    good = InstrumentItem(1, "x", (ResponseOption("a", 0), ResponseOption("b", 1)))
    base = {
        "slug": "t",
        "name": "T",
        "citation": "c",
        "instructions": "i",
        "items": (good,),
        "bands": (Band("low", 0, 1),),
        "chart_cutoffs": (),
        "max_total": 1,
        "title": "Test",
    }
    Instrument(**base)  # sanity: the baseline is valid
    reversed_unmarked = InstrumentItem(1, "x", (ResponseOption("a", 1), ResponseOption("b", 0)))
    bad_variants = [
        {"max_total": 2},
        {"bands": (Band("low", 0, 0),)},
        {"bands": (Band("low", 0, 0), Band("high", 2, 1))},
        {"items": (reversed_unmarked,)},
        {"items": (InstrumentItem(2, "x", good.options),)},
    ]
    for variant in bad_variants:
        with pytest.raises(ValueError):
            Instrument(**{**base, **variant})


# --- CSI-4 -----------------------------------------------------------------------------

# The CSI-16 items the CSI-4 is made of (CSI-32 items 1, 12, 19, 22), written out here
# independently of ``instruments.CSI4_FROM_CSI16``.
CSI4_AS_CSI16_ITEMS = (1, 5, 7, 10)


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "distressed"), (13, "distressed"), (14, "not distressed"), (21, "not distressed")],
)
@pytest.mark.parametrize("from_end", [False, True], ids=["fill-first", "fill-last"])
def test_csi4_band_boundaries(total: int, band: str, from_end: bool) -> None:
    result = score("csi4", answers_summing_to("csi4", total, from_end=from_end))
    assert result.total == total
    assert result.band == band


def test_csi4_cutoff_is_13_5_between_the_bands() -> None:
    csi4 = get("csi4")
    assert csi4.chart_cutoffs == (("distress cut-off", 13.5),)
    distressed, not_distressed = csi4.bands
    assert distressed.high < 13.5 < not_distressed.low


@pytest.mark.parametrize("bad", [-1, 7])
def test_csi4_item1_is_refused_outside_0_to_6(bad: int) -> None:
    message = f"CSI-4 item 1: {bad} is outside 0–6"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        score("csi4", [bad, 0, 0, 0])


@pytest.mark.parametrize("position", [1, 2, 3])
@pytest.mark.parametrize("bad", [-1, 6])
def test_csi4_items_2_to_4_are_refused_outside_0_to_5(position: int, bad: int) -> None:
    answers = [0, 0, 0, 0]
    answers[position] = bad
    message = f"CSI-4 item {position + 1}: {bad} is outside 0–5"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        score("csi4", answers)


def test_csi4_item1_allows_six_and_the_others_five() -> None:
    assert score("csi4", [6, 5, 5, 5]).total == 21


def test_csi4_length_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^CSI-4 expects 4 answers, got 16$"):
        score("csi4", [0] * 16)


@pytest.mark.parametrize(("number", "source"), list(enumerate(CSI4_AS_CSI16_ITEMS, start=1)))
def test_csi4_items_are_the_csi16_items_word_for_word(number: int, source: int) -> None:
    csi4_item = get("csi4").item(number)
    csi16_item = get("csi16").item(source)
    assert csi4_item.text == csi16_item.text
    assert csi4_item.options == csi16_item.options
    assert csi4_item.reverse_keyed is csi16_item.reverse_keyed


def test_csi4_wording_follows_the_published_short_form() -> None:
    texts = [item.text for item in get("csi4").items]
    assert texts == [
        "Please indicate the degree of happiness, all things considered, of your relationship.",
        "I have a warm and comfortable relationship with my partner",
        "How rewarding is your relationship with your partner?",
        "In general, how satisfied are you with your relationship?",
    ]


def test_csi4_raises_no_flags() -> None:
    assert score("csi4", [6, 5, 5, 5]).flags == frozenset()
    assert score("csi4", [0, 0, 0, 0]).flags == frozenset()
