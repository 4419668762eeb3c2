"""Validated outcome measures (CSI-16, PHQ-9, GAD-7): definitions and pure scoring.

The public API is ``score(slug, answers)`` plus the instrument data the intake forms
render from; nothing here touches Flask or the database, so it can be tested and reused
on its own.
"""

from .instruments import (
    INSTRUMENTS,
    Band,
    Instrument,
    InstrumentItem,
    ItemFlag,
    ResponseOption,
    get,
)
from .scoring import MeasureScore, band_for, score

__all__ = [
    "INSTRUMENTS",
    "Band",
    "Instrument",
    "InstrumentItem",
    "ItemFlag",
    "MeasureScore",
    "ResponseOption",
    "band_for",
    "get",
    "score",
]
