"""Homework routes for the therapist: the library, assignments and adherence. Each
partner's homework page, through their own link, is in partner_views.py."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ..blueprint import RouteTable, signed_in_therapist, therapist_required, with_couple
from ..downloads import CSV, download, download_name
from ..models import (
    Couple,
    CustomExercise,
    HomeworkAssignment,
    Therapist,
    utcnow,
)
from ..risk.queries import risks_by_role
from ..security.access import visible_couples
from ..security.accounts.forms import PostOnlyForm
from ..security.audit.log import record_event
from ..state import db_session, get_state
from . import library as library_module
from .forms import NO_EXERCISE, AssignForm, ExerciseForm, lines, today
from .operations import (
    CUSTOM_PREFIX,
    LIBRARY_PREFIX,
    AssignmentDetails,
    HomeworkError,
    assign,
    close_assignment,
    custom_as_exercise,
    custom_exercises,
    decide_suggestion,
    describe_tags,
    resolve_exercise,
    ruled_out_tags,
    save_custom_exercise,
)
from .queries import assignment_or_404, couple_assignments
from .summary import CSV_HEADER, assignment_rows, csv_rows, spreadsheet_safe

routes = RouteTable()


def _library() -> library_module.Library:
    return library_module.load()


# How an option of the exercise select names what holds it back.
HOLD_WORDS = {"ipv": "safety", "self_harm": "self-harm", "active_affair": "affair"}


def exercise_choices(therapist: Therapist, ruled_out: frozenset[str]) -> list[SelectChoice]:
    """Options for the exercise select: none chosen first, then every exercise grouped by
    healing step in the taxonomy's order, those the couple's risks rule out marked."""
    taxonomy = get_state().taxonomy
    library = _library()
    mine = custom_exercises(therapist)

    def label(text: str, exercise: library_module.Exercise) -> str:
        held = exercise.ruled_out_by(ruled_out)
        if not held:
            return text
        return f"{text} · on hold: {', '.join(HOLD_WORDS[tag] for tag in sorted(held))}"

    choices = [NO_EXERCISE]
    for step in taxonomy.steps:
        choices += [
            SelectChoice(
                f"{LIBRARY_PREFIX}{e.slug}", label(f"{e.title} ({e.mode})", e), optgroup=step.title
            )
            for e in library.for_step(step.slug)
        ]
        choices += [
            SelectChoice(
                f"{CUSTOM_PREFIX}{c.id}",
                label(f"{c.title} (yours, {c.mode})", custom_as_exercise(c, library)),
                optgroup=step.title,
            )
            for c in mine
            if c.step == step.slug
        ]
    return choices


# --- therapist: assigning -------------------------------------------------------------


@routes.route("/couples/<uuid:couple_id>/homework/new", methods=["GET", "POST"])
@therapist_required
@with_couple
def homework_assign(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    library = _library()
    risks = risks_by_role(couple)
    ruled_out = ruled_out_tags(risks)
    form = AssignForm()
    form.exercise.choices = exercise_choices(therapist, ruled_out)
    reason = request.values.get("reason", "")[:1000] or None
    if request.method == "GET":
        start = today()
        form.starts_on.data = start
        form.due_on.data = start + timedelta(days=7)
        ref = request.args.get("exercise", "")
        if ref:
            form.exercise.data = ref
            try:
                exercise = resolve_exercise(ref, therapist, library)
            except HomeworkError:
                exercise = None
            if exercise is not None:
                form.frequency.data = exercise.frequency
                form.times_per_week.data = exercise.times_per_week or None
                if exercise.mode == "individual" and request.args.get("assignee") in ("a", "b"):
                    form.assignee.data = request.args["assignee"]
    elif form.validate_on_submit():
        try:
            exercise = resolve_exercise(form.exercise.data or "", therapist, library)
            assignment = assign(
                couple,
                therapist,
                exercise,
                AssignmentDetails(
                    assignee=form.assignee.data or "",
                    starts_on=form.starts_on.data,
                    due_on=form.due_on.data,
                    frequency=form.frequency.data or "",
                    times_per_week=form.times_per_week.data,
                    note=form.note.data or None,
                ),
                get_state().taxonomy,
                suggestion_reason=reason,
                exercise_ref=form.exercise.data,
                override_reason=form.override_reason.data or None,
                risks=risks,
            )
        except HomeworkError as error:
            db_session().rollback()
            target = form[error.field] if error.field else form.exercise
            target.errors = [*target.errors, str(error)]
        else:
            db_session().commit()
            flash(f"“{assignment.title}” assigned.", "success")
            return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="homework"))
    return render_template(
        "reconnect_clinic/homework_assign.html",
        couple=couple,
        form=form,
        reason=reason,
        hold=describe_tags(ruled_out) if ruled_out else None,
    )


@routes.route("/couples/<uuid:couple_id>/homework/suggestions/<step>/dismiss", methods=["POST"])
@therapist_required
@with_couple
def homework_dismiss(therapist: Therapist, couple: Couple, step: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        abort(400)
    try:
        get_state().taxonomy.step(step)
    except KeyError:
        abort(404)
    decide_suggestion(couple, therapist, step, "dismissed")
    db_session().commit()
    flash("Suggestion dismissed.", "success")
    return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="homework"))


@routes.route("/couples/<uuid:couple_id>/homework/<uuid:assignment_id>/close", methods=["POST"])
@therapist_required
@with_couple
def homework_close(
    therapist: Therapist, couple: Couple, assignment_id: uuid.UUID
) -> ResponseReturnValue:
    assignment = assignment_or_404(couple, assignment_id)
    if not PostOnlyForm().validate_on_submit():
        abort(400)
    close_assignment(assignment, therapist, today())
    db_session().commit()
    flash(f"“{assignment.title}” closed.", "success")
    return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="homework"))


def _csv_response(rows: list[list[str]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return download(buffer.getvalue().encode("utf-8"), filename, CSV)


def _step_titles() -> dict[str, str]:
    return {step.slug: step.title for step in get_state().taxonomy.steps}


@routes.route("/couples/<uuid:couple_id>/homework.csv")
@therapist_required
@with_couple
def homework_csv(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    rows = assignment_rows(couple_assignments(couple), couple.partners, today())
    filename = download_name(couple.label, today(), "homework adherence", "csv")
    record_event("homework.export", actor=therapist, record=couple, couple_id=couple.id)
    db_session().commit()
    return _csv_response(csv_rows(rows, couple.label, _step_titles()), filename)


def _caseload(therapist: Therapist) -> list[tuple[Couple, list[Any]]]:
    session = db_session()
    couples = session.scalars(
        visible_couples(therapist)
        .where(Couple.status != "closed")
        .options(selectinload(Couple.partners))
        .order_by(Couple.label)
    ).all()
    assignments = session.scalars(
        sa.select(HomeworkAssignment)
        .where(
            HomeworkAssignment.couple_id.in_([c.id for c in couples]),
            HomeworkAssignment.deleted_at.is_(None),
            HomeworkAssignment.closed_on.is_(None),
        )
        .options(selectinload(HomeworkAssignment.check_ins))
        .order_by(HomeworkAssignment.due_on)
    ).all()
    by_couple: dict[uuid.UUID, list[HomeworkAssignment]] = {}
    for assignment in assignments:
        by_couple.setdefault(assignment.couple_id, []).append(assignment)
    as_of = today()
    return [
        (couple, assignment_rows(by_couple[couple.id], couple.partners, as_of))
        for couple in couples
        if couple.id in by_couple
    ]


@routes.route("/homework")
@therapist_required
def homework_caseload() -> ResponseReturnValue:
    therapist = signed_in_therapist()
    caseload = _caseload(therapist)
    return render_template("reconnect_clinic/homework_caseload.html", caseload=caseload)


@routes.route("/homework.csv")
@therapist_required
def homework_caseload_csv() -> ResponseReturnValue:
    therapist = signed_in_therapist()
    rows: list[list[str]] = []
    for couple, assignment_list in _caseload(therapist):
        rows += csv_rows(assignment_list, couple.label, _step_titles())
        record_event("homework.export", actor=therapist, record=couple, couple_id=couple.id)
    db_session().commit()
    return _csv_response(rows, download_name("caseload", today(), "homework adherence", "csv"))


# --- therapist: exercises --------------------------------------------------------------


@routes.route("/exercises")
@therapist_required
def exercises() -> ResponseReturnValue:
    therapist = signed_in_therapist()
    return render_template(
        "reconnect_clinic/exercises.html",
        taxonomy=get_state().taxonomy,
        library=_library(),
        mine=custom_exercises(therapist),
        post_form=PostOnlyForm(),
        hold_labels=library_module.CONTRAINDICATION_LABELS,
    )


def _exercise_form(existing: CustomExercise | None) -> ExerciseForm:
    form = ExerciseForm()
    form.step.choices = [(s.slug, s.title) for s in get_state().taxonomy.steps]
    return form


def _fill_from(form: ExerciseForm, source: Any) -> None:
    for name in ("step", "title", "purpose", "mode", "frequency", "duration_minutes"):
        form[name].data = getattr(source, name)
    form.times_per_week.data = source.times_per_week or None
    form.instructions.data = "\n".join(source.instructions)
    form.reflection_prompts.data = "\n".join(source.reflection_prompts)
    form.therapist_note.data = source.therapist_note


def _exercise_fields(form: ExerciseForm, based_on: str | None) -> dict[str, object]:
    return {
        "step": form.step.data,
        "title": form.title.data,
        "purpose": form.purpose.data,
        "mode": form.mode.data,
        "frequency": form.frequency.data,
        "times_per_week": form.times_per_week.data if form.frequency.data == "weekly" else 0,
        "duration_minutes": form.duration_minutes.data,
        "instructions": lines(form.instructions.data),
        "reflection_prompts": lines(form.reflection_prompts.data),
        "therapist_note": form.therapist_note.data or "",
        "based_on": based_on,
    }


@routes.route("/exercises/new", methods=["GET", "POST"])
@therapist_required
def exercise_new() -> ResponseReturnValue:
    therapist = signed_in_therapist()
    form = _exercise_form(None)
    based_on = request.values.get("from") or None
    if based_on:
        try:
            source = _library().get(based_on)
        except KeyError:
            abort(404)
        if request.method == "GET":
            _fill_from(form, source)
            form.title.data = f"{source.title} (my version)"
    if form.validate_on_submit():
        exercise = save_custom_exercise(therapist, _exercise_fields(form, based_on))
        db_session().commit()
        flash(f"“{exercise.title}” saved to your exercises.", "success")
        return redirect(url_for(".exercises"))
    return render_template(
        "reconnect_clinic/exercise_form.html", form=form, exercise=None, based_on=based_on
    )


def _own_exercise_or_404(exercise_id: uuid.UUID, therapist: Therapist) -> CustomExercise:
    exercise = db_session().get(CustomExercise, exercise_id)
    if exercise is None or exercise.therapist_id != therapist.id or exercise.deleted_at:
        abort(404)
    return exercise


@routes.route("/exercises/<uuid:exercise_id>/edit", methods=["GET", "POST"])
@therapist_required
def exercise_edit(exercise_id: uuid.UUID) -> ResponseReturnValue:
    therapist = signed_in_therapist()
    exercise = _own_exercise_or_404(exercise_id, therapist)
    form = _exercise_form(exercise)
    if request.method == "GET":
        _fill_from(form, exercise)
    elif form.validate_on_submit():
        save_custom_exercise(therapist, _exercise_fields(form, exercise.based_on), exercise)
        db_session().commit()
        flash("Exercise saved. Homework already given keeps the text it was given with.", "success")
        return redirect(url_for(".exercises"))
    return render_template(
        "reconnect_clinic/exercise_form.html", form=form, exercise=exercise, based_on=None
    )


@routes.route("/exercises/<uuid:exercise_id>/delete", methods=["POST"])
@therapist_required
def exercise_delete(exercise_id: uuid.UUID) -> ResponseReturnValue:
    therapist = signed_in_therapist()
    exercise = _own_exercise_or_404(exercise_id, therapist)
    if not PostOnlyForm().validate_on_submit():
        abort(400)
    exercise.deleted_at = utcnow()
    db_session().commit()
    flash("Exercise removed from your list.", "success")
    return redirect(url_for(".exercises"))
