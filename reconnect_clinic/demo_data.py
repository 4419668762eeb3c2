"""Demo data: one therapist and two couples at different points in their work.

Every name is invented. The data goes through the same operations a therapist's clicks
do, so the demo shows what the product really stores.
"""

from __future__ import annotations

from datetime import date, timedelta

from .cases.operations import CaseDetails, PartnerDetails, open_case
from .intake.content import SAFETY_QUESTIONS, page_slugs, pages_for
from .intake.operations import response_for_link, save_page, submit_intake
from .models import Couple, Partner, Therapist, TherapySession
from .security.links import issue_link
from .security.therapists import create_therapist, find_by_email
from .state import db_session, get_state

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
    adeyemi = open_case(
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

    # Rivera–Chen finished their intakes: Daniel feels the distance less than Mei does,
    # which is what the side-by-side profile is for.
    _complete_intake(
        therapist,
        rivera.partner_a,
        frequency={"sign": 1, "cause": 2},
        stronger={"busy_and_stressful_lives": 4},
        measure_level=0.75,
        words=(
            "Work has taken over and we mostly talk about logistics.",
            "I would like us to have proper time together again.",
        ),
    )
    _complete_intake(
        therapist,
        rivera.partner_b,
        frequency={"sign": 3, "cause": 2},
        stronger={"feeling_invisible": 4, "emotional_self_sufficiency": 4, "loss_of_intimacy": 3},
        measure_level=0.35,
        words=(
            "I feel alone in this marriage even when we are in the same room.",
            "To feel that Daniel is interested in my day and how I am.",
        ),
    )
    # Two weeks ago the therapist gave Rivera–Chen a daily check-in; both have been
    # checking in, Mei a little more often, and she shared one reflection.
    _homework_history(therapist, rivera, today)
    # Adeyemi started: Tolu is part-way through, Chris has not opened the link yet.
    _partial_intake(therapist, adeyemi.partner_a, pages=2)
    issue_link(adeyemi.partner_b, "intake", created_by=therapist, lifetime=timedelta(days=14))
    session.flush()
    return True


def _answers(
    frequency: dict[str, int],
    stronger: dict[str, int],
    measure_level: float,
    words: tuple[str, str],
) -> dict[str, dict[str, str]]:
    """Plausible intake answers: a frequency per kind of concern, a few concerns felt more
    strongly, and measure answers at ``measure_level`` (0 = lowest option, 1 = highest)."""
    taxonomy = get_state().taxonomy
    concern_of = {item.id: concern for concern in taxonomy.concerns for item in concern.items}
    answers: dict[str, dict[str, str]] = {}
    for page in pages_for(taxonomy):
        values: dict[str, str] = {}
        for question in page.questions:
            if question.item_id in concern_of:
                concern = concern_of[question.item_id]
                level = stronger.get(concern.slug, frequency[concern.kind])
                item = taxonomy.item(question.item_id)
                values[question.name] = str(4 - level if item.reverse else level)
            elif question.kind == "radio" and page.slug in ("relationship", "wellbeing"):
                ordered = sorted(question.choices, key=lambda choice: int(choice[0]))
                values[question.name] = ordered[round(measure_level * (len(ordered) - 1))][0]
            elif question.name in SAFETY_QUESTIONS:
                values[question.name] = "no"
            elif question.kind == "radio":
                values[question.name] = question.choices[1][0]
            elif question.kind == "checkbox":
                values[question.name] = "y"
            else:
                values[question.name] = ""
        answers[page.slug] = values
    answers["about"]["reasons"], answers["about"]["hopes"] = words
    # Wellbeing answers run the other way from satisfaction: higher means more distress.
    for name in answers["wellbeing"]:
        answers["wellbeing"][name] = str(round((1 - measure_level) * 2))
    answers["wellbeing"]["phq9_9"] = "0"
    return answers


def _complete_intake(
    therapist: Therapist,
    partner: Partner,
    *,
    frequency: dict[str, int],
    stronger: dict[str, int],
    measure_level: float,
    words: tuple[str, str],
) -> None:
    taxonomy = get_state().taxonomy
    issued = issue_link(partner, "intake", created_by=therapist, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    answers = _answers(frequency, stronger, measure_level, words)
    answers["consent"]["signature"] = partner.full_name
    for slug in page_slugs(taxonomy):
        save_page(response, slug, answers[slug], complete=True, next_page=None)
    db_session().refresh(response)
    submit_intake(response, issued.link, taxonomy, consent_name=partner.full_name)


def _partial_intake(therapist: Therapist, partner: Partner, *, pages: int) -> None:
    taxonomy = get_state().taxonomy
    issued = issue_link(partner, "intake", created_by=therapist, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    answers = _answers({"sign": 2, "cause": 2}, {}, 0.5, ("We keep missing each other.", ""))
    slugs = page_slugs(taxonomy)
    for index, slug in enumerate(slugs[:pages]):
        save_page(response, slug, answers[slug], complete=True, next_page=slugs[index + 1])


def _homework_history(therapist: Therapist, couple: Couple, today: date) -> None:
    from .homework import library
    from .homework.operations import AssignmentDetails, CheckInDetails, assign, record_check_in

    start = today - timedelta(days=13)
    given = assign(
        couple,
        therapist,
        library.load().get("daily_check_in"),
        AssignmentDetails("both", start, today + timedelta(days=1), "daily", None, None),
        get_state().taxonomy,
        exercise_ref="library:daily_check_in",
    )
    notes = {
        "a": {3: "Hard to find the ten minutes, but it was nice when we did."},
        "b": {
            4: "I felt listened to for the first time in a while.",
            8: "We skipped the phones tonight. It helped.",
        },
    }
    every = {"a": 3, "b": 2}  # Daniel checks in every third day, Mei every second
    for role, step in every.items():
        partner = couple.partner(role)
        for offset in range(0, 13, step):
            reflection = notes[role].get(offset)
            record_check_in(
                given,
                partner,
                CheckInDetails(
                    client_key=f"demo-{role}-{offset}",
                    completion="done" if offset % 4 else "partly",
                    helpfulness=4 if role == "b" else 3,
                    reflection=reflection,
                    share_with_partner=bool(reflection) and offset == 8,
                ),
                today=start + timedelta(days=offset),
                actor=None,
            )
