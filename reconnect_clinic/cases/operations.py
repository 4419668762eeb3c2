"""Opening and changing cases. Operations flush; the view that calls them commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..models import CaseStatus, Couple, Partner, PartnerRole, Therapist
from ..security.audit.log import record_event
from ..state import config, db_session
from .lifecycle import last_session_on, retention_until


@dataclass(frozen=True)
class PartnerDetails:
    first_name: str
    last_name: str = ""
    email: str | None = None
    pronouns: str | None = None
    language: str | None = None  # i18n.LANGUAGES; None: the partner's browser decides


@dataclass(frozen=True)
class CaseDetails:
    label: str
    status: str
    opened_on: date
    partner_a: PartnerDetails
    partner_b: PartnerDetails
    legal_hold: bool = False


def default_label(details: CaseDetails) -> str:
    """The case's name when the therapist gives none: the partners' first names."""
    return details.label or f"{details.partner_a.first_name} & {details.partner_b.first_name}"


def closed_on_for(
    status: str, *, previous: date | None, opened_on: date, today: date
) -> date | None:
    """A closed case keeps the date it first closed on (never before it opened);
    reopening clears it."""
    if status == CaseStatus.CLOSED:
        return max(previous or today, opened_on)
    return None


def open_case(therapist: Therapist, details: CaseDetails, *, today: date) -> Couple:
    """Create a couple with exactly its two partners."""
    if details.status not in set(CaseStatus):
        raise ValueError(f"unknown case status {details.status!r}")
    couple = Couple(
        therapist=therapist,
        label=default_label(details),
        status=details.status,
        opened_on=details.opened_on,
        closed_on=closed_on_for(
            details.status, previous=None, opened_on=details.opened_on, today=today
        ),
        legal_hold=details.legal_hold,
    )
    if couple.closed_on is not None:
        couple.retention_until = retention_until(couple.closed_on, None, config("RETENTION_YEARS"))
    for role, partner in ((PartnerRole.A, details.partner_a), (PartnerRole.B, details.partner_b)):
        couple.partners.append(Partner(role=role.value, **_partner_fields(partner)))
    session = db_session()
    session.add(couple)
    session.flush()
    record_event("couple.create", actor=therapist, record=couple, couple_id=couple.id)
    return couple


def update_case(
    couple: Couple, therapist: Therapist, details: CaseDetails, *, today: date
) -> Couple:
    """Apply the edited details to a couple and its partners."""
    if details.status not in set(CaseStatus):
        raise ValueError(f"unknown case status {details.status!r}")
    couple.label = default_label(details)
    couple.closed_on = closed_on_for(
        details.status, previous=couple.closed_on, opened_on=details.opened_on, today=today
    )
    couple.status = details.status
    couple.opened_on = details.opened_on
    couple.legal_hold = details.legal_hold
    couple.retention_until = (
        retention_until(couple.closed_on, last_session_on(couple.id), config("RETENTION_YEARS"))
        if couple.closed_on is not None
        else None
    )
    for role, partner in ((PartnerRole.A, details.partner_a), (PartnerRole.B, details.partner_b)):
        target = couple.partner(role)
        for name, value in _partner_fields(partner).items():
            setattr(target, name, value)
    db_session().flush()
    record_event("couple.update", actor=therapist, record=couple, couple_id=couple.id)
    return couple


def _partner_fields(partner: PartnerDetails) -> dict[str, str | None]:
    return {
        "first_name": partner.first_name,
        "last_name": partner.last_name or "",
        "email": (partner.email or "").lower() or None,
        "pronouns": partner.pronouns or None,
        "language": partner.language or None,
    }
