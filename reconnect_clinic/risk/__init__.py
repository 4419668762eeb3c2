"""Risk as a workflow: what a partner disclosed, the therapist's word on it, and what
follows (crisis resources for the partner, the therapist alerted, homework constrained).

``core`` holds the pure decisions; it imports nothing from the database or the request.
"""

from .core import (
    CONTRAINDICATION_TAGS,
    Assessment,
    Disclosure,
    DisclosureSource,
    PartnerRisk,
    RiskKind,
    RiskLevel,
    RiskStatus,
    contraindication_tags,
    highest_open_level,
    intake_disclosures,
    measure_disclosures,
    newly_disclosed,
    partner_risks,
)

__all__ = [
    "CONTRAINDICATION_TAGS",
    "Assessment",
    "Disclosure",
    "DisclosureSource",
    "PartnerRisk",
    "RiskKind",
    "RiskLevel",
    "RiskStatus",
    "contraindication_tags",
    "highest_open_level",
    "intake_disclosures",
    "measure_disclosures",
    "newly_disclosed",
    "partner_risks",
]
