"""Checked by mypy in ``make lint``, never run: a sealed attribute reads as the type it
was declared with (``Sealed[int]`` reads as ``int``), and on the class it is the
``Sealed`` attribute itself, which ``sealed_fields`` finds. A ``Sealed`` that went back
to reading as ``object`` fails here.
"""

from __future__ import annotations

from typing import assert_type

from reconnect_clinic.models import MeasureResult, RiskDisclosure, StoredReport, Therapist
from reconnect_clinic.models.sealed import Sealed


def _rows_read_as_declared(
    result: MeasureResult, report: StoredReport, therapist: Therapist, found: RiskDisclosure
) -> None:
    assert_type(result.total, int)
    assert_type(result.item_points, list[int])
    assert_type(report.pdf, bytes)
    assert_type(therapist.totp_secret, str | None)
    assert_type(found.facts["level"], int)


def _classes_hold_the_attribute() -> None:
    assert_type(MeasureResult.total, Sealed[int])


def _writes_take_the_declared_type(result: MeasureResult) -> None:
    result.total = 12
    result.total = "12"  # type: ignore[assignment]  # the check: a str is refused
