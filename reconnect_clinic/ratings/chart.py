"""The couple's ratings as a chart spec (drawn by reports/charts.py): plain data."""

from __future__ import annotations

from ..reports.charts import ChartSpec, Series
from .queries import CoupleRatings


def ratings_chart(ratings: CoupleRatings, *, name: str = "session-ratings") -> ChartSpec | None:
    """Each partner's 0-10 rating of each session they rated; None when none is rated."""
    series = []
    for role in ("a", "b"):
        points = tuple(
            (row.therapy_session.held_on, float(score))
            for row in ratings.rated_rows
            if (score := row.scores[role]) is not None
        )
        if points:
            label = f"{ratings.names.get(role, role.upper())} ({role.upper()})"
            series.append(Series(label=label, role=role, points=points))
    if not series:
        return None
    return ChartSpec(name=name, series=tuple(series), y_max=10.0, title="Session ratings (0-10)")
