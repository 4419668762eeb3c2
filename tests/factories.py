"""Factories for therapists, couples (with their two partners) and therapy sessions.

They go through the same operations the views use, and flush; the test commits.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from reconnect_clinic.cases.operations import CaseDetails, PartnerDetails, open_case
from reconnect_clinic.models import (
    Couple,
    HomeworkAssignment,
    Partner,
    SessionNote,
    Therapist,
    TherapySession,
)
from reconnect_clinic.security.accounts.therapists import create_therapist
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


def intake_link(owner: Therapist, partner: Partner, *, days: int = 14) -> str:
    """Make an intake link for ``partner`` and return its token (the raw, once-only part)."""
    from reconnect_clinic.security.links.tokens import issue_link

    issued = issue_link(partner, "intake", created_by=owner, lifetime=timedelta(days=days))
    db_session().commit()
    return issued.token


def intake_answers(
    *, frequency: str = "2", measure_pick: str = "first", safety: str = "no", text: str = ""
) -> dict[str, dict[str, str]]:
    """A complete set of intake answers, page by page, as a browser would post them.

    ``frequency`` answers every sign and cause item; ``measure_pick`` chooses the first or
    last option of each measure item; ``safety`` answers every safety question.
    """
    from reconnect_clinic.intake.content import pages_for
    from reconnect_clinic.taxonomy import load

    answers: dict[str, dict[str, str]] = {}
    for page in pages_for(load()):
        values: dict[str, str] = {}
        for question in page.questions:
            if question.kind == "radio":
                values_for = [value for value, _ in question.choices]
                if page.slug in ("signs", "background"):
                    values[question.name] = frequency
                elif page.slug == "safety":
                    values[question.name] = safety
                else:
                    values[question.name] = values_for[0 if measure_pick == "first" else -1]
            elif question.kind == "checkbox":
                values[question.name] = "y"
            elif question.name == "signature":
                values[question.name] = "Alex Morgan"
            else:
                values[question.name] = text
        answers[page.slug] = values
    return answers


def homework_link(owner: Therapist, partner: Partner) -> str:
    from reconnect_clinic.security.links.tokens import issue_link

    issued = issue_link(partner, "homework", created_by=owner, lifetime=timedelta(days=90))
    db_session().commit()
    return issued.token


def assignment(
    owner: Therapist,
    for_couple: Couple,
    *,
    exercise: str = "daily_check_in",
    assignee: str = "both",
    frequency: str = "once",
    times_per_week: int | None = None,
    starts_on: date | None = None,
    days: int = 7,
    override_reason: str | None = None,
) -> HomeworkAssignment:
    """Assign a library exercise through the same operation the view uses (so the
    couple's risks hold back what they rule out, unless ``override_reason`` is given)."""
    from reconnect_clinic.homework import library
    from reconnect_clinic.homework.operations import AssignmentDetails, assign
    from reconnect_clinic.taxonomy import load

    start = starts_on or date.today()  # noqa: DTZ011
    result = assign(
        for_couple,
        owner,
        library.load().get(exercise),
        AssignmentDetails(
            assignee=assignee,
            starts_on=start,
            due_on=start + timedelta(days=days),
            frequency=frequency,
            times_per_week=times_per_week,
            note=None,
        ),
        load(),
        exercise_ref=f"library:{exercise}",
        override_reason=override_reason,
    )
    db_session().commit()
    return result


def signed_note(
    owner: Therapist,
    therapy: TherapySession,
    *,
    data: str = "Both spoke about feeling far apart.",
    interventions: tuple[str, ...] = ("improve_communication",),
    homework_reviewed: tuple[str, ...] = (),
    homework_assigned: tuple[str, ...] = (),
) -> SessionNote:
    """A DAP note on ``therapy``, signed by ``owner``, through the note operations; the
    homework lists hold assignment ids."""
    from reconnect_clinic.notes.operations import save_note, sign_note

    note = save_note(
        therapy,
        owner,
        template="dap",
        content={
            "sections": {"data": data, "assessment": "Early work.", "plan": "Daily check-in."},
            "interventions": list(interventions),
            "homework_reviewed": list(homework_reviewed),
            "homework_assigned": list(homework_assigned),
            "risk": {"level": "none", "notes": ""},
        },
        based_on_version=None,
    )
    sign_note(note, owner, based_on_version=note.version)
    db_session().commit()
    return note


def rating_links(owner: Therapist, for_session: TherapySession) -> dict[str, str]:
    """Rating links for each partner who attended ``for_session``: role -> token."""
    from reconnect_clinic.ratings.operations import send_rating_links

    made = send_rating_links(for_session, owner)
    db_session().commit()
    return {item.role: item.issued.token for item in made}


def rating_link(owner: Therapist, for_session: TherapySession, partner: Partner) -> str:
    """A rating link for ``partner`` alone (who attended ``for_session``): its token."""
    from reconnect_clinic.ratings.operations import send_rating_links

    (made,) = send_rating_links(for_session, owner, only=partner.role)
    db_session().commit()
    return made.issued.token


def measures_link(
    owner: Therapist,
    partner: Partner,
    *,
    instruments: str = "csi4,phq9",
    due_on: date | None = None,
) -> str:
    """A measures administration for ``partner`` (due today unless said) with its link;
    returns the link's token."""
    import sqlalchemy as sa

    from reconnect_clinic.measures.operations import PURPOSE
    from reconnect_clinic.models import MeasureAdministration, utcnow
    from reconnect_clinic.security.links.tokens import issue_link

    if due_on is None:  # one administration per partner and day: the next free day
        made = db_session().scalar(
            sa.select(sa.func.count(MeasureAdministration.id)).where(
                MeasureAdministration.partner_id == partner.id
            )
        )
        due_on = date.today() + timedelta(days=made or 0)  # noqa: DTZ011
    issued = issue_link(partner, PURPOSE, created_by=owner, lifetime=timedelta(days=10))
    db_session().add(
        MeasureAdministration(
            couple_id=partner.couple_id,
            partner_id=partner.id,
            due_on=due_on,
            instruments=instruments,
            link_id=issued.link.id,
            sent_at=utcnow(),
            sent_via="copy",
        )
    )
    db_session().commit()
    return issued.token
