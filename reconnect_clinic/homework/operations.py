"""Homework operations. They flush; the view that calls them commits once."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..models import (
    Assignee,
    ClientLink,
    Couple,
    CustomExercise,
    Frequency,
    HomeworkAssignment,
    HomeworkCheckIn,
    Partner,
    SuggestionDecision,
    Therapist,
    utcnow,
)
from ..risk import PartnerRisk, contraindication_tags
from ..risk.queries import risks_by_role
from ..security.audit.log import record_event
from ..state import db_session
from ..taxonomy import Taxonomy
from .library import CONTRAINDICATION_LABELS, Exercise, Library, Mode
from .library import Frequency as ExerciseFrequency

LIBRARY_PREFIX, CUSTOM_PREFIX = "library:", "custom:"


class HomeworkError(ValueError):
    """An assignment or check-in that cannot be made as asked; ``field`` names the form
    field the message belongs beside, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def custom_exercises(therapist: Therapist) -> list[CustomExercise]:
    """The therapist's own exercises by title (sorted here: titles are sealed)."""
    rows = db_session().scalars(
        sa.select(CustomExercise).where(
            CustomExercise.therapist_id == therapist.id, CustomExercise.deleted_at.is_(None)
        )
    )
    return sorted(rows, key=lambda exercise: (exercise.title.casefold(), str(exercise.id)))


def custom_contraindications(custom: CustomExercise, library: Library) -> tuple[str, ...]:
    """A therapist's own exercise keeps the contraindications of the library exercise it
    was copied from (an edit may soften the wording, not the risk), and joint work is
    never given during abuse without an override, as in the library."""
    tags: set[str] = set()
    if custom.based_on:
        with contextlib.suppress(KeyError):  # copied from an exercise since retired
            tags.update(library.get(custom.based_on).contraindications)
    if custom.mode == "together":
        tags.add("ipv")
    return tuple(sorted(tags))


def custom_as_exercise(custom: CustomExercise, library: Library) -> Exercise:
    return Exercise(
        slug=f"custom-{custom.id}",
        step=custom.step,
        title=custom.title,
        purpose=custom.purpose,
        # The table's CHECK constraints keep both to the library's values.
        mode=cast(Mode, custom.mode),
        frequency=cast(ExerciseFrequency, custom.frequency),
        times_per_week=custom.times_per_week,
        duration_minutes=custom.duration_minutes,
        instructions=tuple(custom.instructions),
        reflection_prompts=tuple(custom.reflection_prompts),
        therapist_note=custom.therapist_note,
        library_version=library.version,
        contraindications=custom_contraindications(custom, library),
    )


def resolve_exercise(ref: str, therapist: Therapist, library: Library) -> Exercise:
    """The exercise named by a form value ("library:<slug>" or "custom:<id>"); a custom
    exercise must be the therapist's own."""
    if ref.startswith(LIBRARY_PREFIX):
        try:
            return library.get(ref.removeprefix(LIBRARY_PREFIX))
        except KeyError:
            pass
    elif ref.startswith(CUSTOM_PREFIX):
        try:
            custom_id = uuid.UUID(ref.removeprefix(CUSTOM_PREFIX))
        except ValueError:
            custom_id = None
        custom = db_session().get(CustomExercise, custom_id) if custom_id else None
        if custom is not None and custom.therapist_id == therapist.id and not custom.deleted_at:
            return custom_as_exercise(custom, library)
    raise HomeworkError(
        "That exercise does not exist. Please choose one from the list.", "exercise"
    )


@dataclass(frozen=True)
class AssignmentDetails:
    assignee: str
    starts_on: date
    due_on: date
    frequency: str
    times_per_week: int | None
    note: str | None


def check_details(details: AssignmentDetails, exercise: Exercise) -> None:
    """The rules a form cannot see alone. Raises HomeworkError naming the field."""
    if details.assignee not in set(Assignee):
        raise HomeworkError("Please choose who this is for.", "assignee")
    if details.due_on < details.starts_on:
        raise HomeworkError("The due date cannot be before the start date.", "due_on")
    if details.frequency not in set(Frequency):
        raise HomeworkError("Please choose how often.", "frequency")
    if details.frequency == Frequency.WEEKLY:
        if details.times_per_week is None or not 1 <= details.times_per_week <= 7:
            raise HomeworkError("Please say how many times a week (1 to 7).", "times_per_week")
    elif details.times_per_week is not None:
        raise HomeworkError("Leave this empty unless the exercise is weekly.", "times_per_week")
    if exercise.mode == "together" and details.assignee != Assignee.BOTH:
        raise HomeworkError(
            "This exercise is done together, so it is for both partners.", "assignee"
        )


def ruled_out_tags(risks: Mapping[str, Iterable[PartnerRisk]]) -> frozenset[str]:
    """The contraindication tags both partners' risks rule out for the couple's homework."""
    return contraindication_tags(risk for partner in risks.values() for risk in partner)


def describe_tags(tags: Iterable[str]) -> str:
    """The tags in words for the therapist, e.g. "thoughts of self-harm"."""
    return " and ".join(CONTRAINDICATION_LABELS[tag] for tag in sorted(tags))


def check_contraindications(
    exercise: Exercise, ruled_out: frozenset[str], override_reason: str | None
) -> frozenset[str]:
    """The tags this assignment overrides (empty when nothing is in the way).

    An exercise a couple's risks rule out is refused unless the therapist wrote why they
    give it anyway. Raises HomeworkError beside the exercise field.
    """
    conflict = exercise.ruled_out_by(ruled_out)
    if conflict and not (override_reason or "").strip():
        raise HomeworkError(
            f"On hold for this couple while there is {describe_tags(conflict)}. Choose "
            "another exercise, or write below why you are giving this one anyway.",
            "exercise",
        )
    return conflict


def assign(
    couple: Couple,
    therapist: Therapist,
    exercise: Exercise,
    details: AssignmentDetails,
    taxonomy: Taxonomy,
    *,
    suggestion_reason: str | None = None,
    exercise_ref: str | None = None,
    override_reason: str | None = None,
    risks: Mapping[str, Iterable[PartnerRisk]] | None = None,
) -> HomeworkAssignment:
    """Give ``exercise`` to the couple. The couple's risks are read here unless passed,
    so no caller can skip the contraindications; ``override_reason`` (the therapist's
    written reason) lets a contraindicated exercise through, sealed and audited."""
    check_details(details, exercise)
    overridden = check_contraindications(
        exercise, ruled_out_tags(risks_by_role(couple) if risks is None else risks), override_reason
    )
    assignment = HomeworkAssignment(
        couple_id=couple.id,
        assigned_by_id=therapist.id,
        healing_step=exercise.step,
        taxonomy_version=taxonomy.version,
        exercise_ref=exercise_ref,
        title=exercise.title,
        content=exercise.as_snapshot(),
        assignee=details.assignee,
        starts_on=details.starts_on,
        due_on=details.due_on,
        frequency=details.frequency,
        times_per_week=details.times_per_week,
        therapist_note=details.note or None,
        suggestion_reason=suggestion_reason,
    )
    if overridden:
        assignment.contraindication_override = {
            "tags": sorted(overridden),
            "reason": (override_reason or "").strip(),
        }
    session = db_session()
    session.add(assignment)
    session.flush()
    if suggestion_reason:
        decide_suggestion(couple, therapist, exercise.step, "accepted")
    record_event("homework.assign", actor=therapist, record=assignment, couple_id=couple.id)
    if overridden:
        # Which exercise, for the practice's review. Neither the reason (clinical text)
        # nor the tags overridden: the audit log is readable without the data keys, and
        # a tag such as "self_harm" would say what a partner disclosed. Both stay sealed
        # with the assignment.
        record_event(
            "homework.override",
            actor=therapist,
            record=assignment,
            couple_id=couple.id,
            detail={"exercise": exercise_ref or exercise.slug},
        )
    return assignment


def close_assignment(assignment: HomeworkAssignment, therapist: Therapist, today: date) -> None:
    if assignment.closed_on is None:
        assignment.closed_on = today
        db_session().flush()
        record_event(
            "homework.close", actor=therapist, record=assignment, couple_id=assignment.couple_id
        )


def decide_suggestion(couple: Couple, therapist: Therapist, step: str, decision: str) -> None:
    session = db_session()
    row = session.scalar(
        sa.select(SuggestionDecision).where(
            SuggestionDecision.couple_id == couple.id, SuggestionDecision.step == step
        )
    )
    if row is None:
        row = SuggestionDecision(couple_id=couple.id, step=step, decided_by_id=therapist.id)
        session.add(row)
    row.decision = decision
    row.decided_by_id = therapist.id
    row.decided_at = utcnow()
    session.flush()


@dataclass(frozen=True)
class CheckInDetails:
    client_key: str
    completion: str
    helpfulness: int | None
    reflection: str | None
    share_with_partner: bool


def record_check_in(
    assignment: HomeworkAssignment,
    partner: Partner,
    details: CheckInDetails,
    *,
    today: date,
    actor: Therapist | ClientLink | None,
) -> tuple[HomeworkCheckIn, bool]:
    """Store one check-in; the same form sent twice stores it once.

    Returns the check-in and whether it was new. A check-in on a closed assignment is
    kept (marked late, not counted), so what the partner wrote is never lost.
    """
    if not assignment.is_for(partner.role) or assignment.couple_id != partner.couple_id:
        raise HomeworkError("This exercise is not yours.")
    session = db_session()
    query = sa.select(HomeworkCheckIn).where(
        HomeworkCheckIn.assignment_id == assignment.id,
        HomeworkCheckIn.partner_id == partner.id,
        HomeworkCheckIn.client_key == details.client_key,
    )
    existing = session.scalar(query)
    if existing is not None:
        return existing, False
    check_in = HomeworkCheckIn(
        assignment_id=assignment.id,
        partner_id=partner.id,
        client_key=details.client_key,
        checked_in_on=today,
        completion=details.completion,
        helpfulness=details.helpfulness,
        reflection=details.reflection or None,
        share_with_partner=details.share_with_partner and bool(details.reflection),
        late=assignment.closed_on is not None,
    )
    try:
        with session.begin_nested():
            session.add(check_in)
    except IntegrityError:
        return session.scalars(query).one(), False
    record_event(
        "homework.check_in",
        actor=actor,
        record=check_in,
        couple_id=assignment.couple_id,
    )
    return check_in, True


def save_custom_exercise(
    therapist: Therapist,
    fields: dict[str, object],
    existing: CustomExercise | None = None,
) -> CustomExercise:
    exercise = existing or CustomExercise(therapist_id=therapist.id)
    for name, value in fields.items():
        setattr(exercise, name, value)
    session = db_session()
    session.add(exercise)
    session.flush()
    return exercise
