"""The therapist's download of one partner's FHIR Bundle."""

from __future__ import annotations

from datetime import date

from flask.typing import ResponseReturnValue

from ..blueprint import RouteTable, therapist_required, with_couple
from ..downloads import download, download_name
from ..models import Couple, Therapist, utcnow
from ..security.audit.log import record_event
from ..security.links.views import role_partner_or_404
from ..state import db_session
from .builders import FHIR_JSON, bundle_json
from .queries import bundle_for

routes = RouteTable()


@routes.route("/couples/<uuid:couple_id>/partners/<role>/fhir.json")
@therapist_required
@with_couple
def partner_fhir(therapist: Therapist, couple: Couple, role: str) -> ResponseReturnValue:
    """Everything one partner answered as a FHIR R4 Bundle, for an EHR or a records
    request: theirs alone, private answers included (it is their own record)."""
    partner = role_partner_or_404(couple, role)
    now = utcnow()
    bundle = bundle_for(partner, generated_at=now)
    kinds = sorted({entry["resource"]["resourceType"] for entry in bundle["entry"]})
    record_event(
        "partner.fhir_export",
        actor=therapist,
        record=partner,
        couple_id=couple.id,
        detail={"for": role, "entries": len(bundle["entry"]), "resources": kinds},
    )
    db_session().commit()
    # Named by the therapist's own day, as every other download is (downloads.py).
    today = date.today()  # noqa: DTZ011
    filename = download_name(couple.label, today, f"partner {role} fhir", "json")
    return download(bundle_json(bundle), filename, FHIR_JSON)
