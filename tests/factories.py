"""Factories for therapists, couples (with their two partners) and therapy sessions.

They go through the same operations the views use, and flush; the test commits.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from reconnect_clinic.cases.operations import CaseDetails, PartnerDetails, open_case
from reconnect_clinic.models import Couple, Therapist, TherapySession
from reconnect_clinic.security.therapists import create_therapist
from reconnect_clinic.state import db_session

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def therapist(
    *, email: str | None = None, name: str | None = None, admin: bool = False
) -> Therapist:
    n = next(_counter)
    result = create_therapist(
        email=email or f"therapist{n}@example.org",
        display_name=name or f"Therapist {n}",
        password=PASSWORD,
        is_admin=admin,
    )
    db_session().commit()
    return result


def couple(
    owner: Therapist,
    *,
    label: str = "",
    status: str = "active",
    a: str = "Alex",
    b: str = "Blake",
    opened_on: date | None = None,
) -> Couple:
    today = date.today()  # noqa: DTZ011
    result = open_case(
        owner,
        CaseDetails(
            label=label,
            status=status,
            opened_on=opened_on or today - timedelta(days=30),
            partner_a=PartnerDetails(a, "Morgan", f"{a.lower()}@example.org"),
            partner_b=PartnerDetails(b, "Morgan", f"{b.lower()}@example.org"),
        ),
        today=today,
    )
    db_session().commit()
    return result


def therapy_session(
    owner: Therapist, for_couple: Couple, *, held_on: date | None = None
) -> TherapySession:
    result = TherapySession(
        couple=for_couple,
        therapist=owner,
        held_on=held_on or date.today(),  # noqa: DTZ011
        duration_minutes=50,
    )
    session = db_session()
    session.add(result)
    session.commit()
    return result
