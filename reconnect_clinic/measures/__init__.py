"""Validated outcome measures (CSI-16, CSI-4, PHQ-9, GAD-7): definitions, pure scoring
and reliable change.

The public API is ``score(slug, answers)``, ``change(slug, before, after)`` (reliable and
clinically significant change between two totals) plus the instrument data the forms
render from; nothing here touches Flask or the database, so it can be tested and reused
on its own.
"""

# ``measures.change`` is the function (this import rebinds the name over the submodule);
# ``from reconnect_clinic.measures.change import ...`` still reaches the module.
from .change import (
    Bases,
    Change,
    ReliabilityBasis,
    ReliableChangeUnavailable,
    bases_from_setting,
    basis_for,
    can_judge,
    change,
)
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
    "Bases",
    "Change",
    "Instrument",
    "InstrumentItem",
    "ItemFlag",
    "MeasureScore",
    "ReliabilityBasis",
    "ReliableChangeUnavailable",
    "ResponseOption",
    "band_for",
    "bases_from_setting",
    "basis_for",
    "can_judge",
    "change",
    "get",
    "score",
]
