"""The therapist's download of one partner's FHIR Bundle."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from ..blueprint import RouteTable, signed_in_therapist, therapist_required
from ..downloads import download, download_name
from ..models import utcnow
from ..security.audit.log import record_event
from ..security.links.views import partner_or_404
from ..state import db_session
from .builders import FHIR_JSON, bundle_json
from .queries import bundle_for

routes = RouteTable()


@routes.route("/couples/<uuid:couple_id>/partners/<role>/fhir.json")
@therapist_required
def partner_fhir(couple_id: uuid.UUID, role: str) -> Any:
    """Everything one partner answered as a FHIR R4 Bundle, for an EHR or a records
    request: theirs alone, private answers included (it is their own record)."""
    therapist = signed_in_therapist()
    couple, partner = partner_or_404(couple_id, role)
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
