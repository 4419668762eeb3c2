"""Storing a measure result. Operations flush; the view or CLI command commits."""

from __future__ import annotations

from datetime import datetime

from ..models import MeasureResult
from ..state import db_session


def store_measure_result(result: MeasureResult, *, now: datetime | None = None) -> MeasureResult:
    """Keep one administration of a measure, and what it discloses (PHQ-9 item 9 above
    0 opens a self-harm risk for the partner, however long after the intake)."""
    from ..risk.operations import record_measure_disclosures

    session = db_session()
    session.add(result)
    session.flush()
    record_measure_disclosures(result, now=now)
    return result
