"""Charts for reports, drawn with Matplotlib as SVG that goes straight into the HTML.

Deterministic (a fixed hash salt, no date in the file) so a report renders to the same
bytes every time, and set in the report font (Inter, shipped in the package) so a chart
prints like the text around it.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import as_file, files

_lock = threading.Lock()  # Matplotlib's global state is not thread-safe

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

    fonts = files("reconnect_clinic.reports") / "assets" / "fonts"
    for name in ("Inter-Regular.otf", "Inter-Bold.otf"):
        with as_file(fonts / name) as path:
            font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "reconnect-clinic",
            "svg.fonttype": "none",
            # Names are text, never math: a "$" in a partner's name must print as typed.
            "text.parse_math": False,
            "font.family": "Inter",
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


def line_chart(
    series: Sequence[Series],
    *,
    y_max: float,
    cutoffs: Sequence[tuple[str, float]] = (),
    title: str = "",
    width_in: float = 6.3,
    height_in: float = 2.1,
    id_prefix: str = "",
) -> str:
    """An SVG line chart of scores over time with dashed cut-off lines."""
    _matplotlib()
    from datetime import timedelta

    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    with _lock:
        figure = Figure(figsize=(width_in, height_in))
        axes = figure.subplots()
        for s in series:
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
        for label, value in cutoffs:
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
        axes.set_ylim(0, y_max)
        days = sorted({d for s in series for d, _ in s.points})
        if days:
            locator = AutoDateLocator(minticks=2, maxticks=6)
            axes.xaxis.set_major_locator(locator)
            axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            # A little room either side, and a sensible span when there is one date only.
            pad = max(timedelta(days=7), (days[-1] - days[0]) / 20)
            axes.set_xlim(days[0] - pad, days[-1] + pad)
        if title:
            axes.set_title(title, loc="left", fontsize=9, fontweight="bold")
        if any(s.points for s in series):
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
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    # Keep only the <svg> element: the XML declaration and DOCTYPE are not allowed
    # inside an HTML document.
    svg = svg[svg.index("<svg") :]
    return _prefix_ids(svg, id_prefix) if id_prefix else svg


_ID = re.compile(r'(\bid="|url\(#|xlink:href="#)([^")]+)')


def _prefix_ids(svg: str, prefix: str) -> str:
    """Give every id in the chart a prefix: several charts inline in one document must
    not share ids (Matplotlib numbers them the same way in every figure)."""
    return _ID.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
