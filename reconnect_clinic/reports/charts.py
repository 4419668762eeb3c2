"""Charts for reports, drawn with Matplotlib: inline SVG for HTML pages, JPEG for PDFs.

Deterministic (a fixed hash salt, no date in the file) so a report renders to the same
bytes every time, and set in the report fonts (Inter, then the Noto fallbacks, shipped
in the package) so a chart prints like the text around it.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import as_file, files
from typing import Any

_lock = threading.Lock()  # Matplotlib's global state is not thread-safe


class _NoBoldWeightNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to find font weight" not in record.getMessage()


CHART_FONT_FILES = (
    "Inter-Regular.otf",
    "Inter-Bold.otf",
    "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansCJKsc-Regular.otf",
)

PALETTE = {"a": "#1f5f6b", "b": "#b0571f"}
MARKERS = {"a": "o", "b": "s"}


@dataclass(frozen=True)
class Series:
    label: str
    role: str  # "a" or "b": colour and marker
    points: tuple[tuple[date, float], ...]


@cache
def _matplotlib() -> object:
    import matplotlib

    matplotlib.use("svg", force=True)
    from matplotlib import font_manager

    # The CJK fallback has no bold: bold text in it is drawn in its regular weight, as
    # intended, and Matplotlib's warning about that is noise. Only that one is dropped.
    logging.getLogger("matplotlib.font_manager").addFilter(_NoBoldWeightNoise())
    fonts = files("reconnect_clinic.reports") / "assets" / "fonts"
    for name in CHART_FONT_FILES:
        with as_file(fonts / name) as path:
            font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "reconnect-clinic",
            "svg.fonttype": "none",
            # Names are text, never math: a "$" in a partner's name must print as typed.
            "text.parse_math": False,
            # Inter first; a partner's name in another script falls back, glyph by
            # glyph, to the packaged Noto fonts (as in the PDF's text).
            "font.family": ["Inter", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans CJK SC"],
            "font.size": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#4d5a61",
            "axes.labelcolor": "#1d2428",
            "xtick.color": "#4d5a61",
            "ytick.color": "#4d5a61",
            "legend.frameon": False,
        }
    )
    return matplotlib


@dataclass(frozen=True)
class ChartSpec:
    """What a chart shows, as plain data: assembling a report makes these, and the report
    is drawn later as inline SVG (the HTML preview, see :func:`line_chart_svg`) or as a
    raster image (the PDF, see :func:`line_chart_jpeg`)."""

    #: Unique within a report; the PDF's image name and the SVG's id prefix.
    name: str
    series: tuple[Series, ...]
    y_max: float
    cutoffs: tuple[tuple[str, float], ...] = ()
    title: str = ""
    width_in: float = 6.3
    height_in: float = 2.1


#: Resolution of the charts printed in PDFs: sharp on paper (print needs ~150 dpi for
#: lines and small text).
RASTER_DPI = 200
#: JPEG quality for charts, with full-resolution colour (no chroma subsampling): at this
#: quality the ringing JPEG leaves around thin lines is below what paper shows.
JPEG_QUALITY = 95


def line_chart_svg(spec: ChartSpec) -> str:
    """The chart as an inline ``<svg>`` element, for HTML pages."""
    with _lock:
        figure = _draw(spec)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    # Keep only the <svg> element: the XML declaration and DOCTYPE are not allowed
    # inside an HTML document.
    svg = svg[svg.index("<svg") :]
    return _prefix_ids(svg, spec.name)


def line_chart_jpeg(spec: ChartSpec) -> bytes:
    """The chart as a JPEG at :data:`RASTER_DPI`, for PDFs.

    Why not SVG in the PDF too: WeasyPrint lays out and draws each element of an inline
    SVG chart like an HTML box (the chart was a third of a session report's render
    time), while an image is placed in one step. Why JPEG rather than PNG: WeasyPrint
    decodes a PNG and compresses it again for the PDF (about 25 ms for this chart),
    while a JPEG goes into the PDF as it is (DCTDecode), at no cost. Deterministic:
    Agg draws the same pixels for the same chart, and the encoder adds no date.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    with _lock:
        figure = _draw(spec)
        figure.set_dpi(RASTER_DPI)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0, dpi=(RASTER_DPI,) * 2)
    return buffer.getvalue()


def _draw(spec: ChartSpec) -> Any:
    """A Matplotlib figure of ``spec``: scores over time, one line per partner, dashed
    cut-off lines. Call with ``_lock`` held."""
    _matplotlib()
    from datetime import timedelta

    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(spec.width_in, spec.height_in), facecolor="white")
    axes = figure.subplots()
    for s in spec.series:
        if not s.points:
            continue
        xs = [d for d, _ in s.points]
        ys = [v for _, v in s.points]
        axes.plot(
            xs,
            ys,
            marker=MARKERS.get(s.role, "o"),
            color=PALETTE.get(s.role, "#1d2428"),
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
            fontsize=7,
            color="#7a4d00",
        )
    axes.set_ylim(0, spec.y_max)
    days = sorted({d for s in spec.series for d, _ in s.points})
    if days:
        locator = AutoDateLocator(minticks=2, maxticks=6)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        # A little room either side, and a sensible span when there is one date only.
        pad = max(timedelta(days=7), (days[-1] - days[0]) / 20)
        axes.set_xlim(days[0] - pad, days[-1] + pad)
    if spec.title:
        axes.set_title(spec.title, loc="left", fontsize=9, fontweight="bold")
    if any(s.points for s in spec.series):
        axes.legend(loc="upper left", fontsize=7, ncols=2)
    else:
        axes.text(
            0.5,
            0.5,
            "No scores yet",
            ha="center",
            va="center",
            transform=axes.transAxes,
            color="#4d5a61",
        )
        axes.set_xticks([])
    figure.tight_layout()
    return figure


_ID = re.compile(r'(\bid="|url\(#|xlink:href="#)([^")]+)')


def _prefix_ids(svg: str, prefix: str) -> str:
    """Give every id in the chart a prefix: several charts inline in one document must
    not share ids (Matplotlib numbers them the same way in every figure)."""
    return _ID.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
