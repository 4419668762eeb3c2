"""Report charts: the same chart spec drawn as inline SVG for pages and as JPEG for PDFs,
both partners and the cut-off lines in each, the same bytes every time."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from html import escape
from typing import Any

import pytest
from PIL import Image

from reconnect_clinic.reports.charts import (
    PALETTE,
    RASTER_DPI,
    ChartSpec,
    Series,
    _runs,
    chart_text,
    date_labels,
    layout,
    line_chart_jpeg,
    line_chart_svg,
    score_ticks,
)

SPEC = ChartSpec(
    name="chart-csi16",
    series=(
        Series("Robin (A)", "a", ((date(2026, 9, 1), 40.0), (date(2026, 10, 1), 48.0))),
        Series("Sasha & co <B>", "b", ((date(2026, 9, 2), 60.0), (date(2026, 10, 2), 70.0))),
    ),
    y_max=81,
    cutoffs=(("distress cut-off", 51.5),),
    title="Couples Satisfaction Index",
)


def _near(pixel: tuple[int, int, int], colour: str, tolerance: int = 40) -> bool:
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(p - t) <= tolerance for p, t in zip(pixel, target, strict=True))


def test_jpeg_chart_has_both_partners_lines_at_print_resolution() -> None:
    data = line_chart_jpeg(SPEC)
    assert data == line_chart_jpeg(SPEC)  # deterministic
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (round(SPEC.width_in * RASTER_DPI), round(SPEC.height_in * RASTER_DPI))
    pixels = [image.getpixel((x, y)) for y in range(image.height) for x in range(image.width)]
    for role in ("a", "b"):
        drawn = sum(_near(p, PALETTE[role]) for p in pixels)
        assert drawn > 500, (role, drawn)  # a line with markers, not a stray pixel
    cutoff = sum(_near(p, "#7a4d00", 30) for p in pixels)
    assert cutoff > 500


def test_svg_chart_names_partners_and_cut_off_and_escapes_labels() -> None:
    svg = line_chart_svg(SPEC)
    assert svg.startswith("<svg")
    assert svg == line_chart_svg(SPEC)
    assert "Robin (A)" in svg
    assert "distress cut-off (51.5)" in svg
    assert "Sasha &amp; co &lt;B&gt;" in svg
    assert "<B>" not in svg
    assert 'id="chart-csi16-' in svg  # ids prefixed: several charts share one page


def test_a_chart_with_no_scores_says_so() -> None:
    empty = ChartSpec(name="chart-phq9", series=(Series("Robin (A)", "a", ()),), y_max=27)
    assert "No scores yet" in line_chart_svg(empty)
    assert Image.open(io.BytesIO(line_chart_jpeg(empty))).format == "JPEG"


# --- no global state, determinism, dates, cache, text alternative -----------------------

ONE_DAY = ChartSpec(
    name="chart-gad7",
    series=(Series("Robin (A)", "a", ((date(2026, 12, 2), 8.0),)), Series("Sasha (B)", "b", ())),
    y_max=21,
    cutoffs=(("moderate", 10.0),),
    title="Generalized Anxiety Disorder (GAD-7)",
)
EVERY_KIND = (SPEC, ONE_DAY, ChartSpec(name="chart-phq9", series=(), y_max=27))


def _clear_caches() -> None:
    for cached in (line_chart_svg, line_chart_jpeg, layout):
        cached.cache_clear()


def test_drawing_charts_leaves_matplotlibs_global_state_as_it_was() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    settings, backend = dict(matplotlib.rcParams), matplotlib.get_backend()
    _clear_caches()
    for spec in EVERY_KIND:
        line_chart_svg(spec)
        line_chart_jpeg(spec)
    assert dict(matplotlib.rcParams) == settings
    assert matplotlib.get_backend() == backend


CHILD = """
import json, sys
from datetime import date
import reconnect_clinic.demo, reconnect_clinic.reports.service
from reconnect_clinic.reports.charts import ChartSpec, Series, line_chart_jpeg, line_chart_svg
spec = ChartSpec("chart-x", (Series("Robin (A)", "a", ((date(2026, 12, 2), 8.0),)),), 21)
line_chart_svg(spec), line_chart_jpeg(spec)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")))
"""


@pytest.fixture(scope="module")
def modules_after_drawing() -> list[str]:
    """The Matplotlib modules a fresh process holds after importing the clinic and
    drawing a chart in both formats."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_charts_never_import_pyplot(modules_after_drawing: list[str]) -> None:
    assert "matplotlib.pyplot" not in modules_after_drawing


def test_charts_do_not_load_matplotlib_at_all(modules_after_drawing: list[str]) -> None:
    # Nor its half-second import in a new web process (drawn in plain Python and Pillow).
    assert modules_after_drawing == []


@pytest.mark.parametrize("spec", EVERY_KIND, ids=lambda s: s.name)
def test_the_same_chart_gives_the_same_svg_each_time_it_is_drawn(spec: ChartSpec) -> None:
    _clear_caches()
    first = line_chart_svg(spec)
    _clear_caches()
    assert line_chart_svg(spec) == first


@pytest.mark.parametrize("spec", EVERY_KIND, ids=lambda s: s.name)
def test_the_same_chart_gives_the_same_jpeg_each_time_it_is_drawn(spec: ChartSpec) -> None:
    _clear_caches()
    first = line_chart_jpeg(spec)
    _clear_caches()
    assert line_chart_jpeg(spec) == first


def test_date_labels_read_day_and_month_with_the_year_where_it_changes() -> None:
    days = [date(2026, 12, 2), date(2026, 12, 16), date(2027, 1, 6), date(2027, 1, 20)]
    assert date_labels(days) == ("2 Dec 2026", "16 Dec", "6 Jan 2027", "20 Jan")


def test_a_chart_over_new_year_ticks_months_in_one_format() -> None:
    spec = ChartSpec(
        name="chart-csi16",
        series=(Series("Robin (A)", "a", ((date(2026, 10, 20), 40.0), (date(2027, 2, 10), 55.0))),),
        y_max=81,
    )
    labels = [label for _, label in layout(spec).x_ticks]
    assert labels == ["1 Nov 2026", "1 Dec", "1 Jan 2027", "1 Feb"]


@pytest.mark.parametrize("spec", [SPEC, ONE_DAY], ids=lambda s: s.name)
def test_every_date_tick_has_the_one_format_and_is_in_the_svg(spec: ChartSpec) -> None:
    ticks = layout(spec).x_ticks
    assert len(ticks) >= 2
    svg = line_chart_svg(spec)
    for _, label in ticks:
        assert re.fullmatch(
            r"[1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
            r"( 20[0-9]{2})?",
            label,
        ), label
        assert f">{label}</text>" in svg


def test_the_first_date_tick_says_the_year() -> None:
    first = layout(SPEC).x_ticks[0][1]
    assert first.endswith(" 2026")


def test_date_ticks_fall_inside_the_plot_in_order() -> None:
    lay = layout(SPEC)
    xs = [x for x, _ in lay.x_ticks]
    assert xs == sorted(xs)
    assert lay.left <= xs[0]
    assert xs[-1] <= lay.right


def test_score_ticks_are_round_numbers_up_to_the_maximum() -> None:
    assert score_ticks(81) == (0, 20, 40, 60, 80)
    assert score_ticks(27) == (0, 5, 10, 15, 20, 25)


@pytest.mark.parametrize("draw", [line_chart_svg, line_chart_jpeg], ids=["svg", "jpeg"])
def test_a_chart_drawn_again_comes_from_the_cache_equal(draw: Any) -> None:
    _clear_caches()
    first = draw(SPEC)
    hits = draw.cache_info().hits
    # An equal spec made anew (as each report's assembly makes one) is the same key.
    again = draw(replace(SPEC, series=tuple(replace(s) for s in SPEC.series)))
    assert draw.cache_info().hits == hits + 1
    assert again == first


def test_other_data_is_another_chart() -> None:
    moved = replace(SPEC, cutoffs=(("distress cut-off", 50.0),))
    assert line_chart_svg(moved) != line_chart_svg(SPEC)


def test_the_svg_is_an_image_with_a_title_and_the_scores_in_words() -> None:
    svg = line_chart_svg(SPEC)
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-csi16-title chart-csi16-desc"' in svg
    assert '<title id="chart-csi16-title">Couples Satisfaction Index</title>' in svg
    desc = re.search(r'<desc id="chart-csi16-desc">([^<]*)</desc>', svg)
    assert desc is not None
    assert desc.group(1) == escape(chart_text(SPEC))


def test_the_text_alternative_says_each_score_with_its_date_and_the_cut_off() -> None:
    text = chart_text(SPEC)
    assert "Robin (A): 40 on 1 Sep 2026, 48 on 1 Oct 2026." in text
    assert "Sasha & co <B>: 60 on 2 Sep 2026, 70 on 2 Oct 2026." in text
    assert "Distress cut-off at 51.5." in text
    assert chart_text(ONE_DAY).count("no scores yet") == 1


def test_the_svg_has_no_style_attribute() -> None:
    # Presentation attributes only: nothing a Content-Security-Policy's style-src blocks.
    assert "style=" not in line_chart_svg(SPEC)


def test_a_name_in_another_script_is_set_in_its_packaged_font() -> None:
    runs = _runs("Dana דנה", bold=False)
    assert runs == [("Inter-Regular.otf", "Dana "), ("NotoSansHebrew-Regular.ttf", "דנה")]
