"""Tests for reconnect_clinic.measures.change: reliable and clinically significant change.

The thresholds are written out here from their sources (NHS Talking Therapies: PHQ-9 6
points, caseness 10; GAD-7 4 points, caseness 8; Funk & Rogge's CSI cut-offs 51.5 and
13.5; Jacobson & Truax's 1.96), not read back from the module, and every boundary is
walked from both sides and in both directions.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from reconnect_clinic import measures
from reconnect_clinic.measures import (
    Change,
    ReliabilityBasis,
    ReliableChangeUnavailable,
    can_judge,
    change,
)
from reconnect_clinic.measures.change import PUBLISHED_BASIS
from reconnect_clinic.measures.change import change as change_in_module

# A made-up basis for exercising the Jacobson-Truax arithmetic, NOT a clinical value.
# With r = 0.5, S_diff = sqrt(2 * SD^2 * 0.5) = SD, so SD = 5 / 1.96 puts the cut at
# exactly 5 points: 4 points is not reliable, 5 points is.
EXACT_R = 0.5
EXACT_SD = 5 / 1.96
EXACT = ReliabilityBasis(sd=EXACT_SD, reliability=EXACT_R, source="test basis")

# A second made-up basis whose cut falls between whole points.
UNEVEN = ReliabilityBasis(sd=10.0, reliability=0.9, source="test basis")
UNEVEN_S_DIFF = math.sqrt(2 * (10.0 * math.sqrt(1 - 0.9)) ** 2)
UNEVEN_CUT = 1.96 * UNEVEN_S_DIFF  # 8.77 points


# --- the "done when" ---------------------------------------------------------


def test_phq9_from_15_to_7_is_reliable() -> None:
    assert change("phq9", 15, 7).reliable is True


def test_phq9_from_15_to_7_is_improved() -> None:
    assert change("phq9", 15, 7).direction == "improved"


def test_phq9_from_15_to_7_is_clinically_significant() -> None:
    assert change("phq9", 15, 7).clinically_significant is True


def test_phq9_from_15_to_7_says_so_in_plain_words() -> None:
    meaning = change("phq9", 15, 7).meaning
    assert meaning.startswith("Reliable improvement, now below the clinical cut-off of 10")
    assert "15 → 7" in meaning
    assert "down 8 points" in meaning


def test_change_is_exported_from_the_package() -> None:
    assert measures.change is change_in_module
    assert isinstance(change("gad7", 10, 5), Change)


# --- PHQ-9: 6 points, caseness 10 ----------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [(15, 10), (10, 15), (6, 1), (1, 6), (27, 22)])
def test_phq9_a_difference_of_5_is_not_reliable(before: int, after: int) -> None:
    result = change("phq9", before, after)
    assert result.reliable is False
    assert result.direction == "no reliable change"
    assert result.clinically_significant is False


@pytest.mark.parametrize(("before", "after"), [(16, 10), (6, 0), (27, 21)])
def test_phq9_a_fall_of_6_is_a_reliable_improvement(before: int, after: int) -> None:
    result = change("phq9", before, after)
    assert result.reliable is True
    assert result.direction == "improved"


@pytest.mark.parametrize(("before", "after"), [(10, 16), (0, 6), (21, 27)])
def test_phq9_a_rise_of_6_is_a_reliable_worsening(before: int, after: int) -> None:
    result = change("phq9", before, after)
    assert result.reliable is True
    assert result.direction == "worsened"


def test_phq9_improvement_ending_at_9_crosses_the_cut_off() -> None:
    assert change("phq9", 15, 9).clinically_significant is True


def test_phq9_improvement_ending_at_10_is_still_caseness() -> None:
    result = change("phq9", 16, 10)
    assert result.direction == "improved"
    assert result.clinically_significant is False
    assert result.clinical_after is True


def test_phq9_improvement_from_exactly_10_crosses() -> None:
    assert change("phq9", 10, 4).clinically_significant is True


def test_phq9_improvement_that_started_below_10_is_not_clinically_significant() -> None:
    result = change("phq9", 9, 3)
    assert result.direction == "improved"
    assert result.clinically_significant is False


def test_phq9_crossing_without_reliable_change_is_not_clinically_significant() -> None:
    result = change("phq9", 10, 9)
    assert result.clinical_before is True
    assert result.clinical_after is False
    assert result.clinically_significant is False


def test_phq9_worsening_reaching_exactly_10_is_clinically_significant() -> None:
    result = change("phq9", 4, 10)
    assert result.direction == "worsened"
    assert result.clinically_significant is True


def test_phq9_worsening_from_9_is_clinically_significant() -> None:
    assert change("phq9", 9, 15).clinically_significant is True


def test_phq9_worsening_ending_at_9_is_not_clinically_significant() -> None:
    result = change("phq9", 3, 9)
    assert result.direction == "worsened"
    assert result.clinically_significant is False


def test_phq9_worsening_already_in_caseness_is_not_clinically_significant() -> None:
    result = change("phq9", 10, 16)
    assert result.direction == "worsened"
    assert result.clinically_significant is False


def test_phq9_reports_its_fixed_threshold_and_no_rci() -> None:
    result = change("phq9", 15, 7)
    assert result.threshold == 6
    assert result.points_needed == 6
    assert result.rci is None
    assert result.difference == -8
    assert result.cutoff == 10
    assert "NHS Talking Therapies" in result.source


# --- GAD-7: 4 points, caseness 8 -----------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [(11, 8), (8, 11), (3, 0), (0, 3), (21, 18)])
def test_gad7_a_difference_of_3_is_not_reliable(before: int, after: int) -> None:
    result = change("gad7", before, after)
    assert result.reliable is False
    assert result.direction == "no reliable change"


@pytest.mark.parametrize(("before", "after"), [(12, 8), (4, 0), (21, 17)])
def test_gad7_a_fall_of_4_is_a_reliable_improvement(before: int, after: int) -> None:
    result = change("gad7", before, after)
    assert result.reliable is True
    assert result.direction == "improved"


@pytest.mark.parametrize(("before", "after"), [(8, 12), (0, 4), (17, 21)])
def test_gad7_a_rise_of_4_is_a_reliable_worsening(before: int, after: int) -> None:
    result = change("gad7", before, after)
    assert result.reliable is True
    assert result.direction == "worsened"


def test_gad7_improvement_ending_at_7_crosses_the_cut_off() -> None:
    assert change("gad7", 11, 7).clinically_significant is True


def test_gad7_improvement_from_exactly_8_crosses() -> None:
    assert change("gad7", 8, 4).clinically_significant is True


def test_gad7_improvement_ending_at_8_is_still_caseness() -> None:
    result = change("gad7", 12, 8)
    assert result.direction == "improved"
    assert result.clinically_significant is False


def test_gad7_worsening_reaching_exactly_8_is_clinically_significant() -> None:
    assert change("gad7", 4, 8).clinically_significant is True


def test_gad7_worsening_ending_at_7_is_not_clinically_significant() -> None:
    result = change("gad7", 3, 7)
    assert result.direction == "worsened"
    assert result.clinically_significant is False


def test_gad7_worsening_already_in_caseness_is_not_clinically_significant() -> None:
    result = change("gad7", 8, 12)
    assert result.direction == "worsened"
    assert result.clinically_significant is False


def test_gad7_caseness_is_8_not_the_chart_band_line() -> None:
    assert change("gad7", 8, 8).clinical_before is True
    assert change("gad7", 7, 7).clinical_before is False


# --- CSI: Jacobson-Truax, higher is better --------------------------------------------


def test_the_basis_computes_se_and_s_diff_as_jacobson_truax_define_them() -> None:
    se = 10.0 * math.sqrt(1 - 0.9)
    assert UNEVEN.standard_error == pytest.approx(se)
    assert UNEVEN.s_diff == pytest.approx(math.sqrt(2 * se**2))


@pytest.mark.parametrize("slug", ["csi16", "csi4"])
@pytest.mark.parametrize(("before", "after"), [(0, 4), (4, 0), (10, 14), (14, 10)])
def test_csi_just_below_the_rci_cut_is_not_reliable(slug: str, before: int, after: int) -> None:
    result = change(slug, before, after, basis=EXACT)
    assert result.rci is not None
    assert abs(result.rci) < 1.96
    assert result.reliable is False
    assert result.direction == "no reliable change"


@pytest.mark.parametrize("slug", ["csi16", "csi4"])
def test_csi_a_rise_exactly_at_the_rci_cut_is_a_reliable_improvement(slug: str) -> None:
    result = change(slug, 5, 10, basis=EXACT)
    assert result.rci == pytest.approx(1.96)
    assert result.reliable is True
    assert result.direction == "improved"


@pytest.mark.parametrize("slug", ["csi16", "csi4"])
def test_csi_a_fall_exactly_at_the_rci_cut_is_a_reliable_worsening(slug: str) -> None:
    result = change(slug, 10, 5, basis=EXACT)
    assert result.rci == pytest.approx(-1.96)
    assert result.reliable is True
    assert result.direction == "worsened"


def test_csi_rci_is_the_difference_over_s_diff() -> None:
    result = change("csi16", 40, 49, basis=UNEVEN)
    assert result.rci == pytest.approx(9 / UNEVEN_S_DIFF)
    assert result.threshold == pytest.approx(UNEVEN_CUT)


def test_csi_points_needed_is_the_next_whole_point_above_an_uneven_cut() -> None:
    assert change("csi16", 40, 49, basis=UNEVEN).points_needed == math.ceil(UNEVEN_CUT)


def test_csi_below_an_uneven_cut_is_not_reliable() -> None:
    below = math.floor(UNEVEN_CUT)
    assert change("csi16", 40, 40 + below, basis=UNEVEN).reliable is False
    assert change("csi16", 40 + below, 40, basis=UNEVEN).reliable is False


def test_csi_at_the_next_whole_point_above_an_uneven_cut_is_reliable() -> None:
    above = math.ceil(UNEVEN_CUT)
    assert change("csi16", 40, 40 + above, basis=UNEVEN).direction == "improved"
    assert change("csi16", 40 + above, 40, basis=UNEVEN).direction == "worsened"


def test_csi16_improvement_to_52_crosses_the_51_5_cut_off() -> None:
    result = change("csi16", 47, 52, basis=EXACT)
    assert result.direction == "improved"
    assert result.clinically_significant is True


def test_csi16_improvement_to_51_is_still_distressed() -> None:
    result = change("csi16", 46, 51, basis=EXACT)
    assert result.direction == "improved"
    assert result.clinically_significant is False
    assert result.clinical_after is True


def test_csi16_improvement_above_the_cut_off_all_along_is_not_clinically_significant() -> None:
    assert change("csi16", 52, 57, basis=EXACT).clinically_significant is False


def test_csi16_worsening_to_51_crosses_the_cut_off() -> None:
    result = change("csi16", 56, 51, basis=EXACT)
    assert result.direction == "worsened"
    assert result.clinically_significant is True


def test_csi16_worsening_to_52_is_not_clinically_significant() -> None:
    result = change("csi16", 57, 52, basis=EXACT)
    assert result.direction == "worsened"
    assert result.clinically_significant is False


def test_csi16_worsening_already_distressed_is_not_clinically_significant() -> None:
    assert change("csi16", 51, 46, basis=EXACT).clinically_significant is False


def test_csi4_improvement_to_14_crosses_the_13_5_cut_off() -> None:
    assert change("csi4", 9, 14, basis=EXACT).clinically_significant is True


def test_csi4_improvement_to_13_is_still_distressed() -> None:
    result = change("csi4", 8, 13, basis=EXACT)
    assert result.direction == "improved"
    assert result.clinically_significant is False


def test_csi4_worsening_to_13_crosses_the_cut_off() -> None:
    assert change("csi4", 18, 13, basis=EXACT).clinically_significant is True


def test_csi4_worsening_to_14_is_not_clinically_significant() -> None:
    result = change("csi4", 19, 14, basis=EXACT)
    assert result.direction == "worsened"
    assert result.clinically_significant is False


def test_csi_meaning_speaks_of_the_distress_cut_off() -> None:
    meaning = change("csi16", 47, 52, basis=EXACT).meaning
    assert meaning.startswith("Reliable improvement, now above the distress cut-off of 51.5")


# --- no invented constants ------------------------------------------------------------


@pytest.mark.parametrize("slug", ["csi16", "csi4"])
def test_no_csi_basis_is_on_record_yet(slug: str) -> None:
    assert PUBLISHED_BASIS[slug] is None


@pytest.mark.parametrize("slug", ["csi16", "csi4"])
def test_csi_without_a_basis_is_refused_not_guessed(slug: str) -> None:
    with pytest.raises(ReliableChangeUnavailable, match="no published standard deviation"):
        change(slug, 10, 20)


@pytest.mark.parametrize(("slug", "judged"), [("phq9", True), ("gad7", True), ("csi4", False)])
def test_can_judge_says_which_measures_have_a_basis(slug: str, judged: bool) -> None:
    assert can_judge(slug) is judged


def test_can_judge_refuses_an_unknown_slug() -> None:
    with pytest.raises(ValueError, match="unknown instrument"):
        can_judge("bdi")


def test_a_basis_is_refused_for_the_fixed_point_measures() -> None:
    with pytest.raises(ValueError, match="fixed published points"):
        change("phq9", 15, 7, basis=EXACT)


@pytest.mark.parametrize(
    ("sd", "reliability"), [(0.0, 0.9), (-1.0, 0.9), (10.0, 1.0), (10.0, -0.1)]
)
def test_an_impossible_basis_is_refused(sd: float, reliability: float) -> None:
    with pytest.raises(ValueError):
        ReliabilityBasis(sd=sd, reliability=reliability, source="test")


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["phq-9", "PHQ9", "csi32", ""])
def test_an_unknown_slug_is_refused(slug: str) -> None:
    with pytest.raises(ValueError, match="unknown instrument"):
        change(slug, 1, 2)


@pytest.mark.parametrize(
    ("slug", "bad"),
    [("phq9", -1), ("phq9", 28), ("gad7", -1), ("gad7", 22), ("csi16", 82), ("csi4", 22)],
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_total_outside_the_range_is_refused(slug: str, bad: int, where: str) -> None:
    before, after = (bad, 0) if where == "before" else (0, bad)
    with pytest.raises(ValueError, match=f"the {where} total {bad} is outside"):
        change(slug, before, after, basis=EXACT if slug.startswith("csi") else None)


@pytest.mark.parametrize(("slug", "top"), [("phq9", 27), ("gad7", 21)])
def test_the_ends_of_the_range_are_accepted(slug: str, top: int) -> None:
    assert change(slug, top, 0).difference == -top


@pytest.mark.parametrize("bad", [True, 7.0, "7", None])
def test_a_total_that_is_not_a_whole_number_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="must be a whole number"):
        change("phq9", bad, 7)  # type: ignore[arg-type]


# --- the result -----------------------------------------------------------------------


def test_the_result_is_frozen() -> None:
    result = change("phq9", 15, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.reliable = False  # type: ignore[misc]


def test_no_change_says_so() -> None:
    result = change("phq9", 12, 12)
    assert result.direction == "no reliable change"
    assert result.meaning.startswith("No reliable change, still at or above the clinical")


def test_a_worsening_says_so() -> None:
    assert change("gad7", 4, 9).meaning.startswith(
        "Reliable worsening, now at or above the clinical cut-off of 8"
    )
