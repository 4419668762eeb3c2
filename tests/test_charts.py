"""Report charts: the same chart spec drawn as inline SVG for pages and as JPEG for PDFs,
both partners and the cut-off lines in each, the same bytes every time."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from reconnect_clinic.reports.charts import (
    PALETTE,
    RASTER_DPI,
    ChartSpec,
    Series,
    line_chart_jpeg,
    line_chart_svg,
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
