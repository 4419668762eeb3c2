"""A practice of realistic size, for the scale benchmark: therapists with their caseloads.

    .venv/bin/python bench/generate_practice.py [--therapists N | --scale S]
        [--active-per-therapist A] [--closed-per-therapist C] [--db URL] [--seed S] [--verify]

``--scale`` sizes the practice against the issue's realistic one of ten therapists:
``--scale 0.1`` is one therapist (a tenth of the data), ``--scale 5`` fifty.

Each therapist has ``A`` active couples (40 by default) and ``C`` closed ones (their
history, 30 by default), two partners each. Every couple has:

- both partners' intakes, submitted through their own intake links, page by page, with
  plausible answers (a level per kind of concern, a few concerns felt more strongly,
  measure answers at a level of distress; now and then a safety answer or PHQ-9 item 9);
- 12 therapy sessions, weekly or fortnightly, some by video, now and then one partner
  alone; a DAP or SOAP note on each (signed, except an active case's latest, left as a
  draft or not yet written), an addendum on a few signed notes;
- the measures (CSI-16, PHQ-9, GAD-7) given again at the sixth and twelfth sessions;
- an exercise from the homework library every other session, with the partners'
  check-ins through their homework links (some with a reflection), closed by the
  therapist once past due;
- a therapist's views of the case, its intake and its notes, as the audit log records;
- closed cases closed after their last session (retention date set by the product).

How it is written. Everything goes through the product's own operations, the ones a
therapist's clicks and a partner's forms call: ``create_therapist``, ``open_case`` and
``update_case``, ``issue_link``, ``response_for_link``, ``save_page`` and
``submit_intake``, ``assign``, ``record_check_in`` and ``close_assignment``,
``create_session``, ``save_note``, ``sign_note`` and ``add_addendum``, and
``record_event`` for the therapist's views. So free text is encrypted as the product
encrypts it, and every audit line is chained to the one before it by the product's own
code (``flask clinic audit-verify`` passes on the result; ``--verify`` checks it here).
Commits are batched, one per couple, instead of one per request.

Where it is not as a click would make it, and why:

- homework check-ins, the largest table, are bulk-inserted: rows built by the product's
  own ``HomeworkCheckIn`` class (so reflections are encrypted by it) with the values
  ``record_check_in`` gives a new check-in, and their audit lines built as
  ``record_event`` builds them and chained with the product's ``chain_line``
  (:class:`AuditBatch`). One by one through ``record_check_in`` (a look-up, a savepoint,
  and the end of the audit chain read for each) they took a quarter of the generation
  time; the rows stored are the same;
- the measures given again over treatment are scored with the product's scoring and
  stored as the intake stores them (there is no screen for that yet; as in
  ``bench/scenario.py``);
- signing does not render and store the session report PDF (the view does that after
  the operation; a PDF for every note would take hours, and the product renders one on
  first download when none is stored);
- on PostgreSQL the tables are analysed at the end, as autovacuum would soon do, so the
  planner has statistics when the benchmark starts; SQLite is left as the product
  leaves it (it never runs ANALYZE).

Randomness comes from a generator seeded per therapist and per couple, so a therapist's
caseload is the same whatever the size of the practice around it: the first therapist of
a 1-therapist database and of a 10-therapist one have the same couples with the same
history (only ids and timestamps of writing differ). The scale benchmark relies on that.

Importable: :func:`generate_practice` fills the database of an app; :func:`build_practice`
migrates a database at a URL, builds the app and fills it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from reconnect_clinic import migrate

BASE_THERAPISTS = 10  # the practice the issue calls realistic: --scale 1
PASSWORD = "bench-practice-password-2026"  # noqa: S105 - a throwaway benchmark database
SESSIONS_PER_COUPLE = 12
DEFAULT_ACTIVE = 40
DEFAULT_CLOSED = 30
DEFAULT_SEED = 2026


def _words(text: str) -> tuple[str, ...]:
    # Word lists are kept as text: a list literal would take a line a name.
    return tuple(text.split())


FIRST_NAMES = _words(
    "Daniel Mei Tolu Chris Amara Jonas Priya Sam Lena Marcus Ines Tom Aisha Ravi Clara Jamal "
    "Nora Felix Yusuf Hannah Omar Sofia Leo Grace Mateo Zoe Kwame Elif Ben Ana Noah Farah "
    "Ivan Maya Luca Rosa Dev Julia Theo Nia Arjun Eva Kai Lucy Tariq Ruth Emil Hana"
)
LAST_NAMES = _words(
    "Rivera Chen Adeyemi Okafor Novak Lindqvist Haddad Kowalski Moreau Tanaka Osei Fischer "
    "Murphy Silva Khan Petrov Nakamura Byrne Costa Mensah Larsen Dubois Yilmaz Walsh Romero "
    "Sato Ahmed Jensen Kaur Brennan Alvarez Nowak Hughes Ferreira Iqbal Ward Bianchi Park"
)
PRONOUNS = ("she/her", "he/him", "they/them", None)

REASONS = (
    "We mostly talk about logistics now, and I miss talking about anything else.",
    "I feel alone even when we are in the same room.",
    "We argue about small things and never about what actually matters.",
    "Since the baby arrived we have become flatmates who share a schedule.",
    "Work takes everything I have and there is nothing left at the end of the day.",
    "I want to understand why I shut down when things get difficult.",
    "We have drifted apart over the years and neither of us noticed in time.",
)
HOPES = (
    "To feel that my partner is interested in my day and how I am.",
    "To have proper time together again, without phones.",
    "To be able to disagree without it turning into silence for days.",
    "To feel close again, physically and otherwise.",
    "To learn to ask for what I need instead of waiting to be noticed.",
)
REFLECTIONS = (
    "Hard to find the ten minutes, but it was nice when we did.",
    "I felt listened to for the first time in a while.",
    "We skipped the phones tonight. It helped.",
    "It felt awkward at first and then easier than I expected.",
    "We did it in the car on the way home, which was not ideal but still good.",
    "I noticed I wanted to fix things instead of listening. Trying to catch that.",
    "Missed two days because of the late shifts.",
)
DATA_SENTENCES = (
    "{a} and {b} arrived together and sat at either end of the sofa.",
    "{b} said the check-in had been the first time in months that {a} seemed curious "
    "about her day.",
    "{a} spoke about the pressure at work and about coming home with nothing left to give.",
    "Both described a weekend planned together that turned into separate chores.",
    "{b} listened without interrupting and then said she would rather hear about a hard "
    "day than be protected from it.",
    "They disagreed about how often the exercise had actually happened.",
    "{a} became visibly moved when {b} described feeling unseen at family events.",
    "The session focused on a recent argument about holiday plans.",
)
ASSESSMENT_SENTENCES = (
    "The pattern described at intake continues: a slow drift into parallel lives.",
    "Bids for attention go unnoticed rather than refused; neither partner shows contempt.",
    "The exercise is working where it happens; the obstacle is timing, not willingness.",
    "{a}'s habit of emotional self-sufficiency is experienced by {b} as being shut out.",
    "Both are more able to name feelings in the room than at intake.",
    "Measures are broadly stable, with a small improvement in relationship satisfaction.",
)
PLAN_SENTENCES = (
    "Continue the daily check-in, moved to the early evening, phones in another room.",
    "Next session: review the exercise and explore where {a} learned to manage alone.",
    "Help {b} turn general wishes into specific requests.",
    "Re-administer the CSI-16 in three weeks.",
    "Consider an individual session with each partner before the next joint session.",
)
ADDENDA = (
    "{b} emailed the day after the session to say the early-evening check-in worked on two "
    "days out of three. Added at her request; no change to the plan.",
    "Correction: the session was 60 minutes, not 50; the extra time was spent on the plan.",
    "{a} telephoned to cancel the next session and rebooked for the following week.",
)


@dataclass
class PracticeSummary:
    """What :func:`generate_practice` made: counts, time, and the cases to measure."""

    therapists: int
    couples: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    # The first therapist and their first active couple, the same in every tier.
    featured_email: str = ""
    featured_couple_id: uuid.UUID | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def therapist_email(index: int) -> str:
    """The login of the ``index``-th therapist (0-based) of a generated practice."""
    return f"therapist{index + 1:03d}@practice.example"


def _rng(seed: int, *parts: object) -> random.Random:
    # A string seed is hashed deterministically (unlike hash() of a tuple).
    return random.Random("-".join(map(str, (seed, *parts))))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, clock(hour, 0), tzinfo=UTC)


def _sentences(rng: random.Random, bank: Sequence[str], count: int, a: str, b: str) -> str:
    return " ".join(s.format(a=a, b=b) for s in rng.sample(list(bank), count))


def _intake_answers(
    rng: random.Random, taxonomy: Any, *, distress: float, name: str, safety_concern: bool
) -> dict[str, dict[str, str]]:
    """Plausible answers to every intake page: a frequency per kind of concern, a few
    concerns felt more strongly, measures at the level of ``distress`` (0 to 1)."""
    from reconnect_clinic.intake.content import SAFETY_DISCUSS, SAFETY_QUESTIONS, pages_for

    concern_of = {item.id: concern for concern in taxonomy.concerns for item in concern.items}
    level_of_kind = {"sign": rng.randint(1, 3), "cause": rng.randint(1, 3)}
    stronger = {c.slug: rng.randint(3, 4) for c in rng.sample(list(taxonomy.concerns), 3)}
    answers: dict[str, dict[str, str]] = {}
    for page in pages_for(taxonomy):
        values: dict[str, str] = {}
        for question in page.questions:
            if question.item_id in concern_of:
                concern = concern_of[question.item_id]
                level = stronger.get(concern.slug, level_of_kind[concern.kind])
                level = max(0, min(4, level + rng.choice((-1, 0, 0, 1))))
                item = taxonomy.item(question.item_id)
                values[question.name] = str(4 - level if item.reverse else level)
            elif question.kind == "radio" and page.slug == "relationship":
                # CSI-16: higher is more satisfied, so distress runs the other way.
                ordered = sorted(question.choices, key=lambda choice: int(choice[0]))
                spot = (1 - distress) * (len(ordered) - 1) + rng.uniform(-0.8, 0.8)
                values[question.name] = ordered[max(0, min(len(ordered) - 1, round(spot)))][0]
            elif question.kind == "radio" and page.slug == "wellbeing":
                ordered = sorted(question.choices, key=lambda choice: int(choice[0]))
                spot = distress * (len(ordered) - 1) + rng.uniform(-0.8, 0.8)
                values[question.name] = ordered[max(0, min(len(ordered) - 1, round(spot)))][0]
            elif question.name in SAFETY_QUESTIONS:
                values[question.name] = "no"
            elif question.kind == "radio":
                values[question.name] = rng.choice(question.choices)[0]
            elif question.kind == "checkbox":
                values[question.name] = "y"
            else:
                values[question.name] = ""
        answers[page.slug] = values
    answers["about"]["reasons"] = rng.choice(REASONS)
    answers["about"]["hopes"] = rng.choice(HOPES)
    # PHQ-9 item 9 (thoughts of self-harm) is answered above zero by a few of the most
    # distressed only.
    if distress < 0.7 or rng.random() < 0.7:
        answers["wellbeing"]["phq9_9"] = "0"
    if safety_concern:
        answers["safety"][rng.choice(SAFETY_QUESTIONS)] = SAFETY_DISCUSS
        answers["safety"]["safety_note"] = "There are things I can only say in person."
    answers["consent"]["signature"] = name
    return answers


def _measures_again(partner: Any, distress: float, day: date, rng: random.Random) -> None:
    """The three measures given again, answered at ``distress``, scored by the product."""
    from reconnect_clinic.measures import get as instrument
    from reconnect_clinic.measures.scoring import score
    from reconnect_clinic.models import MeasureResult
    from reconnect_clinic.state import db_session

    for slug in ("csi16", "phq9", "gad7"):
        spec = instrument(slug)
        level = 1 - distress if slug == "csi16" else distress
        answers = []
        for item in spec.items:
            low, high = min(item.points), max(item.points)
            spot = level * (high - low) + rng.uniform(-0.8, 0.8)
            answers.append(max(low, min(high, low + round(spot))))
        if slug == "phq9":
            answers[-1] = 0
        scored = score(slug, answers)
        db_session().add(
            MeasureResult.from_score(
                scored, partner_id=partner.id, item_points=answers, administered_at=_at(day, 9)
            )
        )


class _Practice:
    """Writes one practice through the product's operations (inside an app context)."""

    def __init__(self, app: Flask, *, seed: int, today: date) -> None:
        from reconnect_clinic.homework import library
        from reconnect_clinic.state import get_state

        self.app = app
        self.seed = seed
        self.today = today
        self.taxonomy = get_state().taxonomy
        self.library = library.load()
        self.exercises = sorted(self.library.exercises, key=lambda e: e.slug)
        self.step_slugs = [s.slug for s in self.taxonomy.steps]

    def therapist(self, index: int) -> Any:
        from reconnect_clinic.security.accounts.therapists import create_therapist

        rng = _rng(self.seed, "therapist", index)
        title = rng.choice(("Dr.", "", ""))
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        return create_therapist(
            email=therapist_email(index),
            display_name=f"{title} {name}".strip(),
            password=PASSWORD,
        )

    def couple(self, therapist: Any, therapist_index: int, number: int, *, closed: bool) -> Any:
        from reconnect_clinic.cases.operations import CaseDetails, PartnerDetails, open_case

        rng = _rng(self.seed, "couple", therapist_index, number)
        # Opened, intakes a few days later, then sessions weekly or now and then
        # fortnightly. A closed case ran its course a while ago; an active one had its
        # latest session this past week (its note perhaps not yet signed).
        gaps = [rng.randint(1, 6), rng.randint(2, 7)]
        gaps += [rng.choice((7, 7, 7, 14)) for _ in range(SESSIONS_PER_COUPLE - 1)]
        if closed:
            opened = self.today - timedelta(days=rng.randint(330, 4 * 365))
        else:
            opened = self.today - timedelta(days=rng.randint(0, 6) + sum(gaps))
        intake_day = opened + timedelta(days=gaps[0])
        days = [intake_day + timedelta(days=gaps[1])]
        for gap in gaps[2:]:
            days.append(days[-1] + timedelta(days=gap))
        people = []
        for _ in range(2):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}.{therapist_index}.{number}@clients.example".lower()
            people.append(
                PartnerDetails(
                    first, last, email if rng.random() < 0.9 else None, rng.choice(PRONOUNS)
                )
            )
        a, b = people
        label = a.last_name if a.last_name == b.last_name else f"{a.last_name}–{b.last_name}"
        couple = open_case(
            therapist,
            CaseDetails(
                label=f"{label} ({therapist_index + 1}.{number + 1})",
                status="active",
                opened_on=opened,
                partner_a=a,
                partner_b=b,
            ),
            today=opened,
        )
        self._history(therapist, couple, intake_day, days, rng, closed=closed)
        return couple

    def _history(
        self,
        therapist: Any,
        couple: Any,
        intake_day: date,
        days: list[date],
        rng: random.Random,
        *,
        closed: bool,
    ) -> None:
        from reconnect_clinic.cases.operations import CaseDetails, PartnerDetails, update_case
        from reconnect_clinic.homework.operations import close_assignment
        from reconnect_clinic.security.audit.log import record_event

        distress = {"a": rng.uniform(0.25, 0.75), "b": rng.uniform(0.25, 0.75)}
        # The share of planned check-ins each partner makes.
        keeps = {"a": rng.uniform(0.35, 0.85), "b": rng.uniform(0.35, 0.85)}
        checked: dict[tuple[uuid.UUID, str], set[date]] = {}
        for partner in couple.partners:
            self._intake(therapist, partner, intake_day, distress[partner.role], rng)
        homework_links = {
            p.role: self._homework_link(therapist, p, intake_day) for p in couple.partners
        }
        assignments: list[Any] = []
        for number, day in enumerate(days, start=1):
            reviewed = [a for a in assignments if a.closed_on is None]
            given = []
            if number % 2 == 1:
                given.append(self._assign(therapist, couple, day, rng))
            last = number == len(days)
            note_state = "signed"
            if last and not closed:
                note_state = rng.choice(("draft", "none", "signed"))
            self._session(therapist, couple, day, number, reviewed, given, note_state, rng)
            for assignment in reviewed:
                self._check_ins(assignment, couple, homework_links, day, keeps, checked, rng)
                if assignment.due_on < day:
                    close_assignment(assignment, therapist, day)
            assignments.extend(given)
            if number in (6, 12):
                for partner in couple.partners:
                    distress[partner.role] = max(
                        0.05, distress[partner.role] - rng.uniform(0, 0.15)
                    )
                    _measures_again(partner, distress[partner.role], day, rng)
        closing_day = days[-1] + timedelta(days=14)
        for assignment in assignments:
            if assignment.closed_on is None:
                until = closing_day if closed else self.today
                self._check_ins(assignment, couple, homework_links, until, keeps, checked, rng)
                if closed:
                    close_assignment(assignment, therapist, closing_day)
        record_event("couple.view", actor=therapist, record=couple, couple_id=couple.id)
        if closed:
            details = CaseDetails(
                label=couple.label,
                status="closed",
                opened_on=couple.opened_on,
                partner_a=PartnerDetails(**_partner_fields(couple.partner_a)),
                partner_b=PartnerDetails(**_partner_fields(couple.partner_b)),
            )
            update_case(couple, therapist, details, today=closing_day)

    def _intake(
        self, therapist: Any, partner: Any, day: date, distress: float, rng: random.Random
    ) -> None:
        from reconnect_clinic.intake.content import page_slugs
        from reconnect_clinic.intake.operations import response_for_link, save_page, submit_intake
        from reconnect_clinic.security.links.tokens import issue_link

        sent = _at(day - timedelta(days=1), 17)
        issued = issue_link(
            partner, "intake", created_by=therapist, lifetime=timedelta(days=14), now=sent
        )
        response = response_for_link(issued.link, self.taxonomy)
        answers = _intake_answers(
            rng,
            self.taxonomy,
            distress=distress,
            name=partner.full_name,
            safety_concern=rng.random() < 0.04,
        )
        slugs = page_slugs(self.taxonomy)
        started = _at(day, 19)
        for index, slug in enumerate(slugs):
            save_page(
                response,
                slug,
                answers[slug],
                complete=True,
                next_page=slugs[index + 1] if index + 1 < len(slugs) else slug,
                actor=issued.link,
                now=started + timedelta(minutes=3 * index),
            )
        submit_intake(
            response,
            issued.link,
            self.taxonomy,
            consent_name=partner.full_name,
            now=started + timedelta(minutes=3 * len(slugs)),
        )

    def _homework_link(self, therapist: Any, partner: Any, day: date) -> Any:
        from reconnect_clinic.security.links.tokens import issue_link

        return issue_link(
            partner,
            "homework",
            created_by=therapist,
            lifetime=timedelta(days=365),
            now=_at(day, 12),
        ).link

    def _assign(self, therapist: Any, couple: Any, day: date, rng: random.Random) -> Any:
        from reconnect_clinic.homework.operations import AssignmentDetails, assign, ruled_out_tags
        from reconnect_clinic.risk.queries import risks_by_role

        # As a therapist would: only exercises the couple's risks leave open.
        risks = risks_by_role(couple)
        ruled_out = ruled_out_tags(risks)
        exercise = rng.choice([e for e in self.exercises if not e.ruled_out_by(ruled_out)])
        assignee = "both" if exercise.mode == "together" else rng.choice(("a", "b", "both"))
        due = day + timedelta(days=rng.choice((7, 10, 14)))
        note = "Keep it short; ten minutes is enough." if rng.random() < 0.3 else None
        return assign(
            couple,
            therapist,
            exercise,
            AssignmentDetails(
                assignee,
                day,
                due,
                exercise.frequency,
                exercise.times_per_week if exercise.frequency == "weekly" else None,
                note,
            ),
            self.taxonomy,
            exercise_ref=f"library:{exercise.slug}",
            risks=risks,
        )

    def _check_ins(
        self,
        assignment: Any,
        couple: Any,
        links: dict[str, Any],
        until: date,
        keeps: dict[str, float],
        checked: dict[tuple[uuid.UUID, str], set[date]],
        rng: random.Random,
    ) -> None:
        """The partners' check-ins on the days planned, up to ``until``, each partner
        keeping to a share of them; not twice for the same day."""
        from reconnect_clinic.homework.schedule import scheduled_days
        from reconnect_clinic.models import HomeworkCheckIn
        from reconnect_clinic.state import db_session

        planned = scheduled_days(
            assignment.frequency,
            assignment.times_per_week,
            assignment.starts_on,
            assignment.due_on,
        )
        audit = AuditBatch()
        for partner in couple.partners:
            if not assignment.is_for(partner.role):
                continue
            # Days already gone through for this partner (the assignment is looked at
            # again at each session until it is closed).
            done = checked.setdefault((assignment.id, partner.role), set())
            for day in planned:
                if day > until or day > self.today or day in done:
                    continue
                done.add(day)
                if rng.random() > keeps[partner.role]:
                    continue
                reflection = rng.choice(REFLECTIONS) if rng.random() < 0.2 else None
                # The row and the audit line ``record_check_in`` writes for a new
                # check-in, built the same way but inserted together (see the docstring).
                check_in = HomeworkCheckIn(
                    assignment_id=assignment.id,
                    partner_id=partner.id,
                    client_key=f"{partner.role}-{day.isoformat()}-{rng.getrandbits(40):x}",
                    checked_in_on=day,
                    completion=rng.choice(("done", "done", "done", "partly", "not_done")),
                    helpfulness=rng.randint(2, 5),
                    reflection=reflection,
                    share_with_partner=reflection is not None and rng.random() < 0.5,
                    late=assignment.closed_on is not None,
                )
                db_session().add(check_in)
                audit.add(
                    "homework.check_in",
                    actor=links[partner.role],
                    record=check_in,
                    couple_id=assignment.couple_id,
                )
        audit.write()

    def _session(
        self,
        therapist: Any,
        couple: Any,
        day: date,
        number: int,
        reviewed: list[Any],
        assigned: list[Any],
        note_state: str,
        rng: random.Random,
    ) -> None:
        from reconnect_clinic.notes.operations import (
            SessionDetails,
            add_addendum,
            create_session,
            save_note,
            sign_note,
        )
        from reconnect_clinic.security.audit.log import record_event

        attendance = "both" if rng.random() < 0.9 else rng.choice(("a", "b"))
        therapy_session = create_session(
            couple,
            therapist,
            SessionDetails(
                held_on=day,
                duration_minutes=rng.choice((50, 50, 50, 60, 80)),
                format="video" if rng.random() < 0.25 else "in_person",
                attendance=attendance,
            ),
        )
        record_event("couple.view", actor=therapist, record=couple, couple_id=couple.id)
        if note_state == "none":
            return
        a, b = couple.partner_a.first_name, couple.partner_b.first_name
        template = "soap" if rng.random() < 0.2 else "dap"
        if template == "dap":
            sections = {
                "data": _sentences(rng, DATA_SENTENCES, 3, a, b),
                "assessment": _sentences(rng, ASSESSMENT_SENTENCES, 2, a, b),
                "plan": _sentences(rng, PLAN_SENTENCES, 2, a, b),
            }
        else:
            sections = {
                "subjective": _sentences(rng, DATA_SENTENCES, 2, a, b),
                "objective": "Both attended on time. " + _sentences(rng, DATA_SENTENCES, 1, a, b),
                "assessment": _sentences(rng, ASSESSMENT_SENTENCES, 2, a, b),
                "plan": _sentences(rng, PLAN_SENTENCES, 2, a, b),
            }
        risk = "none" if rng.random() < 0.93 else "low"
        note = save_note(
            therapy_session,
            therapist,
            template=template,
            content={
                "sections": sections,
                "interventions": rng.sample(self.step_slugs, rng.randint(1, 3)),
                "homework_reviewed": [str(x.id) for x in reviewed],
                "homework_assigned": [str(x.id) for x in assigned],
                "risk": {
                    "level": risk,
                    "notes": "" if risk == "none" else "Asked about safety; both said no.",
                },
            },
            based_on_version=None,
        )
        if note_state != "signed":
            return
        sign_note(note, therapist, based_on_version=note.version)
        if rng.random() < 0.06:
            add_addendum(note, therapist, rng.choice(ADDENDA).format(a=a, b=b))
        if number == 1 or rng.random() < 0.3:
            record_event("note.view", actor=therapist, record=note, couple_id=couple.id)


class AuditBatch:
    """Audit lines exactly as ``record_event`` writes them (the product's ``chain_line``,
    MACed with the app's audit key), chained in memory and inserted in one flush.

    ``record_event`` reads the end of the chain and inserts, for every line; here that
    is done once per batch. :meth:`write` must run before the next operation records an
    event, so the chain stays one line after another.
    """

    def __init__(self) -> None:
        self.events: list[Any] = []

    def add(self, action: str, *, actor: Any, record: Any, couple_id: uuid.UUID) -> None:
        from reconnect_clinic.models import AuditEvent, utcnow
        from reconnect_clinic.security.audit.log import actor_fields

        actor_kind, actor_id = actor_fields(actor)
        self.events.append(
            AuditEvent(
                occurred_at=utcnow(),
                action=action,
                actor_kind=actor_kind,
                actor_id=actor_id,
                record_type=type(record).__name__,
                record_id=str(record.id),
                couple_id=couple_id,
                remote_addr=None,
                detail=None,
            )
        )

    def write(self) -> None:
        from reconnect_clinic.models import AuditEvent
        from reconnect_clinic.security.audit.log import GENESIS, audit_keys, chain_line
        from reconnect_clinic.state import db_session

        session = db_session()
        session.flush()  # the records first, as each operation flushes before its event
        if not self.events:
            return
        previous = (
            session.scalar(sa.select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
            or GENESIS
        )
        keys = audit_keys()
        for event in self.events:
            chain_line(event, previous, keys)
            previous = event.row_hash
        # Added one by one in chain order: the ORM inserts them in that order, so the
        # growing ids follow the chain.
        session.add_all(self.events)
        session.flush()
        self.events = []


def _partner_fields(partner: Any) -> dict[str, Any]:
    return {
        "first_name": partner.first_name,
        "last_name": partner.last_name,
        "email": partner.email,
        "pronouns": partner.pronouns,
    }


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every clinic table, by table name."""
    from reconnect_clinic.models import metadata
    from reconnect_clinic.state import db_session

    with app.app_context():
        session = db_session()
        counts = {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in metadata.sorted_tables
        }
        session.rollback()
    return counts


def generate_practice(
    app: Flask,
    *,
    therapists: int = BASE_THERAPISTS,
    active_per_therapist: int = DEFAULT_ACTIVE,
    closed_per_therapist: int = DEFAULT_CLOSED,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> PracticeSummary:
    """Fill the (migrated, empty) database of ``app`` with a practice; one commit per
    couple. Returns the counts and the first therapist's first active couple."""
    from reconnect_clinic.state import db_session

    today = today or date.today()  # noqa: DTZ011 - the practice's own day
    started = time.perf_counter()
    featured: uuid.UUID | None = None
    couples = 0
    with app.app_context():
        practice = _Practice(app, seed=seed, today=today)
        session = db_session()
        for index in range(therapists):
            therapist = practice.therapist(index)
            session.commit()
            for number in range(active_per_therapist + closed_per_therapist):
                couple = practice.couple(
                    therapist, index, number, closed=number >= active_per_therapist
                )
                if featured is None:
                    featured = couple.id
                session.commit()
                couples += 1
            if progress is not None:
                progress(
                    f"  therapist {index + 1}/{therapists}: {couples} couples, "
                    f"{time.perf_counter() - started:.0f} s"
                )
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("ANALYZE"))
            session.commit()
    seconds = time.perf_counter() - started
    return PracticeSummary(
        therapists=therapists,
        couples=couples,
        seconds=seconds,
        rows=row_counts(app),
        featured_email=therapist_email(0),
        featured_couple_id=featured,
    )


def make_app(url: str, instance_path: str) -> Flask:
    """The standalone app on ``url``, as the benchmarks configure it."""
    from reconnect_clinic.demo import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "RECONNECT_CLINIC_PRACTICE_NAME": "Harbour Street Counselling",
            "RECONNECT_CLINIC_PRACTICE_ADDRESS": "12 Harbour Street, Bristol BS1 4RN",
        },
        instance_path=instance_path,
    )


def build_practice(url: str, instance_path: str, **options: Any) -> tuple[Flask, PracticeSummary]:
    """Migrate the empty database at ``url``, build the app on it and fill it."""
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    app = make_app(url, instance_path)
    return app, generate_practice(app, **options)


def print_summary(summary: PracticeSummary, label: str = "") -> None:
    title = f"Practice{f' ({label})' if label else ''}"
    print(
        f"{title}: {summary.therapists} therapists, {summary.couples} couples, "
        f"{summary.total_rows:,} rows in {summary.seconds:.1f} s "
        f"({summary.total_rows / max(summary.seconds, 1e-9):,.0f} rows/s)"
    )
    width = max(len(name) for name in summary.rows)
    for name, count in sorted(summary.rows.items(), key=lambda item: -item[1]):
        print(f"  {name:<{width}} {count:>9,}")
    audit = summary.rows.get("clinic_audit_event", 0)
    print(f"  {'(without the audit log)':<{width}} {summary.total_rows - audit:>9,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--therapists", type=int, help="number of therapists")
    size.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help=f"practice size as a multiple of {BASE_THERAPISTS} therapists "
        "(0.1: one therapist, 5: fifty); default 1",
    )
    parser.add_argument("--active-per-therapist", type=int, default=DEFAULT_ACTIVE)
    parser.add_argument("--closed-per-therapist", type=int, default=DEFAULT_CLOSED)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--db",
        help="URL of an empty database (a SQLite file may not exist yet); it is migrated "
        "first and keeps the practice. Default: a SQLite file in a temporary folder, "
        "removed afterwards",
    )
    parser.add_argument(
        "--verify", action="store_true", help="check the audit chain afterwards (slow)"
    )
    args = parser.parse_args()
    therapists = (
        args.therapists if args.therapists is not None else round(BASE_THERAPISTS * args.scale)
    )
    if therapists < 1 or args.active_per_therapist < 1 or args.closed_per_therapist < 0:
        parser.error("at least one therapist with one active couple is needed")
    with tempfile.TemporaryDirectory(prefix="reconnect-practice-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'practice.sqlite'}"
        print(f"Generating {therapists} therapists into {sa.make_url(url).render_as_string()}")
        app, summary = build_practice(
            url,
            str(Path(tmp) / "instance"),
            therapists=therapists,
            active_per_therapist=args.active_per_therapist,
            closed_per_therapist=args.closed_per_therapist,
            seed=args.seed,
            progress=print,
        )
        print_summary(summary)
        with app.app_context():
            from reconnect_clinic.demo import db
            from reconnect_clinic.security.audit.log import verify_chain

            if args.verify:
                checked, breaks = verify_chain()
                db.session.rollback()
                state = "intact" if not breaks else f"{len(breaks)} breaks, first {breaks[0]}"
                print(f"Audit chain: {checked:,} lines checked, {state}")
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
