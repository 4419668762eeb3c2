"""How fast the session report is made, and served once stored: figures, printed.

    .venv/bin/python bench/bench_reports.py [--renders N] [--warm-up W]

It builds a couple with a full history in a throwaway SQLite database (bench/scenario.py:
the demo seed, measures given again over treatment, homework, a signed DAP note with
several paragraphs per section and an addendum), renders the session report's HTML
through the real ``service.session_report_printable`` and then measures, in this one run and
with the same system libraries:

(a) optimized: ``reconnect_clinic.reports.pdf.html_to_pdf(html, images=...)``, the
    product's path (worker process, packaged fonts, stylesheet parsed once, the chart as
    a PNG image, PDF/A-3b), after warm-up;
(b) naive: the same report as a first draft would write it (bench/naive_session_report.html,
    tables for everything, rendered with Jinja from the same data; bench/naive_report.css
    with the system's default fonts), rendered in this process with
    ``weasyprint.HTML(string=...).write_pdf()``, a new ``FontConfiguration`` and a new
    stylesheet parse for every render, and the chart inline as Matplotlib's SVG;
(c) the ratio of the two medians (renders of (a) and (b) alternate, so that a change in
    the machine's load falls on both);
(d) building the report's HTML (loading and assembling the records, drawing the chart
    with Matplotlib, rendering the template), which (a) does not include;
(e) serving the stored signed report: the test client's GET of the report's URL, logged
    in as the therapist (the first request is not counted), checked to return the
    stored bytes.

Every render is a real one: nothing is cached between iterations but what the product
keeps per worker process (fonts, stylesheet). The targets of the issue are printed with
PASS or FAIL; the exit status is 0 either way unless something fails to work.
"""

from __future__ import annotations

import argparse
import contextvars
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jinja2  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from plain_documents import (  # noqa: E402
    ChromiumPrinter,
    DocumentFiles,
    chromium_unavailable,
    plain_weasyprint,
)
from scenario import TODAY, scenario  # noqa: E402

from reconnect_clinic.reports import pdf as render  # noqa: E402
from reconnect_clinic.reports.assembly import created_stamp  # noqa: E402
from reconnect_clinic.reports.charts import line_chart_svg  # noqa: E402

TARGET_MEDIAN_MS = 150.0
TARGET_RATIO = 1.75
TARGET_STORED_MS = 10.0
PROGRESS = "reconnect_clinic/reports/progress.html"


def ms(seconds: float) -> float:
    return seconds * 1000


def p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def library_versions() -> str:
    import ctypes
    import ctypes.util

    from weasyprint import __version__ as weasyprint_version
    from weasyprint.text.ffi import pango

    number = pango.pango_version()
    pango_version = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    try:
        harfbuzz = ctypes.CDLL(ctypes.util.find_library("harfbuzz") or "libharfbuzz.so.0")
        harfbuzz.hb_version_string.restype = ctypes.c_char_p
        harfbuzz_version = harfbuzz.hb_version_string().decode()
    except (OSError, AttributeError):
        harfbuzz_version = "?"
    return f"WeasyPrint {weasyprint_version}, Pango {pango_version}, HarfBuzz {harfbuzz_version}"


def naive_renderer(naive_html: str) -> Callable[[], bytes]:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    css_text = (HERE / "naive_report.css").read_text()

    def naive() -> bytes:
        font_config = FontConfiguration()  # the system's fonts, loaded anew
        stylesheet = CSS(string=css_text, font_config=font_config)
        return HTML(string=naive_html).write_pdf(stylesheets=[stylesheet], font_config=font_config)

    return naive


# --- the same document: the product against plain WeasyPrint and Chromium ----------------

TARGET_PLAIN_RATIO = 1.5  # the product at least this much faster than plain WeasyPrint
TARGET_PREVIEW_SHARE = 0.25  # a report's preview at most this share of its PDF
TARGET_CHART_SHARE = 0.10  # one chart at most this share of the report it is in
TARGET_CHROMIUM_RATIO = 2.0  # the session report within this many times Chromium's
PREVIEW_URL = "/clinic/report.pdf"  # the preview's "Download PDF" link (not followed)


@dataclass
class ReportKind:
    """One report, built the way reports/views.py builds it."""

    name: str
    html: str
    images: Mapping[str, bytes]
    specs: list[Any]
    preview: Callable[[], str]  # the view's work for the preview page
    pdf_view: Callable[[], bytes]  # the view's work for the PDF
    timings: dict[str, list[float]] = field(default_factory=dict)

    def time(self, what: str, call: Callable[[], object]) -> object:
        seconds, result = timed(call)
        self.timings.setdefault(what, []).append(seconds)
        return result

    def median(self, what: str) -> float:
        return statistics.median(self.timings[what])


def clear_chart_caches() -> None:
    from reconnect_clinic.reports import charts

    for cached in (charts.line_chart_svg, charts.line_chart_jpeg, charts.layout):
        cached.cache_clear()


def report_kinds(s: Any) -> list[ReportKind]:
    """The session report, the progress report and the intake summary of the scenario's
    couple. The previews and the progress report's and intake summary's PDFs are the
    views' answers (the test client, logged in, each request in a fresh context: login
    check, loading, drawing, the audit line and its commit); the session report's PDF,
    which the view serves as stored once signed, is its render on signing (loading,
    drawing, ``html_to_pdf``), without a request around it."""
    from reconnect_clinic.reports import service
    from reconnect_clinic.state import db_session

    couple, therapy = s.records()
    base = f"/clinic/couples/{couple.id}"

    def view(url: str, kind: str) -> Callable[[], Any]:
        def get() -> Any:
            clear_chart_caches()
            response = contextvars.Context().run(client.get, url)
            assert response.status_code == 200, (url, response.status_code)
            assert response.mimetype == kind, (url, response.mimetype)
            return response.data

        return get

    def session_pdf() -> bytes:
        clear_chart_caches()
        with s.request():
            couple, therapy = s.records()
            report = service.load_session_report(couple, therapy)
            pdf = service.session_report_printable(couple, report).pdf()
            db_session().rollback()  # read only; on SQLite a transaction holds the lock
            return pdf

    session_report = service.load_session_report(couple, therapy)
    session_doc = service.session_report_printable(couple, session_report)
    progress_report = service.load_progress_report(couple, TODAY)
    progress_doc = service._report(
        PROGRESS, printable=True, couple=progress_report.couple, report=progress_report
    )
    intake_html = service.intake_summary_html(couple, progress_report.intake, printable=True)
    db_session().commit()  # signing in writes: no transaction held here (SQLite's lock)
    client = contextvars.Context().run(s.logged_in_client)
    return [
        ReportKind(
            "session report",
            session_doc.html,
            session_doc.images,
            [session_report.chart],
            view(f"{base}/sessions/{therapy.id}/report", "text/html"),
            session_pdf,
        ),
        ReportKind(
            "progress report",
            progress_doc.html,
            progress_doc.images,
            list(progress_report.charts.values()),
            view(f"{base}/progress-report", "text/html"),
            view(f"{base}/progress-report.pdf", "application/pdf"),
        ),
        ReportKind(
            "intake summary",
            intake_html,
            {},
            [],
            view(f"{base}/intake-summary", "text/html"),
            view(f"{base}/intake-summary.pdf", "application/pdf"),
        ),
    ]


def pages_of(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def same_document(s: Any, n: int, warm_up: int) -> Callable[[float], None]:
    from reconnect_clinic.state import db_session

    """Measure the section; returns what prints it (given the naive ratio of this run),
    every target as a ratio of figures of this run."""
    from reconnect_clinic.reports import charts

    with s.request():
        kinds = report_kinds(s)
        db_session().commit()  # the views write audit lines: no transaction held here
    chromium_skip = chromium_unavailable()
    chromium = ChromiumPrinter() if chromium_skip is None else None
    with ExitStack() as stack:
        files = {k.name: stack.enter_context(DocumentFiles(k.html, k.images)) for k in kinds}
        plain = {k.name: plain_weasyprint(files[k.name]) for k in kinds}
        printed = chromium.printer(files["session report"]) if chromium is not None else None

        def product(kind: ReportKind) -> Callable[[], bytes]:
            return lambda: render.html_to_pdf(kind.html, images=kind.images)

        pages: dict[str, tuple[int, int, int | None]] = {}
        for kind in kinds:
            ours, theirs = product(kind)(), plain[kind.name]()
            browser = printed() if printed is not None and kind.name == "session report" else None
            pages[kind.name] = (
                pages_of(ours),
                pages_of(theirs),
                pages_of(browser) if browser is not None else None,
            )
            for _ in range(warm_up):
                product(kind)()
                plain[kind.name]()
                kind.preview()
                kind.pdf_view()
        # Rounds: the reports in turn (their order reversed every other round), and inside
        # each the compared renders, alternating which goes first.
        for round_number in range(n):
            flip = round_number % 2 == 1
            for kind in reversed(kinds) if flip else kinds:
                steps: list[tuple[str, Callable[[], object]]] = [
                    ("product", product(kind)),
                    ("plain", plain[kind.name]),
                ]
                if printed is not None and kind.name == "session report":
                    steps.append(("chromium", printed))
                steps += [("preview", kind.preview), ("pdf view", kind.pdf_view)]
                for what, call in reversed(steps) if flip else steps:
                    kind.time(what, call)
                for spec in kind.specs:
                    clear_chart_caches()
                    kind.time("chart jpeg", lambda spec=spec: charts.line_chart_jpeg(spec))
                    clear_chart_caches()
                    kind.time("chart svg", lambda spec=spec: charts.line_chart_svg(spec))
    if chromium is not None:
        chromium.close()
    return lambda naive_ratio: show(kinds, pages, chromium, chromium_skip, n, warm_up, naive_ratio)


def show(
    kinds: list[ReportKind],
    pages: dict[str, tuple[int, int, int | None]],
    chromium: ChromiumPrinter | None,
    chromium_skip: str | None,
    n: int,
    warm_up: int,
    naive_ratio: float,
) -> None:
    print()
    print("The product against plain WeasyPrint on the same document (same HTML, same CSS)")
    print(
        f"  {n} rounds, after {warm_up} warm-up renders each; plain: weasyprint.HTML(string=..., "
        "base_url=...).write_pdf(stylesheets=[CSS(filename=report.css)]), all new each time"
    )
    if chromium is not None:
        print(f"  Chromium {chromium.version} (Playwright, page.pdf(), the browser kept open)")
    print()
    header = f"  {'':<34}" + "".join(f"{k.name:>17}" for k in kinds)
    print(header)

    def row(label: str, values: list[str]) -> None:
        print(f"  {label:<34}" + "".join(f"{v:>17}" for v in values))

    row("pages: product / plain", [f"{pages[k.name][0]} / {pages[k.name][1]}" for k in kinds])
    row("HTML bytes", [f"{len(k.html.encode()):,}" for k in kinds])
    row("product html_to_pdf", [f"{ms(k.median('product')):.1f} ms" for k in kinds])
    row("plain WeasyPrint", [f"{ms(k.median('plain')):.1f} ms" for k in kinds])
    ratios = {k.name: k.median("plain") / k.median("product") for k in kinds}
    row("ratio plain / product", [f"{ratios[k.name]:.2f}x" for k in kinds])
    row(
        "ratio naive / product (today's)",
        [f"{naive_ratio:.2f}x" if k.name == "session report" else "-" for k in kinds],
    )
    row("preview (the view's work)", [f"{ms(k.median('preview')):.1f} ms" for k in kinds])
    row("PDF (the view's work)", [f"{ms(k.median('pdf view')):.1f} ms" for k in kinds])
    shares = {k.name: k.median("preview") / k.median("pdf view") for k in kinds}
    row("preview / PDF", [f"{shares[k.name]:.1%}" for k in kinds])
    row("charts", [str(len(k.specs)) for k in kinds])
    jpeg_share, svg_share = {}, {}
    for k in kinds:
        if k.specs:
            jpeg_share[k.name] = k.median("chart jpeg") / k.median("pdf view")
            svg_share[k.name] = k.median("chart svg") / k.median("preview")
    row(
        "a chart, JPEG: ms, share of PDF",
        [
            f"{ms(k.median('chart jpeg')):.1f} ms {jpeg_share[k.name]:.1%}" if k.specs else "-"
            for k in kinds
        ],
    )
    row(
        "a chart, SVG: ms, share of preview",
        [
            f"{ms(k.median('chart svg')):.2f} ms {svg_share[k.name]:.1%}" if k.specs else "-"
            for k in kinds
        ],
    )
    session = kinds[0]
    chromium_ratio = None
    if chromium is not None:
        chromium_ratio = session.median("product") / session.median("chromium")
        row("Chromium page.pdf()", [f"{ms(session.median('chromium')):.1f} ms", "-", "-"])
        row("ratio product / Chromium", [f"{chromium_ratio:.2f}x", "-", "-"])
        row("pages: Chromium", [str(pages[session.name][2]), "-", "-"])
    print()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for k in kinds:
        print(
            f"  {verdict(ratios[k.name] >= TARGET_PLAIN_RATIO)}  {k.name}: plain / product "
            f"{ratios[k.name]:.2f}x >= {TARGET_PLAIN_RATIO}x"
        )
    for k in kinds:
        print(
            f"  {verdict(shares[k.name] <= TARGET_PREVIEW_SHARE)}  {k.name}: preview "
            f"{shares[k.name]:.1%} of its PDF <= {TARGET_PREVIEW_SHARE:.0%}"
        )
    for k in kinds:
        if k.specs:
            worst = max(jpeg_share[k.name], svg_share[k.name])
            print(
                f"  {verdict(worst <= TARGET_CHART_SHARE)}  {k.name}: a chart "
                f"{jpeg_share[k.name]:.1%} of the PDF, {svg_share[k.name]:.1%} of the preview "
                f"<= {TARGET_CHART_SHARE:.0%}"
            )
    if chromium_ratio is not None:
        print(
            f"  {verdict(chromium_ratio <= TARGET_CHROMIUM_RATIO)}  session report: product / "
            f"Chromium {chromium_ratio:.2f}x <= {TARGET_CHROMIUM_RATIO}x"
        )
    else:
        print(f"  SKIP  session report against Chromium: {chromium_skip}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=30, help="timed renders of each kind")
    parser.add_argument("--warm-up", type=int, default=3, help="untimed renders first")
    parser.add_argument(
        "--session-only",
        action="store_true",
        help="only the session report against its naive draft (not the same-document section)",
    )
    args = parser.parse_args()
    if args.renders < 1 or args.warm_up < 0:
        parser.error("--renders must be at least 1 and --warm-up at least 0")
    n = args.renders
    # The naive renders log WeasyPrint's warnings (one per SVG presentation attribute of
    # the chart) in this process: not printing them keeps the baseline's time honest.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    with scenario() as s, s.app.app_context():
        # (d) the report's HTML, through the real service, as the view builds it.
        with s.request():
            cold_build, printable = timed(s.session_report_printable)
        html, images = printable.html, printable.images
        builds = []
        for _ in range(n):
            with s.request():
                seconds, again = timed(s.session_report_printable)
            builds.append(seconds)
            assert again == printable, "the report's HTML or chart changed between builds"

        couple, therapy = s.records()
        from reconnect_clinic.reports import service

        with s.request():
            report = service.load_session_report(couple, therapy)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE), autoescape=True, undefined=jinja2.StrictUndefined
        )
        naive_html = env.get_template("naive_session_report.html").render(
            couple=couple,
            report=report,
            chart_svg=line_chart_svg(report.chart),
            created=created_stamp(report.note.signed_at if report.note else None),
            config=s.app.config,
        )
        naive = naive_renderer(naive_html)

        # (a) and (b), alternating.
        started, _ = timed(render.warm_up)
        details = render.render_pdf(html, images=images)
        reference = details.pdf
        naive_reference = naive()
        for _ in range(args.warm_up):
            render.html_to_pdf(html, images=images)
            naive()
        optimized, naive_times = [], []
        for _ in range(n):
            seconds, pdf = timed(lambda: render.html_to_pdf(html, images=images))
            optimized.append(seconds)
            assert pdf == reference, "the same HTML gave other bytes"
            seconds, _ = timed(naive)
            naive_times.append(seconds)
        # The same path with its report: time inside the worker, the rest is the pipes.
        inside, overhead = [], []
        for _ in range(n):
            seconds, result = timed(lambda: render.render_pdf(html, images=images))
            inside.append(result.render_seconds)
            overhead.append(seconds - result.render_seconds)

        # (e) the stored signed report, served.
        from reconnect_clinic.models import StoredReport
        from reconnect_clinic.state import db_session

        stored = (
            db_session()
            .scalars(
                sa.select(StoredReport)
                .where(StoredReport.therapy_session_id == therapy.id)
                .order_by(StoredReport.revision.desc())
            )
            .first()
        )
        assert stored is not None, "signing did not store the report"
        stored_pdf = bytes(stored.pdf)
        db_session().commit()  # end this context's transaction: requests write audit rows

        def get(url: str) -> object:
            # Each request in a fresh context, as in production (not this app context).
            return contextvars.Context().run(client.get, url)

        client = contextvars.Context().run(s.logged_in_client)
        first = get(s.url)
        assert first.status_code == 200 and first.data == stored_pdf, first.status_code
        serves = []
        for _ in range(n):
            seconds, response = timed(lambda: get(s.url))
            assert response.status_code == 200 and response.data == stored_pdf
            serves.append(seconds)
        show_same_document = same_document(s, n, args.warm_up) if not args.session_only else None
        render.shutdown()

    import io

    from pypdf import PdfReader

    naive_pages = len(PdfReader(io.BytesIO(naive_reference)).pages)
    opt_median, naive_median = statistics.median(optimized), statistics.median(naive_times)
    ratio = naive_median / opt_median
    serve_median = statistics.median(serves)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())

    print("Session report benchmark (bench/bench_reports.py)")
    print(
        f"  machine: {os.cpu_count()} cores, load average {load} (1/5/15 min), "
        f"Python {platform.python_version()}"
    )
    print(f"  libraries: {library_versions()}")
    print(f"  font subsetting: {details.font_subsetter}")
    print(
        f"  report: {details.pages} pages, {len(html.encode()):,} bytes of HTML, "
        f"PDF {len(reference):,} bytes (naive: {naive_pages} pages, {len(naive_reference):,} bytes)"
    )
    print(
        f"  {n} timed runs of each, after {args.warm_up} warm-up renders; "
        f"workers started in {ms(started):.0f} ms"
    )
    print()
    print(f"  {'what':<48} {'median':>9} {'p90':>9}")
    rows = [
        ("(a) optimized html_to_pdf (worker, PDF/A-3b)", opt_median, p90(optimized)),
        ("    render inside the worker (render_pdf)", statistics.median(inside), p90(inside)),
        ("    pipes and queueing around it", statistics.median(overhead), p90(overhead)),
        ("(b) naive HTML().write_pdf(), tables, system fonts", naive_median, p90(naive_times)),
        (
            "(d) report HTML: load, assemble, chart, template",
            statistics.median(builds),
            p90(builds),
        ),
        ("    first build in this process (imports, fonts)", cold_build, None),
        ("(e) stored signed report, GET report.pdf", serve_median, p90(serves)),
    ]
    for label, median, high in rows:
        high_text = f"{ms(high):7.1f}ms" if high is not None else ""
        print(f"  {label:<48} {ms(median):7.1f}ms {high_text:>9}")
    print(f"  {'(c) ratio naive / optimized (medians)':<48} {ratio:8.2f}x")
    print()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    # The chart counts only if the render really fetched and placed its image.
    fetched = {a.url for a in details.fetches if a.allowed}
    charts = sum(f"clinic-asset:image/{name}" in fetched for name in images)
    shape_ok = 2 <= details.pages <= 3 and charts == 1 and html.count("chart-image") == 1
    print(
        f"  {'ok  ' if shape_ok else 'NOTE'}  the report measured has {details.pages} pages and "
        f"{charts} chart{'s' if charts != 1 else ''} (the issue's report: 2 to 3 pages, one chart)"
    )

    print(
        f"  {verdict(ms(opt_median) <= TARGET_MEDIAN_MS)}  optimized median "
        f"{ms(opt_median):.1f} ms <= {TARGET_MEDIAN_MS:.0f} ms"
    )
    print(f"  {verdict(ratio >= TARGET_RATIO)}  naive / optimized {ratio:.2f}x >= {TARGET_RATIO}x")
    print(
        f"  {verdict(ms(serve_median) < TARGET_STORED_MS)}  stored report served in "
        f"{ms(serve_median):.1f} ms < {TARGET_STORED_MS:.0f} ms"
    )
    if show_same_document is not None:
        show_same_document(ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
