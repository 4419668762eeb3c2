"""What a report chart costs, drawn each way the issue asks to compare: figures, printed.

    .venv/bin/python bench/bench_charts.py [--rounds N]

It builds the couple of bench/scenario.py (the progress report's three charts: CSI-16,
PHQ-9, GAD-7, both partners, the cut-offs) and measures, in this one run, round after
round with the options alternating (so that a change in the machine's load falls on all):

(0) Matplotlib as the charts were drawn until 2026-12-02: a figure with axes,
    ``tight_layout``, the four report fonts as a fallback list for every text, SVG and
    Agg + Pillow JPEG (inside ``rc_context``, so this process's Matplotlib is left as it
    was);
(1) Matplotlib's object API with fixed margins (no ``tight_layout``) and one font (Inter,
    by file) for every text;
(2) the product's charts (``reconnect_clinic.reports.charts``): the layout in plain
    Python, SVG written directly, the JPEG drawn with Pillow; uncached;
(2b) the PDF taking (2)'s SVG inline instead of the JPEG: what WeasyPrint's render of the
    progress report costs more, per chart, than with an empty box of the chart's size in
    its place (beside the same for the JPEGs: what placing an image costs);
(3) the product's cache (``functools.lru_cache`` on the spec, per format): a chart asked
    for again.

Then the reports themselves, through the product: the progress report's PDF (its HTML
with the charts drawn, and ``html_to_pdf``) and its HTML preview, and the session
report's PDF (one chart), the charts' caches cleared before each so that every chart is
drawn. Printed: ms per chart (median of all charts of all rounds) for each option and
format, each option's share of the progress report's PDF (one chart, and the report's
three), and PASS or FAIL against the issue's target (a chart at most 10 % of the report
it is in: the progress report's PDF and preview, the session report's PDF). Every option
is checked to give the same bytes twice. Exit status 0 either way.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import statistics
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_reports import ms, timed  # noqa: E402
from scenario import TODAY, scenario  # noqa: E402

from reconnect_clinic.reports import charts  # noqa: E402
from reconnect_clinic.reports import pdf as render  # noqa: E402
from reconnect_clinic.reports.charts import ChartSpec  # noqa: E402
from reconnect_clinic.reports.pdf import engine  # noqa: E402

TARGET_SHARE = 0.10
PROGRESS = "reconnect_clinic/reports/progress.html"

# --- (0) and (1): Matplotlib ----------------------------------------------------------

FONTS = files("reconnect_clinic.reports") / "assets" / "fonts"
LEGACY_RC = {
    "svg.hashsalt": "reconnect-clinic",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": list(charts.FONT_FAMILIES),
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#4d5a61",
    "axes.labelcolor": "#1d2428",
    "xtick.color": "#4d5a61",
    "ytick.color": "#4d5a61",
    "legend.frameon": False,
}


def _register_fonts() -> None:
    """Option (0) finds the report fonts by name, as the old module did (this process's
    font list only: the bench's own)."""
    from matplotlib import font_manager

    with ExitStack() as stack:
        for name in charts.CHART_FONT_FILES:
            path = stack.enter_context(as_file(FONTS / name))
            font_manager.fontManager.addfont(str(path))


def _figure(spec: ChartSpec, *, fixed: bool) -> Any:
    """The old chart's figure; ``fixed``: margins fixed and one font, by file (1), rather
    than ``tight_layout`` and the fallback list (0)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font: dict[str, Any] = {}
    if fixed:
        with as_file(FONTS / "Inter-Regular.otf") as path:
            font = {"fontproperties": FontProperties(fname=str(path), size=8)}
    small: dict[str, Any] = {"fontsize": 7}
    if fixed:
        small = {"fontproperties": FontProperties(fname=font["fontproperties"].get_file(), size=7)}
    figure = Figure(figsize=(spec.width_in, spec.height_in), facecolor="white")
    axes = figure.subplots()
    for s in spec.series:
        if s.points:
            axes.plot(
                [d for d, _ in s.points],
                [v for _, v in s.points],
                marker=charts.MARKERS.get(s.role, "o"),
                color=charts.PALETTE.get(s.role, "#1d2428"),
                linewidth=1.4,
                markersize=4,
                label=s.label,
            )
    for label, value in spec.cutoffs:
        axes.axhline(value, linestyle="--", linewidth=0.9, color="#7a4d00")
        axes.annotate(
            f"{label} ({value:g})",
            xy=(1, value),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color="#7a4d00",
            **small,
        )
    axes.set_ylim(0, spec.y_max)
    days = sorted({d for s in spec.series for d, _ in s.points})
    if days:
        locator = AutoDateLocator(minticks=2, maxticks=6)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        pad = max(timedelta(days=7), (days[-1] - days[0]) / 20)
        axes.set_xlim(days[0] - pad, days[-1] + pad)
    if fixed:
        for tick in (*axes.get_xticklabels(), *axes.get_yticklabels()):
            tick.set_fontproperties(font["fontproperties"])
    if spec.title:
        axes.set_title(spec.title, loc="left", fontsize=9, fontweight="bold")
    if days:
        axes.legend(loc="upper left", fontsize=7, ncols=2)
    if fixed:
        figure.subplots_adjust(left=0.06, right=0.98, top=0.86, bottom=0.14)
    else:
        figure.tight_layout()
    return figure


def matplotlib_svg(spec: ChartSpec, *, fixed: bool) -> str:
    import matplotlib

    with matplotlib.rc_context(LEGACY_RC):
        figure = _figure(spec, fixed=fixed)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def matplotlib_jpeg(spec: ChartSpec, *, fixed: bool) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    with matplotlib.rc_context(LEGACY_RC):
        figure = _figure(spec, fixed=fixed)
        figure.set_dpi(charts.RASTER_DPI)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, subsampling=0, dpi=(charts.RASTER_DPI,) * 2)
    return buffer.getvalue()


def clear_chart_caches() -> None:
    for cached in (charts.line_chart_svg, charts.line_chart_jpeg, charts.layout):
        cached.cache_clear()


def uncached(function: Any) -> Callable[[ChartSpec], Any]:
    """The product's drawing without its cache (nor the layout's)."""

    def draw(spec: ChartSpec) -> Any:
        charts.layout.cache_clear()
        return function.__wrapped__(spec)

    return draw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        import matplotlib  # noqa: F401

        have_matplotlib = True
        _register_fonts()
    except ImportError:
        have_matplotlib = False

    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("matplotlib").setLevel(logging.ERROR)

    with scenario() as s, s.app.app_context(), s.request():
        from reconnect_clinic.reports import service

        couple, _ = s.records()
        report = service.load_progress_report(couple, TODAY)
        specs = list(report.charts.values())

        def printable() -> Any:
            clear_chart_caches()
            return service._report(PROGRESS, printable=True, couple=report.couple, report=report)

        def session_pdf() -> bytes:
            clear_chart_caches()
            return bytes(s.session_report_printable().pdf())

        def preview() -> str:
            clear_chart_caches()
            return service.progress_report_html(couple, report)

        options: list[tuple[str, str, Callable[[ChartSpec], Any]]] = []
        if have_matplotlib:
            options += [
                (
                    "(0) Matplotlib until 2026-12-02",
                    "svg",
                    lambda c: matplotlib_svg(c, fixed=False),
                ),
                (
                    "(0) Matplotlib until 2026-12-02",
                    "jpeg",
                    lambda c: matplotlib_jpeg(c, fixed=False),
                ),
                (
                    "(1) Matplotlib, fixed margins, one font",
                    "svg",
                    lambda c: matplotlib_svg(c, fixed=True),
                ),
                (
                    "(1) Matplotlib, fixed margins, one font",
                    "jpeg",
                    lambda c: matplotlib_jpeg(c, fixed=True),
                ),
            ]
        options += [
            ("(2) direct SVG / Pillow JPEG (product)", "svg", uncached(charts.line_chart_svg)),
            ("(2) direct SVG / Pillow JPEG (product)", "jpeg", uncached(charts.line_chart_jpeg)),
            ("(3) the product's cache, a hit", "svg", charts.line_chart_svg),
            ("(3) the product's cache, a hit", "jpeg", charts.line_chart_jpeg),
        ]

        # The PDF's HTML with the charts as JPEG images (the product), without them, and
        # with the direct SVG inline (2b): what WeasyPrint's render costs for each.
        first = printable()
        html, images = first.html, dict(first.images)
        chart_image = re.compile(r'<img class="chart-image" src="[^"]*image/([^"]+)"[^>]*>')
        by_name = {spec.name: spec for spec in specs}
        variants = {
            "JPEG images": html,
            # An empty box of the chart's size: the same pages, nothing drawn in it.
            "no charts": chart_image.sub(
                lambda m: (
                    '<div style="width: {0.width_in}in; height: {0.height_in}in"></div>'.format(
                        by_name[m.group(1)]
                    )
                ),
                html,
            ),
            "inline SVG": chart_image.sub(
                lambda m: charts.line_chart_svg(by_name[m.group(1)]), html
            ),
        }

        # Warm everything once (imports, fonts, the PDF workers) and check determinism.
        render.warm_up()
        for label, kind, draw in options:
            for spec in specs:
                assert draw(spec) == draw(spec), f"{label} {kind}: other bytes for the same chart"
        for text in variants.values():
            engine.render_here(text, None, images)
        render.html_to_pdf(html, images=images)
        preview()
        session_pdf()

        times: dict[tuple[str, str], list[float]] = {(o[0], o[1]): [] for o in options}
        here: dict[str, list[float]] = {name: [] for name in variants}
        pdf_total, pdf_build, html_total, session_total = [], [], [], []
        for _ in range(args.rounds):
            for label, kind, draw in options:
                for spec in specs:
                    if label.startswith("(3)"):
                        draw(spec)  # in the cache (the report below clears it)
                    seconds, _ = timed(lambda: draw(spec))  # noqa: B023
                    times[(label, kind)].append(seconds)
            for name, text in variants.items():
                seconds, _ = timed(lambda: engine.render_here(text, None, images))  # noqa: B023
                here[name].append(seconds)
            build, made = timed(printable)
            pdf, _ = timed(lambda: made.pdf())  # noqa: B023
            pdf_build.append(build)
            pdf_total.append(build + pdf)
            seconds, _ = timed(preview)
            html_total.append(seconds)
            seconds, _ = timed(session_pdf)
            session_total.append(seconds)
        render.shutdown()

    median = statistics.median
    report_pdf, report_html = median(pdf_total), median(html_total)
    n = len(specs)

    # What WeasyPrint's render costs more per chart: the JPEG placed, or the SVG inline.
    # Paired by round (the renders of a round follow each other): a change of load
    # between rounds falls out of the difference.
    def extra(name: str) -> float:
        pairs = zip(here[name], here["no charts"], strict=True)
        return median(with_charts - boxes for with_charts, boxes in pairs) / n

    jpeg_in_pdf, svg_in_pdf = extra("JPEG images"), extra("inline SVG")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print("Report charts benchmark (bench/bench_charts.py)")
    print(
        f"  machine: {os.cpu_count()} cores, load average {load} (1/5/15 min), "
        f"Python {platform.python_version()}"
    )
    print(f"  the progress report's {n} charts, {args.rounds} rounds, options alternating")
    print(
        f"  progress report PDF {ms(report_pdf):.1f} ms (HTML and charts "
        f"{ms(median(pdf_build)):.1f} ms, then html_to_pdf); preview {ms(report_html):.1f} ms"
    )
    print(f"  session report PDF (one chart) {ms(median(session_total)):.1f} ms")
    print(
        f"  WeasyPrint, in this process: with the JPEG images {ms(median(here['JPEG images'])):.1f}"
        f" ms, empty boxes instead {ms(median(here['no charts'])):.1f} ms, the SVG inline "
        f"{ms(median(here['inline SVG'])):.1f} ms"
    )
    print()
    print(f"  {'option':<42} {'format':<6} {'ms/chart':>9} {'of PDF':>8} {'3 charts':>9}")
    for (label, kind), values in times.items():
        per_chart = median(values)
        print(
            f"  {label:<42} {kind:<6} {ms(per_chart):9.2f} {per_chart / report_pdf:8.1%} "
            f"{n * per_chart / report_pdf:9.1%}"
        )
    for label, kind, cost in (
        ("(2) the JPEG placed in the PDF", "jpeg", jpeg_in_pdf),
        ("(2b) the direct SVG inline in the PDF", "svg", svg_in_pdf),
    ):
        print(
            f"  {label:<42} {kind:<6} {ms(cost):9.2f} {cost / report_pdf:8.1%} "
            f"{n * cost / report_pdf:9.1%}   (WeasyPrint's time, on top of drawing it)"
        )
    print()
    product_jpeg = median(times[("(2) direct SVG / Pillow JPEG (product)", "jpeg")])
    product_svg = median(times[("(2) direct SVG / Pillow JPEG (product)", "svg")])
    # A PDF's chart costs its drawing and its placing (negative is noise: counted as 0).
    product_jpeg += max(0.0, jpeg_in_pdf)

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print(
        f"  {verdict(product_jpeg <= TARGET_SHARE * report_pdf)}  a PDF chart (drawn, placed) "
        f"{ms(product_jpeg):.1f} ms = {product_jpeg / report_pdf:.1%} of the progress report's "
        f"PDF <= {TARGET_SHARE:.0%}"
    )
    session = median(session_total)
    print(
        f"  {verdict(product_jpeg <= TARGET_SHARE * session)}  session report's chart, the same "
        f"{ms(product_jpeg):.1f} ms = {product_jpeg / session:.1%} of its PDF <= {TARGET_SHARE:.0%}"
    )
    print(
        f"  {verdict(product_svg <= TARGET_SHARE * report_html)}  a preview chart "
        f"{ms(product_svg):.2f} ms = {product_svg / report_html:.1%} of the progress report's "
        f"preview <= {TARGET_SHARE:.0%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
