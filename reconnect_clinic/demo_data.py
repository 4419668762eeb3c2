"""Demo data: one therapist and two couples at different points in their work.

- Rivera–Chen, in the middle of treatment: both partners' intakes submitted nine weeks
  ago and again this week (not yet read), the CSI-16, PHQ-9 and GAD-7 given at two
  sessions in between through measures links on a two-weekly schedule (each partner
  improving: Mei's PHQ-9 from 15 to 7, a reliable and clinically significant
  improvement; the latest round missed by both), three signed session notes (one with an
  addendum), a draft note for last week's session, the next session booked, and homework
  with check-ins: reflections shared with the partner and private ones, and one exercise
  overdue.
- Adeyemi, just starting: Tolu's intake came in two days ago and discloses a safety
  concern (an open risk for the therapist to review); Chris is part-way through theirs.

Every name is invented. The data goes through the same operations a therapist's and a
partner's clicks do (intake pages saved and submitted, measures stored, sessions, notes
signed, homework assigned and checked in), so the demo shows what the product really
stores; only the dates are set back, counted from ``today``. Given the same ``today`` the
demo is the same, apart from the times things were written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from . import measures
from .cases.operations import CaseDetails, PartnerDetails, open_case
from .intake.content import SAFETY_QUESTIONS, measure_field, page_slugs, pages_for
from .intake.operations import response_for_link, save_page, submit_intake
from .measures.operations import save_schedule, store_answers
from .models import Couple, HomeworkAssignment, MeasureAdministration, Partner, Therapist
from .notes.operations import SessionDetails, add_addendum, create_session, save_note, sign_note
from .security.accounts.therapists import create_therapist, find_by_email
from .security.links.tokens import issue_link
from .state import db_session, get_state

DEMO_EMAIL = "demo.therapist@example.org"
DEMO_PASSWORD = "reconnect-demo-2026"  # noqa: S105 - printed at start; a demo, not a secret
MID_TREATMENT = "Rivera–Chen"
SAFETY_COUPLE = "Adeyemi"

#: What the demo holds, in words, for the command that seeds it to print.
DEMO_CONTENTS = (
    f"{MID_TREATMENT}: mid-treatment. Both intakes, at the start and again this week; "
    "measures at four points; three signed session notes (one with an addendum) and a "
    "draft; homework with shared and private reflections, one exercise overdue; the next "
    "session booked.",
    f"{SAFETY_COUPLE}: starting. One intake in with a safety concern to review (an open "
    "risk), the other part-way.",
)

# Each partner's measure totals: at the first intake, at the sessions five and three weeks
# ago, and at this week's second intake. Both improve; Mei starts distressed and depressed
# (PHQ-9 15, moderately severe) and is still below the CSI-16's distress cut-off (51.5) at
# the last, Daniel crosses it.
RIVERA_MEASURES: dict[str, dict[str, tuple[int, ...]]] = {
    "a": {"csi16": (48, 52, 56, 60), "phq9": (9, 8, 6, 5), "gad7": (8, 7, 6, 4)},
    "b": {"csi16": (31, 37, 43, 49), "phq9": (15, 12, 10, 7), "gad7": (13, 11, 9, 7)},
}
REPEATED_WEEKS_AGO = (5, 3)
SECOND_INTAKE_DAYS_AGO = 3


@dataclass(frozen=True)
class _Note:
    weeks_ago: int
    data: str
    assessment: str
    plan: str
    interventions: tuple[str, ...]
    reviewed: tuple[str, ...] = ()  # homework, by exercise slug
    assigned: tuple[str, ...] = ()
    signed: bool = True
    addendum: str | None = None


RIVERA_NOTES = (
    _Note(
        7,
        "First joint session after both intakes. Mei described feeling alone in the "
        "marriage; Daniel described work taking over and conversations that stay on "
        "logistics. Both want more time together.",
        "Emotional distance built up through busy lives rather than conflict. Mei's "
        "distress (CSI-16 in the distressed range, PHQ-9 moderately severe) is the more "
        "acute; no current risk identified.",
        "Name the distance together before changing anything. Measures again in two weeks.",
        ("recognize_and_acknowledge", "improve_communication"),
        assigned=("naming_the_distance_together",),
    ),
    _Note(
        5,
        "Both did the naming exercise. Mei said it was the first time she felt Daniel "
        "heard how lonely she has been; Daniel was surprised by how much she had carried.",
        "Early engagement from both. Scores moving in the right direction; Mei's mood still low.",
        "A ten-minute daily check-in; Daniel to notice three things that refill him.",
        ("improve_communication", "increase_emotional_awareness"),
        reviewed=("naming_the_distance_together",),
        assigned=("daily_check_in", "three_things_that_refill_you"),
        addendum="Correction to the plan: the daily check-in starts once Mei is back from "
        "her work trip, in about three weeks, not straight away, as agreed with both "
        "partners by phone.",
    ),
    _Note(
        3,
        "Mei travels next week. Daniel has started thinking about what refills him but has "
        "not written anything down. Both looking forward to starting the check-in.",
        "Motivation holding in both; Daniel's workload is the main risk to the homework.",
        "Start the daily check-in when Mei is back; measures again in two weeks.",
        ("prioritize_quality_time", "practice_self_care"),
        reviewed=("three_things_that_refill_you",),
    ),
    _Note(
        1,
        "Reviewed the first week of check-ins. A phone-free evening helped. Daniel has not "
        "done his list yet.",
        "",
        "",
        ("improve_communication",),
        reviewed=("daily_check_in", "three_things_that_refill_you"),
        signed=False,
    ),
)


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
            label=MID_TREATMENT,
            status="active",
            opened_on=today - timedelta(days=70),
            partner_a=PartnerDetails("Daniel", "Rivera", "daniel.rivera@example.org", "he/him"),
            partner_b=PartnerDetails("Mei", "Chen", "mei.chen@example.org", "she/her"),
        ),
        today=today,
    )
    adeyemi = open_case(
        therapist,
        CaseDetails(
            label=SAFETY_COUPLE,
            status="active",
            opened_on=today - timedelta(days=5),
            partner_a=PartnerDetails("Tolu", "Adeyemi", "tolu.a@example.org", "she/her"),
            partner_b=PartnerDetails("Chris", "Adeyemi", None, "they/them"),
        ),
        today=today,
    )
    _seed_rivera(therapist, rivera, today)
    _seed_adeyemi(therapist, adeyemi, today)
    db_session().flush()
    return True


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _seed_rivera(therapist: Therapist, couple: Couple, today: date) -> None:
    from .cases.attention import mark_seen
    from .reports import service

    daniel, mei = couple.partner("a"), couple.partner("b")
    # The intakes, nine weeks ago: Daniel feels the distance less than Mei does, which is
    # what the side-by-side profile is for.
    _complete_intake(
        therapist,
        daniel,
        frequency={"sign": 1, "cause": 2},
        stronger={"busy_and_stressful_lives": 4},
        totals={slug: values[0] for slug, values in RIVERA_MEASURES["a"].items()},
        words=(
            "Work has taken over and we mostly talk about logistics.",
            "I would like us to have proper time together again.",
        ),
        at=_at(today - timedelta(days=64), 20),
    )
    _complete_intake(
        therapist,
        mei,
        frequency={"sign": 3, "cause": 2},
        stronger={"feeling_invisible": 4, "emotional_self_sufficiency": 4, "loss_of_intimacy": 3},
        totals={slug: values[0] for slug, values in RIVERA_MEASURES["b"].items()},
        words=(
            "I feel alone in this marriage even when we are in the same room.",
            "To feel that Daniel is interested in my day and how I am.",
        ),
        at=_at(today - timedelta(days=63), 21),
    )
    # The measures given again at two sessions, through measures links on a schedule.
    _rivera_measures(therapist, couple, today)
    # And the intake again this week, before the next session: things have eased.
    second = _at(today - timedelta(days=SECOND_INTAKE_DAYS_AGO), 20)
    _complete_intake(
        therapist,
        daniel,
        frequency={"sign": 1, "cause": 1},
        stronger={"busy_and_stressful_lives": 3},
        totals={slug: values[-1] for slug, values in RIVERA_MEASURES["a"].items()},
        words=(
            "We still get busy, but we notice it sooner.",
            "To keep the check-ins going when work is heavy.",
        ),
        at=second,
    )
    _complete_intake(
        therapist,
        mei,
        frequency={"sign": 2, "cause": 2},
        stronger={"feeling_invisible": 3},
        totals={slug: values[-1] for slug, values in RIVERA_MEASURES["b"].items()},
        words=(
            "I feel less alone, most days.",
            "More evenings like the phone-free one.",
        ),
        at=second + timedelta(hours=1),
    )

    homework = _rivera_homework(therapist, couple, today)
    for spec in RIVERA_NOTES:
        held_on = today - timedelta(weeks=spec.weeks_ago)
        therapy_session = create_session(
            couple,
            therapist,
            SessionDetails(held_on, 50, "video" if spec.weeks_ago == 3 else "in_person", "both"),
        )
        note = save_note(
            therapy_session,
            therapist,
            template="dap",
            content={
                "sections": {"data": spec.data, "assessment": spec.assessment, "plan": spec.plan},
                "interventions": list(spec.interventions),
                "homework_reviewed": [str(homework[slug].id) for slug in spec.reviewed],
                "homework_assigned": [str(homework[slug].id) for slug in spec.assigned],
                "risk": {"level": "none" if spec.signed else "", "notes": "", "none_reason": ""},
            },
            based_on_version=None,
        )
        if spec.signed:
            sign_note(note, therapist, based_on_version=note.version)
            if spec.addendum:
                add_addendum(note, therapist, spec.addendum)
            # As signing in the clinic does: the report is rendered once and kept (here
            # after the addendum, so one render carries both).
            service.issue_session_report(couple, therapy_session)
    # Both partners rated every session; Mei's rating of the video session dropped.
    _rivera_ratings(therapist, couple, today)
    # The next session is booked.
    create_session(
        couple, therapist, SessionDetails(today + timedelta(days=7), 50, "in_person", "both")
    )
    # The therapist read the first intakes before the first session (this week's second
    # ones wait, unread) and last opened the couple's page on last week's session day.
    # The check-ins are stored as the seed runs, so every reflection counts as new.
    mark_seen(therapist, couple, _at(today - timedelta(weeks=7), 9), intakes=("a", "b"))
    mark_seen(therapist, couple, _at(today - timedelta(weeks=1), 17), page=True)


def _seed_adeyemi(therapist: Therapist, couple: Couple, today: date) -> None:
    # Tolu's intake is in, not yet read, and discloses a safety concern: she would rather
    # talk in person about feeling afraid, and says she is often put down. The risk is
    # recorded as submitting records it, and stays open until the therapist acknowledges it.
    _complete_intake(
        therapist,
        couple.partner("a"),
        frequency={"sign": 2, "cause": 2},
        stronger={"feeling_invisible": 3},
        totals={"csi16": 40, "phq9": 11, "gad7": 12},
        words=("We argue, and then we do not talk for days.", "To feel safe to speak up."),
        safety={"safety_afraid": "discuss", "safety_insulted": "yes"},
        at=_at(today - timedelta(days=2), 19),
    )
    # Chris has started: two pages saved yesterday.
    _partial_intake(therapist, couple.partner("b"), pages=2, at=_at(today - timedelta(days=1), 21))


def _measure_points(slug: str, total: int, fixed: Mapping[int, int] | None = None) -> list[int]:
    """Item points (as the published key gives them) that add up to ``total``, spread
    evenly over the items; items in ``fixed`` (number -> points) keep their points."""
    fixed = fixed or {}
    items = measures.get(slug).items
    points = [fixed.get(item.number, item.min_points) for item in items]
    free = [index for index, item in enumerate(items) if item.number not in fixed]
    remaining = total - sum(points)
    while remaining > 0:
        raised = False
        for index in free:
            if remaining and points[index] < items[index].max_points:
                points[index] += 1
                remaining -= 1
                raised = True
        if not raised:
            raise ValueError(f"{slug}: a total of {total} cannot be reached")
    if remaining < 0:
        raise ValueError(f"{slug}: a total of {total} is below the fixed items' points")
    return points


# PHQ-9 item 9 (thoughts of self-harm) stays at 0 in the demo: a higher answer opens a
# self-harm risk, which only the safety couple's story would call for.
_NO_SELF_HARM = {9: 0}


def _points_for(slug: str, total: int) -> list[int]:
    return _measure_points(slug, total, _NO_SELF_HARM if slug == "phq9" else None)


def _rivera_measures(therapist: Therapist, couple: Couple, today: date) -> None:
    """Rivera–Chen's schedule of measures: every two weeks, due two days before each
    session of the measures (five and three weeks ago), answered through each partner's
    measures link; the third round, due nine days ago, was sent and never answered, so
    it shows as missed for both."""
    slugs = tuple(RIVERA_MEASURES["a"])
    first_due = today - timedelta(weeks=REPEATED_WEEKS_AGO[0], days=2)
    schedule = save_schedule(
        couple,
        therapist,
        instruments=slugs,
        cadence="every_n_weeks",
        every_weeks=2,
        starts_on=first_due,
    )
    schedule.created_at = _at(first_due - timedelta(days=7))
    answered = [today - timedelta(weeks=weeks) for weeks in REPEATED_WEEKS_AGO]
    for round_number, due_on in enumerate(
        (*(day - timedelta(days=2) for day in answered), first_due + timedelta(weeks=4))
    ):
        sent_at = _at(due_on - timedelta(days=2), 8)
        for partner in couple.partners:
            issued = issue_link(
                partner, "measures", created_by=therapist, lifetime=timedelta(days=10), now=sent_at
            )
            administration = MeasureAdministration(
                couple_id=couple.id,
                partner_id=partner.id,
                due_on=due_on,
                instruments=",".join(slugs),
                link_id=issued.link.id,
                sent_at=sent_at,
                sent_via="email",
            )
            db_session().add(administration)
            db_session().flush()
            if round_number < len(answered):
                totals = RIVERA_MEASURES[partner.role]
                store_answers(
                    issued.link,
                    administration,
                    {slug: _points_for(slug, totals[slug][round_number + 1]) for slug in slugs},
                    now=_at(answered[round_number]),
                )


def _answers(
    frequency: dict[str, int],
    stronger: dict[str, int],
    totals: Mapping[str, int],
    words: tuple[str, str],
    safety: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Plausible intake answers: a frequency per kind of concern, a few concerns felt more
    strongly, the measures answered to the given ``totals``, and the safety questions
    answered "no" except those in ``safety``."""
    taxonomy = get_state().taxonomy
    concern_of = {item.id: concern for concern in taxonomy.concerns for item in concern.items}
    measure_answers = {
        measure_field(slug, number): str(points)
        for slug, total in totals.items()
        for number, points in enumerate(_points_for(slug, total), start=1)
    }
    safety = safety or {}
    answers: dict[str, dict[str, str]] = {}
    for page in pages_for(taxonomy):
        values: dict[str, str] = {}
        for question in page.questions:
            if question.item_id in concern_of:
                concern = concern_of[question.item_id]
                level = stronger.get(concern.slug, frequency[concern.kind])
                item = taxonomy.item(question.item_id)
                values[question.name] = str(4 - level if item.reverse else level)
            elif question.name in measure_answers:
                values[question.name] = measure_answers[question.name]
            elif question.name in SAFETY_QUESTIONS:
                values[question.name] = safety.get(question.name, "no")
            elif question.kind == "radio":
                values[question.name] = question.choices[1][0]
            elif question.kind == "checkbox":
                values[question.name] = "y"
            else:
                values[question.name] = ""
        answers[page.slug] = values
    answers["about"]["reasons"], answers["about"]["hopes"] = words
    return answers


def _complete_intake(
    therapist: Therapist,
    partner: Partner,
    *,
    frequency: dict[str, int],
    stronger: dict[str, int],
    totals: Mapping[str, int],
    words: tuple[str, str],
    at: datetime,
    safety: Mapping[str, str] | None = None,
) -> None:
    taxonomy = get_state().taxonomy
    issued = issue_link(partner, "intake", created_by=therapist, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    answers = _answers(frequency, stronger, totals, words, safety)
    answers["consent"]["signature"] = partner.full_name
    for slug in page_slugs(taxonomy):
        save_page(response, slug, answers[slug], complete=True, next_page=None, now=at)
    db_session().refresh(response)
    submit_intake(response, issued.link, taxonomy, consent_name=partner.full_name, now=at)


def _partial_intake(therapist: Therapist, partner: Partner, *, pages: int, at: datetime) -> None:
    taxonomy = get_state().taxonomy
    issued = issue_link(partner, "intake", created_by=therapist, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    totals = {"csi16": 45, "phq9": 6, "gad7": 7}
    answers = _answers({"sign": 2, "cause": 2}, {}, totals, ("We keep missing each other.", ""))
    slugs = page_slugs(taxonomy)
    for index, slug in enumerate(slugs[:pages]):
        save_page(response, slug, answers[slug], complete=True, next_page=slugs[index + 1], now=at)


def _rivera_homework(
    therapist: Therapist, couple: Couple, today: date
) -> dict[str, HomeworkAssignment]:
    """Three exercises, by slug: one done and closed, a daily check-in running now (both
    check in, Mei more often; some reflections shared with the partner, some private), and
    one for Daniel alone that is overdue."""
    from .homework import library
    from .homework.operations import (
        AssignmentDetails,
        CheckInDetails,
        assign,
        close_assignment,
        record_check_in,
    )

    exercises = library.load()
    taxonomy = get_state().taxonomy

    def give(slug: str, details: AssignmentDetails) -> HomeworkAssignment:
        exercise = exercises.get(slug)
        return assign(
            couple, therapist, exercise, details, taxonomy, exercise_ref=f"library:{slug}"
        )

    def check_in(
        given: HomeworkAssignment, role: str, day: date, reflection: str | None, shared: bool
    ) -> None:
        record_check_in(
            given,
            couple.partner(role),
            CheckInDetails(
                client_key=f"demo-{given.exercise_ref}-{role}-{day.isoformat()}",
                completion="done" if (day - given.starts_on).days % 4 else "partly",
                helpfulness=4 if role == "b" else 3,
                reflection=reflection,
                share_with_partner=shared,
            ),
            today=day,
            actor=None,
        )

    # Given at the first session; both did it, and it was closed at the second.
    naming_start = today - timedelta(weeks=7)
    naming = give(
        "naming_the_distance_together",
        AssignmentDetails(
            "both", naming_start, naming_start + timedelta(days=12), "once", None, None
        ),
    )
    check_in(
        naming,
        "a",
        naming_start + timedelta(days=5),
        "I had not seen how much Mei had been carrying on her own.",
        False,
    )
    check_in(
        naming,
        "b",
        naming_start + timedelta(days=4),
        "Saying it out loud together made it feel less like my fault.",
        True,
    )
    close_assignment(naming, therapist, today - timedelta(weeks=5))

    # The daily check-in, over the past two weeks.
    start = today - timedelta(days=13)
    daily = give(
        "daily_check_in",
        AssignmentDetails("both", start, today + timedelta(days=1), "daily", None, None),
    )
    reflections = {
        "a": {3: ("Hard to find the ten minutes, but it was nice when we did.", False)},
        "b": {
            4: ("I felt listened to for the first time in a while.", False),
            8: ("We skipped the phones tonight. It helped.", True),
        },
    }
    every = {"a": 3, "b": 2}  # Daniel checks in every third day, Mei every second
    for role, step in every.items():
        for offset in range(0, 13, step):
            reflection, shared = reflections[role].get(offset, (None, False))
            check_in(daily, role, start + timedelta(days=offset), reflection, shared)

    # For Daniel alone, due three days ago, not done yet: overdue.
    refill_start = today - timedelta(weeks=5)
    refill = give(
        "three_things_that_refill_you",
        AssignmentDetails("a", refill_start, today - timedelta(days=3), "once", None, None),
    )
    return {
        "naming_the_distance_together": naming,
        "daily_check_in": daily,
        "three_things_that_refill_you": refill,
    }


# Each partner's rating of each session (heard, what matters, approach, overall; 0-10),
# by weeks ago: steady, except the video session three weeks ago, which Mei rated far
# below Daniel and below her session before: the demo's one split-alliance session.
RIVERA_RATINGS = {
    7: ((7, 7, 8, 7), (6, 6, 7, 6)),
    5: ((8, 8, 8, 8), (7, 7, 7, 8)),
    3: ((8, 9, 8, 9), (4, 4, 5, 4)),
    1: ((9, 8, 9, 9), (7, 8, 7, 8)),
}


def _rivera_ratings(therapist: Therapist, couple: Couple, today: date) -> None:
    import sqlalchemy as sa

    from .models import TherapySession
    from .ratings.operations import record_rating, send_rating_links
    from .ratings.queries import configured_measure, request_for_link

    measure = configured_measure()
    keys = [item.key for item in measure.items]
    if len(keys) != 4:  # a practice's own measure: the demo's answers do not fit it
        return
    for weeks_ago, by_role in RIVERA_RATINGS.items():
        held_on = today - timedelta(weeks=weeks_ago)
        therapy_session = db_session().scalar(
            sa.select(TherapySession).where(
                TherapySession.couple_id == couple.id, TherapySession.held_on == held_on
            )
        )
        if therapy_session is None:
            continue
        made = send_rating_links(therapy_session, therapist)
        for issued, values in zip(made, by_role, strict=True):
            link = issued.issued.link
            request = request_for_link(link)
            if request is None:
                continue
            rating, _ = record_rating(link, request, dict(zip(keys, values, strict=True)), measure)
            rating.rated_at = _at(held_on + timedelta(days=1), 19)
