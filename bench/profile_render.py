"""Where the time of one session-report render goes.

    .venv/bin/python bench/profile_render.py [--renders N] [--top K]

It builds the same report as bench_reports.py and renders it in this process, as a warm
worker does (the worker's engine: packaged fonts and stylesheet loaded once, PDF/A-3b),
without the pipes. Printed:

1. the three WeasyPrint steps timed without a profiler (medians): parsing the HTML,
   ``render()`` (style cascade, boxes, layout) and ``write_pdf()`` (drawing, fonts, PDF);
2. the same report without its chart, and with it as inline SVG (as it was before the
   PNG), so that the chart's share is plain; and the report with its streams left to
   pydyf, which compresses each of them twice (``compat.compress_streams_once``);
3. a cProfile breakdown by phase (cumulative time of WeasyPrint's own functions; the
   profiler slows pure-Python code more than C, so read it as proportions);
4. the functions with the most time of their own;
5. (``--plain``) where plain WeasyPrint on the same document (``bench_reports.py``'s
   baseline) spends what the product does not: its setup per render (a new font
   configuration, the stylesheet parsed and its ``@font-face`` fonts loaded), its render
   with that setup kept, and the product's render in this process with and without
   PDF/A (what the product does that the plain caller does not).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plain_documents import DocumentFiles, plain_weasyprint
from scenario import scenario

from reconnect_clinic.reports import service
from reconnect_clinic.reports.charts import line_chart_svg
from reconnect_clinic.reports.pdf import compat, engine, fetcher

# (label, file suffix, function name): cumulative time of these functions.
PHASES = (
    ("parse the HTML (tinyhtml5)", "weasyprint/__init__.py", "__init__"),
    ("style cascade", "css/__init__.py", "get_all_computed_styles"),
    ("boxes", "formatting_structure/build.py", "build_formatting_structure"),
    ("layout (all pages)", "layout/__init__.py", "layout_document"),
    ("  of which line breaking (Pango)", "text/line_break.py", "split_first_line"),
    ("  of which page margin boxes", "layout/page.py", "make_margin_boxes"),
    ("draw pages", "draw/__init__.py", "draw_page"),
    ("  of which the SVG chart", "svg/__init__.py", "draw"),
    ("  of which text", "draw/text.py", "draw_text"),
    ("write the PDF (incl. drawing)", "pdf/__init__.py", "generate_pdf"),
    ("  of which font subsetting", "pdf/fonts.py", "build_fonts_dictionary"),
    ("  of which PDF/A metadata", "pdf/pdfa.py", "pdfa"),
    ("  of which serialising (pydyf)", "pydyf/__init__.py", "write"),
)


def steps(
    html: str, images: dict[str, bytes], runs: int, finisher: Callable[..., None] | None
) -> tuple[float, float, float]:
    worker = engine.get_engine()
    fetcher_class = fetcher.fetcher_class()
    options = {
        "pdf_variant": engine.PDF_VARIANT,
        "pdf_identifier": hashlib.sha256(html.encode()).hexdigest()[:32].encode(),
    }
    parse, lay_out, write = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        document = worker.HTML(string=html, url_fetcher=fetcher_class(logo=None, images=images))
        t1 = time.perf_counter()
        rendered = document.render(
            font_config=worker.font_config, stylesheets=[worker.stylesheet], **options
        )
        t2 = time.perf_counter()
        rendered.write_pdf(finisher=finisher, **options)
        t3 = time.perf_counter()
        parse.append(t1 - t0)
        lay_out.append(t2 - t1)
        write.append(t3 - t2)
    return tuple(statistics.median(x) * 1000 for x in (parse, lay_out, write))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=15)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--plain", action="store_true", help="only section 5 (plain WeasyPrint)")
    args = parser.parse_args()

    with scenario() as s, s.app.app_context(), s.request():
        printable = s.session_report_printable()
        couple, therapy = s.records()
        spec = service.load_session_report(couple, therapy).chart
        inline_svg = line_chart_svg(spec)
    html, images = printable.html, dict(printable.images)
    chart_image = re.compile(r'<img class="chart-image"[^>]*>')
    once = compat.compress_streams_once
    variants = (
        ("session report (chart as JPEG)", html, once),
        ("the same without its chart", chart_image.sub("", html), once),
        ("the same, chart as inline SVG", chart_image.sub(lambda _: inline_svg, html), once),
        # pydyf compresses each stream twice (see compat.compress_streams_once).
        ("the same as the first, pydyf alone", html, None),
    )
    if args.plain:
        plain_section(html, images, args.renders)
        return
    for _ in range(3):
        for _, text, _ in variants:
            engine.render_here(text, None, images)  # warm, as a worker is

    print(f"Session report: {len(html):,} bytes of HTML, {args.renders} renders each\n")
    print(f"  {'median ms':>34} {'parse':>7} {'render':>7} {'write':>7} {'total':>7}")
    for label, text, finisher in variants:
        p, r, w = steps(text, images, args.renders, finisher)
        print(f"  {label:<34} {p:7.1f} {r:7.1f} {w:7.1f} {p + r + w:7.1f}")

    profile = cProfile.Profile()
    for _ in range(args.renders):
        profile.enable()
        engine.render_here(html, None, images)
        profile.disable()
    stats = pstats.Stats(profile)
    total = sum(
        ct
        for (filename, _, name), (_, _, _, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
        if filename.endswith("reports/pdf/engine.py") and name == "render_here"
    )
    print(
        f"\n  cProfile, share of render_here ({total / args.renders * 1000:.0f} ms a render "
        "under the profiler):"
    )
    for label, suffix, function in PHASES:
        cumulative = sum(
            ct
            for (filename, _, name), (_, _, _, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
            if filename.endswith(suffix) and name == function
        )
        print(f"    {label:<34} {cumulative / total * 100:5.1f} %")
    print(f"\n  Most time of their own (top {args.top}):")
    stats.strip_dirs().sort_stats("tottime").print_stats(args.top)


def plain_section(html: str, images: dict[str, bytes], runs: int) -> None:
    """Section 5: the plain caller's time, taken apart, beside the product's, alternating."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    worker = engine.get_engine()
    fetcher_class = fetcher.fetcher_class()
    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()

    def product(pdf_a: bool) -> Callable[[], object]:
        options = {"pdf_variant": engine.PDF_VARIANT, "pdf_identifier": identifier} if pdf_a else {}

        def render() -> object:
            document = worker.HTML(
                string=html, url_fetcher=fetcher_class(logo=None, images=images)
            ).render(font_config=worker.font_config, stylesheets=[worker.stylesheet], **options)
            return document.write_pdf(finisher=compat.compress_streams_once, **options)

        return render

    with DocumentFiles(html, images) as files:
        base_url = f"{files.folder}/"

        def setup() -> tuple[Any, Any]:
            font_config = FontConfiguration()
            stylesheet = CSS(filename=str(files.stylesheet), font_config=font_config)
            return font_config, stylesheet

        kept = setup()

        def plain_kept() -> object:
            return HTML(string=files.html, base_url=base_url).write_pdf(
                stylesheets=[kept[1]], font_config=kept[0]
            )

        calls: list[tuple[str, Callable[[], object]]] = [
            ("plain WeasyPrint, as bench_reports.py", plain_weasyprint(files)),
            ("  its setup: fonts, stylesheet", setup),
            ("  plain with that setup kept", plain_kept),
            ("the product's render, PDF/A-3b", product(True)),
            ("  the same without PDF/A", product(False)),
        ]
        for _, call in calls:
            call()
        timings: dict[str, list[float]] = {label: [] for label, _ in calls}
        for round_number in range(runs):
            for label, call in reversed(calls) if round_number % 2 else calls:
                started = time.perf_counter()
                call()
                timings[label].append(time.perf_counter() - started)
    print(f"Plain WeasyPrint against the product, in this process ({runs} renders each)\n")
    for label, _ in calls:
        print(f"  {label:<40} {statistics.median(timings[label]) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
