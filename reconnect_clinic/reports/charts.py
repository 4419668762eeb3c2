"""Charts for reports: one layout, drawn as inline SVG for HTML pages and as JPEG for PDFs.

The chart is a small line chart (scores over time, one line per partner, dashed cut-off
lines), laid out here in plain Python (:func:`layout`): fixed margins, round score ticks,
date ticks in one format ("2 Dec", with the year on the first tick and wherever it
changes). :func:`line_chart_svg` writes that layout as SVG markup directly (presentation
attributes, no ``style``); :func:`line_chart_jpeg` draws the same layout with Pillow.
Matplotlib is not used: drawing a chart leaves a host application's Matplotlib (its
backend, its ``rcParams``) as it was, and a new process does not pay its import. Both
formats are cached by the chart's data (a :class:`ChartSpec` is hashable), so a report
drawn again costs nothing for its charts.

Deterministic: the same spec gives the same bytes (no date, no random ids). Accessible:
the SVG is an image with a ``<title>`` and a ``<desc>`` that says every score in words
(:func:`chart_text`); labels are text, never math (a "$" in a partner's name prints as
typed). Set in the report fonts: Inter, then the packaged Noto fonts for letters it lacks
(a partner's name in Arabic, Hebrew or Chinese), as the PDF's text.

Why these choices, measured side by side: ``bench/bench_charts.py`` and
``bench/README.md`` ("Report charts").
"""

from __future__ import annotations

import calendar
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from html import escape
from importlib.resources import as_file, files
from typing import Any

CHART_FONT_FILES = (
    "Inter-Regular.otf",
    "Inter-Bold.otf",
    "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansCJKsc-Regular.otf",
)
#: The report fonts, in order: Inter, then the fallbacks for names in other scripts.
FONT_FAMILIES = ("Inter", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans CJK SC")

PALETTE = {"a": "#1f5f6b", "b": "#b0571f"}
MARKERS = {"a": "o", "b": "s"}
INK = "#1d2428"  # title
AXIS = "#4d5a61"  # axes, ticks and their labels
CUTOFF = "#7a4d00"  # cut-off lines and their labels
#: How strongly a reliable-change band is filled with its partner's colour.
BAND_OPACITY = "0.16"

#: Resolution of the charts printed in PDFs: sharp on paper (print needs ~150 dpi for
#: lines and small text).
RASTER_DPI = 200
#: JPEG quality for charts, with full-resolution colour (no chroma subsampling): at this
#: quality the ringing JPEG leaves around thin lines is below what paper shows.
JPEG_QUALITY = 95
# FreeType faces (Pillow's fonts) are not safe to share between threads: one draws at a time.
_lock = threading.RLock()
#: Charts kept drawn as SVG (about 3 kB each) and as JPEG (about 90 kB each: 32 are
#: about 3 MB per process); a practice's reports use a handful of specs at a time.
CACHE_SIZE = 128
JPEG_CACHE_SIZE = 32

# Sizes in points (1/72 in), as the report's text.
FONT_SIZE = 8.0  # tick labels
SMALL_SIZE = 7.0  # legend and cut-off labels
TITLE_SIZE = 9.0
LINE_WIDTH = 1.4
MARKER_SIZE = 4.0
TICK_LENGTH = 3.5
# Fixed margins around the plot, in points: room for the title and legend above, the
# score labels left and the dates below.
MARGIN_LEFT = 26.0
MARGIN_RIGHT = 8.0
MARGIN_TOP = 20.0
MARGIN_BOTTOM = 16.0
MAX_DATE_TICKS = 6
MAX_SCORE_TICKS = 6


@dataclass(frozen=True)
class Series:
    label: str
    role: str  # "a" or "b": colour and marker
    points: tuple[tuple[date, float], ...]


@dataclass(frozen=True)
class ChartBand:
    """A partner's reliable-change band: totals from ``low`` to ``high`` lie within
    measurement noise of their first score (measures/change.py), drawn from the first
    score's date on, lightly in the partner's colour."""

    role: str
    start: date
    low: float
    high: float
    label: str  # in words, for the chart's text


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
    bands: tuple[ChartBand, ...] = ()
    width_in: float = 6.3
    height_in: float = 2.1


# --- layout: plain data, shared by both formats ----------------------------------------


@dataclass(frozen=True)
class Line:
    role: str
    label: str
    colour: str
    marker: str
    points: tuple[tuple[float, float], ...]  # in points, from the chart's top left


@dataclass(frozen=True)
class Layout:
    """Where everything goes, in points from the chart's top left corner."""

    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    lines: tuple[Line, ...]
    cutoffs: tuple[tuple[float, str], ...]  # (y, "label (value)")
    empty: bool
    # (x0, y top, x1, y bottom, colour) of each reliable-change band
    bands: tuple[tuple[float, float, float, float, str], ...] = ()


def _nice_step(span: float, most: int) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that gives at most ``most`` ticks
    from 0 to ``span``."""
    scale = 1.0
    while True:
        for factor in (1.0, 2.0, 2.5, 5.0):
            step = factor * scale
            if int(span / step + 1e-9) + 1 <= most:
                return step
        scale *= 10


def score_ticks(y_max: float) -> tuple[float, ...]:
    if y_max <= 0:
        return (0.0,)
    step = _nice_step(y_max, MAX_SCORE_TICKS)
    return tuple(i * step for i in range(int(y_max / step + 1e-9) + 1))


def _month_starts(first: date, last: date, every: int) -> list[date]:
    found: list[date] = []
    year, month = first.year, first.month
    while True:
        day = date(year, month, 1)
        if day > last:
            return found
        if day >= first and (month - 1) % every == 0:
            found.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def date_ticks(first: date, last: date) -> tuple[date, ...]:
    """Ticks between ``first`` and ``last``: every day, every other day, each Monday,
    every other Monday, the first of each month, of every 2, 3 or 6 months, or 1 January
    of every 1, 2, 5 ... years, whichever is the finest with at most
    :data:`MAX_DATE_TICKS` ticks."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for every in (1, 2):
        ticks = [d for d in days if d.toordinal() % every == 0]
        if len(ticks) <= MAX_DATE_TICKS:
            return tuple(ticks)
    mondays = [d for d in days if d.weekday() == 0]
    for every in (1, 2):
        ticks = [d for d in mondays if (d.toordinal() // 7) % every == 0]
        if len(ticks) <= MAX_DATE_TICKS:
            return tuple(ticks)
    for every in (1, 2, 3, 6):
        ticks = _month_starts(first, last, every)
        if len(ticks) <= MAX_DATE_TICKS:
            return tuple(ticks)
    every = 1
    while True:
        ticks = [d for d in _month_starts(first, last, 12) if d.year % every == 0]
        if len(ticks) <= MAX_DATE_TICKS:
            return tuple(ticks)
        every = {1: 2, 2: 5}.get(every, every * 2)


def date_labels(ticks: Sequence[date]) -> tuple[str, ...]:
    """One format for every date: "2 Dec", with the year on the first and wherever the
    year changes ("2 Dec 2026", "6 Jan 2027")."""
    labels = []
    year = None
    for day in ticks:
        text = f"{day.day} {calendar.month_abbr[day.month]}"
        if day.year != year:
            text += f" {day.year}"
            year = day.year
        labels.append(text)
    return tuple(labels)


def _number(value: float) -> str:
    return f"{value:g}"


@lru_cache(maxsize=CACHE_SIZE)
def layout(spec: ChartSpec) -> Layout:
    width, height = spec.width_in * 72, spec.height_in * 72
    left, top = MARGIN_LEFT, MARGIN_TOP
    right, bottom = width - MARGIN_RIGHT, height - MARGIN_BOTTOM
    y_max = spec.y_max if spec.y_max > 0 else 1.0

    def y_at(value: float) -> float:
        return bottom - (bottom - top) * value / y_max

    days = sorted({d for s in spec.series for d, _ in s.points})
    x_ticks: tuple[tuple[float, str], ...] = ()
    lines = []
    bands = []
    if days:
        # A little room either side, and a sensible span when there is one date only.
        pad = max(timedelta(days=7), (days[-1] - days[0]) / 20)
        start = days[0] - pad
        span = (days[-1] + pad - start).total_seconds()

        def x_at(day: date) -> float:
            return left + (right - left) * (day - start).total_seconds() / span

        ticks = date_ticks(days[0] - pad, days[-1] + pad)
        x_ticks = tuple(zip((x_at(d) for d in ticks), date_labels(ticks), strict=True))
        for s in spec.series:
            if s.points:
                lines.append(
                    Line(
                        role=s.role,
                        label=s.label,
                        colour=PALETTE.get(s.role, INK),
                        marker=MARKERS.get(s.role, "o"),
                        points=tuple((x_at(d), y_at(v)) for d, v in s.points),
                    )
                )
        for band in spec.bands:
            bands.append(
                (
                    x_at(band.start),
                    y_at(min(band.high, y_max)),
                    right,
                    y_at(max(band.low, 0.0)),
                    PALETTE.get(band.role, INK),
                )
            )
    return Layout(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        x_ticks=x_ticks,
        y_ticks=tuple((y_at(v), _number(v)) for v in score_ticks(spec.y_max)),
        lines=tuple(lines),
        cutoffs=tuple((y_at(v), f"{label} ({_number(v)})") for label, v in spec.cutoffs),
        empty=not lines,
        bands=tuple(bands),
    )


def chart_text(spec: ChartSpec) -> str:
    """The chart in words, for those who cannot see it (the SVG's ``<desc>``, an image's
    alternative text): every score with its date, and the cut-offs."""
    parts = []
    for s in spec.series:
        if s.points:
            scores = ", ".join(
                f"{_number(v)} on {d.day} {calendar.month_abbr[d.month]} {d.year}"
                for d, v in s.points
            )
            parts.append(f"{s.label}: {scores}.")
        else:
            parts.append(f"{s.label}: no scores yet.")
    parts += [f"{label[:1].upper()}{label[1:]} at {_number(v)}." for label, v in spec.cutoffs]
    parts += [f"{band.label}." for band in spec.bands]
    parts.append(f"Scores from 0 to {_number(spec.y_max)}.")
    return " ".join(parts)


# --- text: the report fonts, and widths (for the legend's place) ---------------------


@cache
def _sized_font(name: str, pixels: int) -> Any:
    from PIL import ImageFont

    # Latin text needs no shaping: the basic layout is several times faster than Raqm.
    engine = ImageFont.Layout.BASIC if name.startswith("Inter") else ImageFont.Layout.RAQM
    with as_file(files("reconnect_clinic.reports") / "assets" / "fonts" / name) as path:
        return ImageFont.truetype(str(path), pixels, layout_engine=engine)


@cache
def _coverage(name: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with as_file(files("reconnect_clinic.reports") / "assets" / "fonts" / name) as path:
        font = TTFont(str(path), lazy=True)
        try:
            return frozenset(font.getBestCmap())
        finally:
            font.close()


_REGULAR = ("Inter-Regular.otf", "NotoSansArabic-Regular.ttf", "NotoSansHebrew-Regular.ttf")
_BOLD = ("Inter-Bold.otf", "NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf")
_CJK = "NotoSansCJKsc-Regular.otf"  # regular only: bold text in it prints regular


def _runs(text: str, bold: bool) -> list[tuple[str, str]]:
    """``text`` cut into runs, each with the first report font that has its letters
    (Inter, then the Noto fonts), as the PDF's text falls back glyph by glyph."""
    fonts = (*(_BOLD if bold else _REGULAR), _CJK)
    runs: list[tuple[str, str]] = []
    for char in text:
        name = fonts[0]
        if ord(char) not in _coverage(fonts[0]) and not char.isspace():
            name = next((f for f in fonts[1:] if ord(char) in _coverage(f)), fonts[0])
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + char)
        else:
            runs.append((name, char))
    return runs


@cache
def _font(name: str) -> Any:
    return _sized_font(name, 100)


@lru_cache(maxsize=1024)
def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width of ``text`` set at ``size`` points in the report fonts (Inter, then the
    Noto fonts for letters it lacks): where the legend's entries go."""
    with _lock:
        runs = _runs(text, bold)
        return sum(float(_font(name).getlength(part)) for name, part in runs) * size / 100


LEGEND_SWATCH = 14.0  # a short line with the marker, before each label
LEGEND_GAP = 10.0


def _legend(lay: Layout) -> list[tuple[float, Line]]:
    """Each line's legend entry: where its swatch starts, right-aligned above the plot."""
    widths = [LEGEND_SWATCH + 3 + text_width(line.label, SMALL_SIZE) for line in lay.lines]
    x = lay.right - sum(widths) - LEGEND_GAP * (len(widths) - 1)
    entries = []
    for width, line in zip(widths, lay.lines, strict=True):
        entries.append((x, line))
        x += width + LEGEND_GAP
    return entries


# --- SVG --------------------------------------------------------------------------------


def _f(value: float) -> str:
    """A coordinate as SVG text: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _marker_svg(marker: str, x: float, y: float, colour: str) -> str:
    half = MARKER_SIZE / 2
    if marker == "s":
        return (
            f'<rect x="{_f(x - half)}" y="{_f(y - half)}" width="{_f(MARKER_SIZE)}" '
            f'height="{_f(MARKER_SIZE)}" fill="{colour}"/>'
        )
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(half)}" fill="{colour}"/>'


@lru_cache(maxsize=CACHE_SIZE)
def line_chart_svg(spec: ChartSpec) -> str:
    """The chart as an inline ``<svg>`` element, for HTML pages.

    Drawn with presentation attributes only (no ``style`` attribute), every label
    escaped, ids prefixed with the spec's name (several charts share one page)."""
    lay = layout(spec)
    prefix = escape(spec.name, quote=True)
    families = ", ".join(f"'{f}'" if " " in f else f for f in FONT_FAMILIES)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(lay.width)}pt" '
        f'height="{_f(lay.height)}pt" viewBox="0 0 {_f(lay.width)} {_f(lay.height)}" '
        f'role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        f'font-family="{families}" font-size="{_f(FONT_SIZE)}">',
        f'<title id="{prefix}-title">{escape(spec.title or "Chart")}</title>',
        f'<desc id="{prefix}-desc">{escape(chart_text(spec))}</desc>',
        f'<rect width="{_f(lay.width)}" height="{_f(lay.height)}" fill="#ffffff"/>',
    ]
    # Reliable-change bands first, under everything else: light, so lines read over them.
    out += [
        f'<rect id="{prefix}-band-{index}" x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" '
        f'height="{_f(y1 - y0)}" fill="{colour}" fill-opacity="{BAND_OPACITY}"/>'
        for index, (x0, y0, x1, y1, colour) in enumerate(lay.bands)
    ]
    if spec.title:
        out.append(
            f'<text x="{_f(lay.left)}" y="{_f(TITLE_SIZE + 3)}" font-size="{_f(TITLE_SIZE)}" '
            f'font-weight="bold" fill="{INK}">{escape(spec.title)}</text>'
        )
    # Axes: the score axis left, the time axis below, their ticks and labels.
    out.append(
        f'<g id="{prefix}-axes" stroke="{AXIS}" stroke-width="0.8" fill="none">'
        f'<path d="M{_f(lay.left)} {_f(lay.top)}V{_f(lay.bottom)}H{_f(lay.right)}"/>'
        + "".join(
            f'<path d="M{_f(lay.left - TICK_LENGTH)} {_f(y)}h{_f(TICK_LENGTH)}"/>'
            for y, _ in lay.y_ticks
        )
        + "".join(
            f'<path d="M{_f(x)} {_f(lay.bottom)}v{_f(TICK_LENGTH)}"/>' for x, _ in lay.x_ticks
        )
        + "</g>"
    )
    out.append(f'<g id="{prefix}-scores" fill="{AXIS}" text-anchor="end">')
    out += [
        f'<text x="{_f(lay.left - TICK_LENGTH - 2)}" y="{_f(y + FONT_SIZE * 0.35)}">{label}</text>'
        for y, label in lay.y_ticks
    ]
    out.append("</g>")
    if lay.x_ticks:
        out.append(f'<g id="{prefix}-dates" fill="{AXIS}" text-anchor="middle">')
        out += [
            f'<text x="{_f(x)}" y="{_f(lay.bottom + TICK_LENGTH + FONT_SIZE + 1)}">'
            f"{escape(label)}</text>"
            for x, label in lay.x_ticks
        ]
        out.append("</g>")
    for index, (y, label) in enumerate(lay.cutoffs):
        out.append(
            f'<g id="{prefix}-cutoff-{index}" fill="{CUTOFF}" font-size="{_f(SMALL_SIZE)}">'
            f'<path d="M{_f(lay.left)} {_f(y)}H{_f(lay.right)}" stroke="{CUTOFF}" '
            f'stroke-width="0.9" stroke-dasharray="3.3 1.4" fill="none"/>'
            f'<text x="{_f(lay.right - 2)}" y="{_f(y - 2)}" text-anchor="end">'
            f"{escape(label)}</text></g>"
        )
    for index, line in enumerate(lay.lines):
        points = " ".join(f"{_f(x)},{_f(y)}" for x, y in line.points)
        out.append(
            f'<g id="{prefix}-line-{index}" fill="{line.colour}">'
            f'<polyline points="{points}" stroke="{line.colour}" '
            f'stroke-width="{_f(LINE_WIDTH)}" stroke-linejoin="round" fill="none"/>'
            + "".join(_marker_svg(line.marker, x, y, line.colour) for x, y in line.points)
            + "</g>"
        )
    if lay.empty:
        out.append(
            f'<text x="{_f((lay.left + lay.right) / 2)}" y="{_f((lay.top + lay.bottom) / 2)}" '
            f'text-anchor="middle" fill="{AXIS}">No scores yet</text>'
        )
    else:
        out.append(f'<g id="{prefix}-legend" font-size="{_f(SMALL_SIZE)}" fill="{INK}">')
        baseline = TITLE_SIZE + 3
        for x, line in _legend(lay):
            mid = baseline - SMALL_SIZE * 0.35
            out.append(
                f'<path d="M{_f(x)} {_f(mid)}h{_f(LEGEND_SWATCH)}" stroke="{line.colour}" '
                f'stroke-width="{_f(LINE_WIDTH)}"/>'
                + _marker_svg(line.marker, x + LEGEND_SWATCH / 2, mid, line.colour)
                + f'<text x="{_f(x + LEGEND_SWATCH + 3)}" y="{_f(baseline)}">'
                f"{escape(line.label)}</text>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


# --- JPEG (for PDFs) --------------------------------------------------------------------

#: The raster is drawn at this many times its size, then reduced: smooth lines and dots.
SUPERSAMPLE = 2


class _Raster:
    """Draws a :class:`Layout` with Pillow at ``scale`` pixels per point."""

    def __init__(self, lay: Layout, size: tuple[int, int]) -> None:
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", size, "#ffffff")
        self.draw = ImageDraw.Draw(self.image)
        self.scale = size[0] / lay.width

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return x * self.scale, y * self.scale

    def band(self, x0: float, y0: float, x1: float, y1: float, colour: str) -> None:
        """A translucent rectangle (bands overlap: each stays visible through the other)."""
        from PIL import ImageColor, ImageDraw

        # Blended straight into the RGB image by a drawing context in RGBA mode: no
        # overlay image, no conversion of the image to RGBA and back.
        alpha = round(255 * float(BAND_OPACITY))
        ImageDraw.Draw(self.image, "RGBA").rectangle(
            (*self.xy(x0, y0), *self.xy(x1, y1)),
            fill=(*ImageColor.getrgb(colour)[:3], alpha),
        )

    def line(self, points: Sequence[tuple[float, float]], colour: str, width: float) -> None:
        self.draw.line(
            [self.xy(x, y) for x, y in points],
            fill=colour,
            width=max(1, round(width * self.scale)),
            joint="curve" if len(points) > 2 else None,
        )

    def dashed(self, x0: float, x1: float, y: float, colour: str, width: float) -> None:
        dash, gap = 3.3, 1.4
        x = x0
        while x < x1:
            self.line(((x, y), (min(x + dash, x1), y)), colour, width)
            x += dash + gap

    def marker(self, marker: str, x: float, y: float, colour: str) -> None:
        half = MARKER_SIZE / 2
        box = (*self.xy(x - half, y - half), *self.xy(x + half, y + half))
        if marker == "s":
            self.draw.rectangle(box, fill=colour)
        else:
            self.draw.ellipse(box, fill=colour)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        colour: str,
        anchor: str = "l",
        bold: bool = False,
    ) -> None:
        """``text`` with its baseline at ``y``, starting at, centred on or ending at
        ``x`` (``anchor`` "l", "m" or "r")."""
        pixels = round(size * self.scale)
        runs = [(_sized_font(name, pixels), part) for name, part in _runs(text, bold)]
        if len(runs) == 1:  # one font: Pillow places it
            font, part = runs[0]
            where = self.xy(x, y)
            self.draw.text(where, part, fill=colour, font=font, anchor=anchor + "s")
            return
        width = sum(font.getlength(part) for font, part in runs)
        left = x * self.scale - {"l": 0.0, "m": width / 2, "r": width}[anchor]
        for font, part in runs:
            self.draw.text((left, y * self.scale), part, fill=colour, font=font, anchor="ls")
            left += font.getlength(part)


@lru_cache(maxsize=JPEG_CACHE_SIZE)
def line_chart_jpeg(spec: ChartSpec) -> bytes:
    """The chart as a JPEG at :data:`RASTER_DPI`, for PDFs: the same layout as the SVG.

    Why not SVG in the PDF too: WeasyPrint lays out and draws each element of an inline
    SVG chart like an HTML box, while an image is placed in one step. Why JPEG rather
    than PNG: WeasyPrint decodes a PNG and compresses it again for the PDF, while a JPEG
    goes into the PDF as it is (DCTDecode), at no cost. Drawn with Pillow at twice the
    size and reduced (smooth lines); deterministic: the same pixels for the same chart,
    and the encoder adds no date.
    """
    lay = layout(spec)
    with _lock:
        image = _rasterize(spec, lay)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0, dpi=(RASTER_DPI,) * 2)
    return buffer.getvalue()


def _rasterize(spec: ChartSpec, lay: Layout) -> Any:
    """``lay`` drawn as an RGB image at :data:`RASTER_DPI`. Call with ``_lock`` held."""
    size = (round(spec.width_in * RASTER_DPI), round(spec.height_in * RASTER_DPI))
    raster = _Raster(lay, (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE))
    for x0, y0, x1, y1, colour in lay.bands:
        raster.band(x0, y0, x1, y1, colour)
    if spec.title:
        raster.text(lay.left, TITLE_SIZE + 3, spec.title, TITLE_SIZE, INK, bold=True)
    raster.line(((lay.left, lay.top), (lay.left, lay.bottom), (lay.right, lay.bottom)), AXIS, 0.8)
    for y, label in lay.y_ticks:
        raster.line(((lay.left - TICK_LENGTH, y), (lay.left, y)), AXIS, 0.8)
        raster.text(lay.left - TICK_LENGTH - 2, y + FONT_SIZE * 0.35, label, FONT_SIZE, AXIS, "r")
    for x, label in lay.x_ticks:
        raster.line(((x, lay.bottom), (x, lay.bottom + TICK_LENGTH)), AXIS, 0.8)
        raster.text(x, lay.bottom + TICK_LENGTH + FONT_SIZE + 1, label, FONT_SIZE, AXIS, "m")
    for y, label in lay.cutoffs:
        raster.dashed(lay.left, lay.right, y, CUTOFF, 0.9)
        raster.text(lay.right - 2, y - 2, label, SMALL_SIZE, CUTOFF, "r")
    for line in lay.lines:
        if len(line.points) > 1:
            raster.line(line.points, line.colour, LINE_WIDTH)
        for x, y in line.points:
            raster.marker(line.marker, x, y, line.colour)
    if lay.empty:
        middle = ((lay.left + lay.right) / 2, (lay.top + lay.bottom) / 2)
        raster.text(*middle, "No scores yet", FONT_SIZE, AXIS, "m")
    else:
        baseline = TITLE_SIZE + 3
        mid = baseline - SMALL_SIZE * 0.35
        for x, line in _legend(lay):
            raster.line(((x, mid), (x + LEGEND_SWATCH, mid)), line.colour, LINE_WIDTH)
            raster.marker(line.marker, x + LEGEND_SWATCH / 2, mid, line.colour)
            raster.text(x + LEGEND_SWATCH + 3, baseline, line.label, SMALL_SIZE, INK)
    return raster.image.reduce(SUPERSAMPLE)
