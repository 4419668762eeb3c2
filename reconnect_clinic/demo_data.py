"""Demo data: one therapist and two couples at different points in their work.

Every name is invented. The data goes through the same operations a therapist's clicks
do, so the demo shows what the product really stores.
"""

from __future__ import annotations

from datetime import date, timedelta

from .cases.operations import CaseDetails, PartnerDetails, open_case
from .models import TherapySession
from .security.therapists import create_therapist, find_by_email
from .state import db_session

DEMO_EMAIL = "demo.therapist@example.org"
DEMO_PASSWORD = "reconnect-demo-2026"  # noqa: S105 - printed at start; a demo, not a secret


def seed_demo(today: date | None = None) -> bool:
    """Add the demo data unless it is there already. Returns whether anything was added."""
    if find_by_email(DEMO_EMAIL) is not None:
        return False
    today = today or date.today()  # noqa: DTZ011
    therapist = create_therapist(
        email=DEMO_EMAIL, display_name="Dr. Maya Okafor", password=DEMO_PASSWORD
    )
    rivera = open_case(
        therapist,
        CaseDetails(
            label="Rivera–Chen",
            status="active",
            opened_on=today - timedelta(days=42),
            partner_a=PartnerDetails("Daniel", "Rivera", "daniel.rivera@example.org", "he/him"),
            partner_b=PartnerDetails("Mei", "Chen", "mei.chen@example.org", "she/her"),
        ),
        today=today,
    )
    open_case(
        therapist,
        CaseDetails(
            label="Adeyemi",
            status="active",
            opened_on=today - timedelta(days=5),
            partner_a=PartnerDetails("Tolu", "Adeyemi", "tolu.a@example.org", "she/her"),
            partner_b=PartnerDetails("Chris", "Adeyemi", None, "they/them"),
        ),
        today=today,
    )
    session = db_session()
    for weeks_ago in (5, 3, 1):
        session.add(
            TherapySession(
                couple=rivera,
                therapist=therapist,
                held_on=today - timedelta(weeks=weeks_ago),
                duration_minutes=50,
                format="in_person" if weeks_ago != 3 else "video",
                attendance="both",
            )
        )
    session.flush()
    return True
