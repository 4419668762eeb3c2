"""Therapy sessions and their notes: write, save, sign, add addenda (the reports are in
``reports/views.py``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ..blueprint import RouteTable, therapist_required, with_couple
from ..homework.queries import couple_assignments
from ..models import Couple, SessionNote, Therapist, TherapySession
from ..ratings.views import session_ratings_context
from ..reports import service
from ..reports.glyphs import unprintable_characters
from ..risk.panel import RiskCard, risk_panel
from ..risk.queries import couple_risk_records
from ..security.accounts.kept_posts import take_kept
from ..security.audit.log import record_event
from ..state import config, db_session, get_state
from ..text import clean_text
from .forms import AddendumForm, NoteForm, SessionForm
from .operations import (
    NoteConflict,
    NoteLocked,
    SessionDetails,
    add_addendum,
    create_session,
    save_note,
    sign_note,
    update_session,
)
from .queries import configured_templates, session_or_404
from .rules import signing_problems
from .templates import NoteTemplate

routes = RouteTable()

_NOTE_FORMS: dict[tuple[str, tuple[str, ...]], type[NoteForm]] = {}


def _today() -> date:
    return date.today()  # noqa: DTZ011 - the therapist's own day


def note_form_class(template: NoteTemplate) -> type[NoteForm]:
    key = (template.slug, tuple(s.key for s in template.sections))
    cls = _NOTE_FORMS.get(key)
    if cls is None:
        fields = {
            f"section_{s.key}": TextAreaField(
                s.heading,
                description=s.hint,
                validators=[Optional(), Length(max=50000)],
                filters=[clean_text],
            )
            for s in template.sections
        }
        cls = _NOTE_FORMS[key] = type(f"NoteForm_{template.slug}", (NoteForm,), fields)
    return cls


def _details(form: SessionForm) -> SessionDetails:
    return SessionDetails(
        held_on=form.held_on.data,
        duration_minutes=form.duration_minutes.data or 0,
        format=form.format.data or "in_person",
        attendance=form.attendance.data or "both",
    )


@routes.route("/couples/<uuid:couple_id>/sessions/new", methods=["GET", "POST"])
@therapist_required
@with_couple
def session_new(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    form = SessionForm()
    if request.method == "GET":
        form.held_on.data = _today()
    if form.validate_on_submit():
        therapy_session = create_session(couple, therapist, _details(form))
        db_session().commit()
        return redirect(
            url_for(".session_detail", couple_id=couple.id, session_id=therapy_session.id)
        )
    return render_template("reconnect_clinic/session_form.html", couple=couple, form=form)


def _note_form(therapy_session: TherapySession, template_slug: str | None) -> tuple[Any, Any]:
    templates = configured_templates()
    note = therapy_session.note
    slug = template_slug or (note.template if note else config("DEFAULT_NOTE_TEMPLATE"))
    template = templates.get(slug) or templates["dap"]
    form = note_form_class(template)()
    form.interventions.choices = [(s.slug, s.title) for s in get_state().taxonomy.steps]
    assignments = couple_assignments(therapy_session.couple)
    homework_choices = [(str(a.id), f"{a.title} ({a.starts_on.isoformat()})") for a in assignments]
    form.homework_reviewed.choices = homework_choices
    form.homework_assigned.choices = homework_choices
    return form, template


def _fill_note_form(form: Any, therapy_session: TherapySession, template: NoteTemplate) -> None:
    note = therapy_session.note
    if note is None:
        return
    content = note.content
    for section in template.sections:
        form[f"section_{section.key}"].data = content.get("sections", {}).get(section.key, "")
    form.interventions.data = content.get("interventions", [])
    form.homework_reviewed.data = content.get("homework_reviewed", [])
    form.homework_assigned.data = content.get("homework_assigned", [])
    # A note saved without a level shows none chosen: never a default.
    form.risk_level.data = content.get("risk", {}).get("level") or None
    form.risk_notes.data = content.get("risk", {}).get("notes", "")
    form.risk_none_reason.data = content.get("risk", {}).get("none_reason", "")
    form.version.data = str(note.version)


def _note_content(form: Any, template: NoteTemplate, previous: dict[str, Any]) -> dict[str, Any]:
    # Sections of another template stay in the note (switching template loses nothing).
    sections = dict(previous.get("sections", {}))
    for section in template.sections:
        sections[section.key] = form[f"section_{section.key}"].data or ""
    return {
        "sections": sections,
        "interventions": list(form.interventions.data or []),
        "homework_reviewed": list(form.homework_reviewed.data or []),
        "homework_assigned": list(form.homework_assigned.data or []),
        "risk": {
            "level": form.risk_level.data or "",
            "notes": form.risk_notes.data or "",
            "none_reason": form.risk_none_reason.data or "",
        },
    }


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>", methods=["GET", "POST"])
@therapist_required
@with_couple
def session_detail(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    therapy_session = session_or_404(couple, session_id)
    note = therapy_session.note
    if note is not None and note.is_signed:
        # Drawn before the commit, which expires every row the page shows, and before the
        # audit line, which holds the audit chain's lock until the commit.
        page = _render_signed(couple, therapy_session, AddendumForm())
        record_event("note.view", actor=therapist, record=note, couple_id=couple.id)
        db_session().commit()
        return page

    # What was typed when the idle sign-out struck, once this same therapist is signed
    # in again: back into the form only, never saved or signed from here.
    restored, dropped = (
        take_kept(therapist.id, request.path) if request.method == "GET" else (None, False)
    )
    if dropped:
        db_session().commit()
    template_slug = (
        (restored.get("template") if restored is not None else None)
        or request.form.get("template")
        or request.args.get("template")
    )
    form, template = _note_form(therapy_session, template_slug)
    risks = _current_risks(couple)
    conflict = None
    if restored is not None:
        form.process(formdata=restored)
        flash(
            "What you typed before you were signed out is back in the form. It is not "
            "saved yet: please review it, then save the draft.",
            "info",
        )
    elif request.method == "GET":
        _fill_note_form(form, therapy_session, template)
        if note is not None:
            record_event("note.view", actor=therapist, record=note, couple_id=couple.id)
            db_session().commit()
    elif request.form.get("action") == "autosave":
        return _autosave(form, template, therapy_session, therapist)
    elif form.validate_on_submit() and not _signing_refused(form, risks):
        action = request.form.get("action", "save")
        try:
            saved = _save_posted_note(form, template, therapy_session, therapist)
            if action == "sign":
                sign_note(saved, therapist, based_on_version=saved.version)
        except NoteConflict as error:
            db_session().rollback()
            conflict = error.current
            flash(
                "This note was changed somewhere else since you opened it (another tab or "
                "a colleague). Nothing was overwritten. Your text is still in the form; the "
                "saved version is shown beside it. Save again to replace it with yours.",
                "error",
            )
            db_session().refresh(therapy_session)
            if conflict is not None:
                form.version.data = str(conflict.version)
        except NoteLocked as error:
            db_session().rollback()
            flash(str(error), "error")
            return redirect(
                url_for(".session_detail", couple_id=couple.id, session_id=therapy_session.id)
            )
        else:
            db_session().commit()
            if action == "sign":
                _store_report_after_signing(couple, therapy_session)
                flash(
                    "Note signed. It can no longer be changed; add an addendum to correct it.",
                    "success",
                )
            else:
                flash("Draft saved.", "success")
            return redirect(
                url_for(".session_detail", couple_id=couple.id, session_id=therapy_session.id)
            )
    return render_template(
        "reconnect_clinic/session_note.html",
        couple=couple,
        therapy_session=therapy_session,
        form=form,
        template=template,
        templates=configured_templates(),
        conflict=conflict,
        session_form=_session_form(therapy_session),
        unprintable=_unprintable_in_note(couple, form, template),
        risks=risks,
        **session_ratings_context(couple, therapy_session),
    )


def _save_posted_note(
    form: Any, template: NoteTemplate, therapy_session: TherapySession, therapist: Therapist
) -> SessionNote:
    """Save the posted note as a draft, checked against the version the form was opened
    at ("Save draft", "Save and sign" and the autosave alike); raises NoteConflict or
    NoteLocked as save_note does."""
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    note = therapy_session.note
    return save_note(
        therapy_session,
        therapist,
        template=template.slug,
        content=_note_content(form, template, note.content if note else {}),
        based_on_version=version,
    )


def _autosave(
    form: Any, template: NoteTemplate, therapy_session: TherapySession, therapist: Therapist
) -> ResponseReturnValue:
    """The draft saved while the therapist types (``clinic.js``, a fetch every 30 s after
    a change): the same save as "Save draft", with the same optimistic locking, answered
    in JSON. Never signs. A conflict is not resolved here: the page says so and the
    therapist's "Save draft" shows both versions, as without JavaScript."""
    if not form.validate_on_submit():
        return jsonify(saved=False, message=_AUTOSAVE_INVALID), 400
    try:
        saved = _save_posted_note(form, template, therapy_session, therapist)
    except (NoteConflict, NoteLocked):
        db_session().rollback()
        return jsonify(saved=False, conflict=True, message=_AUTOSAVE_CONFLICT), 409
    new_version = saved.version
    db_session().commit()
    return jsonify(saved=True, version=new_version)


_AUTOSAVE_INVALID = "Could not save automatically: please check the form and press “Save draft”."
_AUTOSAVE_CONFLICT = (
    "This note was changed somewhere else since you opened it, so it is no longer saved "
    "automatically. Your text is still here: press “Save draft” to see both versions."
)


def _current_risks(couple: Couple) -> tuple[RiskCard, ...]:
    """The couple's open and acknowledged risks, shown beside the note's risk section
    (two statements; the answers behind them stay on the couple's page)."""
    records, risks = couple_risk_records(couple)
    panel = risk_panel(
        get_state().taxonomy,
        couple.partners,
        risks,
        records.disclosures,
        records.assessments,
        {},
    )
    return panel.current_cards


def _signing_refused(form: Any, risks: tuple[RiskCard, ...]) -> bool:
    """For a Sign: puts what is missing beside its fields (see rules.py); True if any."""
    if request.form.get("action") != "sign":
        return False
    problems = signing_problems(
        risk_level=form.risk_level.data,
        none_reason=form.risk_none_reason.data or "",
        confirmed=bool(form.confirm_sign.data),
        current_risks=len(risks),
    )
    for name, message in problems.items():
        form[name].errors = [*form[name].errors, message]
    return bool(problems)


def _unprintable_in_note(couple: Couple, form: Any, template: NoteTemplate) -> tuple[str, ...]:
    """Characters of the names and the note that its report's PDF will print as empty
    boxes: said beside the Sign button, since signing stores that PDF for good."""
    texts = [couple.label, *(partner.full_name for partner in couple.partners)]
    texts += [couple.therapist.display_name, config("PRACTICE_NAME") or ""]
    texts.append(config("PRACTICE_ADDRESS") or "")
    texts += [form[f"section_{section.key}"].data or "" for section in template.sections]
    texts.append(form.risk_notes.data or "")
    return unprintable_characters(" ".join(texts))


def _store_report_after_signing(couple: Couple, therapy_session: TherapySession) -> None:
    """Render and keep the signed report now. If rendering fails, signing still stands:
    the report is rendered and kept on first download instead. With a job queue, a
    worker renders and keeps it (tasks/jobs.py); here only if the queue is unreachable."""
    from ..tasks import jobs, queue

    if queue.enabled():
        try:
            queue.submit("signed-report", jobs.signed_report_job, (str(therapy_session.id),))
            return
        except Exception:  # Redis down: render it here, as without a queue
            current_app.logger.warning("The job queue is unreachable: the report is made here")
    try:
        service.issue_session_report(couple, therapy_session)
        db_session().commit()
    except Exception:  # the signature is committed; the report can wait
        db_session().rollback()
        flash(
            "The report could not be prepared just now; it will be made when first opened.", "info"
        )


def _session_form(therapy_session: TherapySession) -> SessionForm:
    form = SessionForm(formdata=None, obj=therapy_session)
    return form


def _render_signed(couple: Couple, therapy_session: TherapySession, form: AddendumForm) -> str:
    report = service.load_session_report(couple, therapy_session)
    return render_template(
        "reconnect_clinic/session_signed.html",
        couple=couple,
        therapy_session=therapy_session,
        report=report,
        form=form,
        stored=service.stored_session_report(therapy_session),
        **session_ratings_context(couple, therapy_session),
    )


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>/details", methods=["POST"])
@therapist_required
@with_couple
def session_details(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    therapy_session = session_or_404(couple, session_id)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            update_session(therapy_session, therapist, _details(form))
        except NoteLocked as error:
            db_session().rollback()
            flash(str(error), "error")
        else:
            db_session().commit()
            flash("Session details saved.", "success")
        return redirect(
            url_for(".session_detail", couple_id=couple.id, session_id=therapy_session.id)
        )
    return render_template(
        "reconnect_clinic/session_form.html",
        couple=couple,
        form=form,
        therapy_session=therapy_session,
    )


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>/addenda", methods=["POST"])
@therapist_required
@with_couple
def note_addendum(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    therapy_session = session_or_404(couple, session_id)
    note = therapy_session.note
    if note is None or not note.is_signed:
        abort(404)
    form = AddendumForm()
    if not form.validate_on_submit():
        return _render_signed(couple, therapy_session, form), 200
    add_addendum(note, therapist, form.body.data or "")
    db_session().commit()
    # The stored report is issued again so the addendum is part of the printed record;
    # earlier revisions stay as they were.
    _store_report_after_signing(couple, therapy_session)
    flash("Addendum signed and added.", "success")
    return redirect(url_for(".session_detail", couple_id=couple.id, session_id=therapy_session.id))
