"""The split-alliance rules and the rating items, as pure functions, at their boundaries."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from reconnect_clinic.config import DEFAULTS
from reconnect_clinic.ratings.alliance import (
    DROP,
    SPLIT,
    Flag,
    SessionScores,
    Thresholds,
    dropped,
    flags,
    split,
)
from reconnect_clinic.ratings.items import (
    BUILT_IN,
    clean_answers,
    measure_from_setting,
    score,
)

T = Thresholds(split_gap=3.0, drop=2.0)
DAY = date(2026, 1, 5)


def _session(n: int, a: float | None, b: float | None) -> SessionScores:
    return SessionScores(uuid.UUID(int=n), DAY + timedelta(weeks=n), a, b)


def test_defaults_are_the_documented_ones():
    assert DEFAULTS["RECONNECT_CLINIC_ALLIANCE_SPLIT_GAP"] == 3.0
    assert DEFAULTS["RECONNECT_CLINIC_ALLIANCE_DROP"] == 2.0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (8.0, 5.0, True),  # exactly the gap
        (5.0, 8.0, True),  # either way round
        (8.0, 5.1, False),  # just under
        (7.3, 4.3, True),  # decimals that do not subtract exactly in binary
        (10.0, 0.0, True),
        (6.0, 6.0, False),
        (6.0, None, False),  # one partner has not rated: no split
        (None, None, False),
    ],
)
def test_split_at_the_gap(a, b, expected):
    assert split(_session(1, a, b), T) is expected


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (8.0, 6.0, True),  # exactly the fall
        (8.0, 6.1, False),
        (6.0, 8.0, False),  # a rise
        (7.2, 5.2, True),
        (None, 5.0, False),
        (8.0, None, False),
    ],
)
def test_drop_at_the_threshold(before, after, expected):
    assert dropped(before, after, T) is expected


def test_flags_over_a_couples_sessions():
    series = [
        _session(1, 8.0, 7.5),
        _session(2, 8.5, 4.0),  # split, and B fell 3.5
        _session(3, None, 4.5),  # A missed it
        _session(4, 6.0, 4.5),  # A fell 2.5 from session 2, their previous rated one
    ]
    found = flags(reversed(series), T)  # any order in
    assert found == [
        Flag(uuid.UUID(int=2), SPLIT),
        Flag(uuid.UUID(int=2), DROP, "b"),
        Flag(uuid.UUID(int=4), DROP, "a"),
    ]


def test_no_flags_for_steady_ratings():
    assert flags([_session(n, 7.0, 7.5) for n in range(1, 6)], T) == []


def test_thresholds_are_honoured():
    series = [_session(1, 8.0, 6.0)]
    assert flags(series, Thresholds(split_gap=2.0, drop=2.0)) == [Flag(uuid.UUID(int=1), SPLIT)]
    assert flags(series, T) == []


def test_score_is_the_mean_on_zero_to_ten():
    assert score(BUILT_IN, {"heard": 10, "what_matters": 8, "approach": 6, "overall": 8}) == 8.0
    assert score(BUILT_IN, {"heard": 0, "what_matters": 0, "approach": 0, "overall": 1}) == 0.2
    assert score(BUILT_IN, {}) is None


def test_a_practices_own_measure_is_put_on_zero_to_ten():
    own = measure_from_setting(
        {
            "slug": "our_check",
            "title": "Our check",
            "version": "2",
            "low": 1,
            "high": 5,
            "items": [["useful", "The session was useful.", "no", "very"]],
        }
    )
    assert own.slug == "our_check"
    assert [i.key for i in own.items] == ["useful"]
    assert score(own, {"useful": 5}) == 10.0
    assert score(own, {"useful": 1}) == 0.0
    assert score(own, {"useful": 3}) == 5.0


@pytest.mark.parametrize(
    "spec",
    [
        {"slug": "x", "title": "X", "low": 0, "high": 10, "items": []},
        {"slug": "x", "title": "X", "low": 5, "high": 5, "items": [["a", "A", "", ""]]},
        {"slug": "x", "title": "X", "low": 0, "high": 10, "items": [["a", "A"]]},
        {"slug": "x", "low": 0, "high": 10, "items": [["a", "A", "", ""]]},
        {
            "slug": "x",
            "title": "X",
            "low": 0,
            "high": 10,
            "items": [["a", "A", "", ""], ["a", "B", "", ""]],
        },
    ],
)
def test_a_malformed_measure_is_refused(spec):
    with pytest.raises(ValueError, match="RECONNECT_CLINIC_RATING_MEASURE"):
        measure_from_setting(spec)


def test_built_in_items_cover_what_the_issue_asks():
    keys = [item.key for item in BUILT_IN.items]
    assert keys == ["heard", "what_matters", "approach", "overall"]
    assert (BUILT_IN.low, BUILT_IN.high) == (0, 10)


@pytest.mark.parametrize("value", ["11", "-1", "", "seven", None])
def test_answers_off_the_scale_are_refused(value):
    answers = {"heard": "5", "what_matters": "5", "approach": "5", "overall": value}
    with pytest.raises(ValueError, match="overall"):
        clean_answers(BUILT_IN, answers)


def test_answers_are_cleaned_to_ints():
    answers = {"heard": "0", "what_matters": "10", "approach": "5", "overall": "7"}
    assert clean_answers(BUILT_IN, answers) == {
        "heard": 0,
        "what_matters": 10,
        "approach": 5,
        "overall": 7,
    }
