"""Measures through treatment: a partner answers the scheduled measures through their
own measures link; the therapist sets the couple's schedule, sends what is due, makes a
new link to copy, and sends the couple a note celebrating measured progress."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import i18n
from ..blueprint import RouteTable, therapist_required, with_couple
from ..mail import mail_enabled, send_mail
from ..models import ClientLink, Couple, MeasureAdministration, Therapist, utcnow
from ..risk.resources import CrisisSupport
from ..security.accounts.forms import PostOnlyForm
from ..security.audit.log import record_event
from ..security.links.session import link_ref
from ..security.links.views import (
    PURPOSES,
    after_timeout,
    duration_words,
    link_open,
    partner_context,
    posted_context,
)
from ..security.shown_once import keep_to_show_once, take_to_show
from ..state import config, db_session, get_state
from . import instruments as catalogue
from .operations import (
    PURPOSE,
    SCHEDULABLE,
    AlreadyAnswered,
    ScheduleError,
    administration_for_link,
    new_link_for,
    open_case,
    prepare_due,
    save_schedule,
    schedule_for,
    store_answers,
)
from .queries import celebration_lines, celebration_message
from .sending import SUBJECT, deliver, measures_url

routes = RouteTable()

ALREADY_SENT = i18n.N_("Your answers were already sent to your therapist. Nothing was changed.")

# The measures link joins the other purposes: opened at /m/<token> by the shared view
# (rate limit, dead-link pages, link session), then on to this module's pages.
PURPOSES.setdefault(
    PURPOSE,
    {
        "start": "reconnect_clinic.measures_form",
        "name": "measures",
        "lifetime": "MEASURES_LINK_LIFETIME_DAYS",
        "subject": SUBJECT,
    },
)
routes.add_url_rule(
    "/m/<token>", endpoint="link_open", view_func=link_open, defaults={"purpose": PURPOSE}
)

CADENCE_CHOICES = [
    SelectChoice("before_every_session", "Before every session"),
    SelectChoice("every_n_weeks", "Every N weeks"),
    SelectChoice("once", "Once"),
]


def measure_field(slug: str, number: int) -> str:
    return f"{slug}_{number}"


def answers_form_class(slugs: tuple[str, ...]) -> type[FlaskForm]:
    """A form with one required choice per item of each measure, in the form's order."""
    fields: dict[str, Any] = {}
    for slug in slugs:
        instrument = catalogue.get(slug)
        for item in instrument.items:
            fields[measure_field(slug, item.number)] = RadioField(
                item.text,
                choices=[SelectChoice(str(option.points), option.label) for option in item.options],
                coerce=int,
                validators=[InputRequired(i18n.lazy_gettext("Please choose an answer."))],
            )
    # Partner pages prove where they came from with the signed link reference they
    # carry (security/links/session.py) instead of a CSRF token, as the intake does.
    fields["Meta"] = type("Meta", (), {"csrf": False})
    return type("MeasuresForm", (FlaskForm,), fields)


def _closed_page() -> Response:
    """A clear page for a measures link whose case is closed: nothing more is asked."""
    return make_response(
        render_template("reconnect_clinic/measures_closed.html", client_page=True), 410
    )


# --- partner side ---------------------------------------------------------------------


@routes.route("/measures/<uuid:link_id>/", methods=["GET", "POST"])
def measures_form(link_id: uuid.UUID) -> ResponseReturnValue:
    posted = request.method == "POST"
    if posted:
        sent = posted_context(PURPOSE, link_id)
        link = sent.link
        if sent.keep_only:  # past the idle limit: measures keep no drafts
            return after_timeout(link, kept=False)
    else:
        context = partner_context(PURPOSE, link_id)
        link, _ = context
    couple = link.partner.couple
    administration = administration_for_link(link)
    if administration is None:
        abort(404)
    if administration.completed_at is not None or link.used_at is not None:
        if posted:
            flash(i18n.gettext(ALREADY_SENT))
        return redirect(url_for(".measures_done", link_id=link.id), code=303)
    if not open_case(couple):
        return _closed_page()
    slugs = administration.instrument_slugs
    form = answers_form_class(slugs)()
    if posted and form.validate():
        answers = {
            slug: [
                int(form[measure_field(slug, item.number)].data)
                for item in catalogue.get(slug).items
            ]
            for slug in slugs
        }
        try:
            results = store_answers(link, administration, answers)
        except AlreadyAnswered:
            db_session().rollback()
            flash(i18n.gettext(ALREADY_SENT))
            return redirect(url_for(".measures_done", link_id=link.id), code=303)
        disclosed = any("self_harm_risk" in (r.flags or []) for r in results)
        db_session().commit()
        return redirect(
            url_for(".measures_done", link_id=link.id, support="1" if disclosed else None),
            code=303,
        )
    # A GET, or a post with errors: the same page, the errors beside the fields and
    # every answer chosen kept (the form is drawn from the post).
    return render_template(
        "reconnect_clinic/measures_form.html",
        form=form,
        link=link,
        link_ref=link_ref(link),
        instruments=[catalogue.get(slug) for slug in slugs],
        field_name=measure_field,
        idle_limit=duration_words(config("LINK_IDLE_TIMEOUT")),
        client_page=True,
    )


@routes.route("/measures/<uuid:link_id>/done")
def measures_done(link_id: uuid.UUID) -> ResponseReturnValue:
    context = partner_context(PURPOSE, link_id)
    link, _ = context
    administration = administration_for_link(link)
    if administration is None:
        abort(404)
    if administration.completed_at is None:
        if not open_case(link.partner.couple):
            return _closed_page()
        return redirect(url_for(".measures_form", link_id=link.id))
    support = None
    if request.args.get("support"):
        crisis: CrisisSupport = get_state().crisis_support
        support = {
            "resources": crisis.for_kinds(["self_harm"]),
            "emergency": crisis.emergency,
            "emergency_note": crisis.emergency_note,
        }
    return render_template(
        "reconnect_clinic/measures_done.html",
        administration=administration,
        instruments=[catalogue.get(slug) for slug in administration.instrument_slugs],
        support=support,
        client_page=True,
    )


# --- therapist side -------------------------------------------------------------------


class ScheduleForm(FlaskForm):
    instruments = SelectMultipleField(
        "Measures to ask",
        choices=[SelectChoice(slug, catalogue.get(slug).title) for slug in SCHEDULABLE],
        validators=[InputRequired("Choose at least one measure.")],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    cadence = SelectField("How often", choices=CADENCE_CHOICES)
    every_weeks = IntegerField(
        "N, for every N weeks",
        validators=[Optional(), NumberRange(1, 52, "Choose a number of weeks from 1 to 52.")],
    )
    starts_on = DateField(
        "Starting on", validators=[InputRequired("Give the date the schedule starts.")]
    )
    active = BooleanField("Send links on this schedule")


def _today() -> date:
    return utcnow().date()


@routes.route("/couples/<uuid:couple_id>/measures/schedule", methods=["GET", "POST"])
@therapist_required
@with_couple
def measures_schedule(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    schedule = schedule_for(couple)
    form = ScheduleForm()
    if request.method == "GET":
        if schedule is not None:
            form.instruments.data = list(schedule.instrument_slugs)
            form.cadence.data = schedule.cadence
            form.every_weeks.data = schedule.every_weeks
            form.starts_on.data = schedule.starts_on
            form.active.data = schedule.active
        else:
            form.instruments.data = ["csi4", "phq9", "gad7"]
            form.cadence.data = "every_n_weeks"
            form.every_weeks.data = 4
            form.starts_on.data = _today()
            form.active.data = True
    elif form.validate_on_submit():
        if form.cadence.data == "every_n_weeks" and not form.every_weeks.data:
            form.every_weeks.errors = ("Give N, the number of weeks between measures.",)
        else:
            try:
                save_schedule(
                    couple,
                    therapist,
                    instruments=list(form.instruments.data or []),
                    cadence=str(form.cadence.data),
                    every_weeks=form.every_weeks.data,
                    starts_on=form.starts_on.data or _today(),
                    active=bool(form.active.data),
                )
            except ScheduleError as error:
                db_session().rollback()
                form.instruments.errors = (str(error),)
            else:
                db_session().commit()
                flash("The schedule of measures is saved.", "success")
                return redirect(
                    url_for(".couple_detail", couple_id=couple.id, _anchor="measures"), code=303
                )
    return render_template(
        "reconnect_clinic/measures_schedule.html", couple=couple, form=form, schedule=schedule
    )


_SENT_SHOWN = "measures-links"


@routes.route("/couples/<uuid:couple_id>/measures/send", methods=["POST"])
@therapist_required
@with_couple
def measures_send(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    """Send now what the schedule calls for and was not sent yet (as the cron run would)."""
    if not PostOnlyForm().validate_on_submit():
        abort(400)
    prepared = prepare_due(couple, today=_today(), by=therapist)
    shown = [item.as_dict() for item in deliver(prepared)]
    db_session().commit()
    if not shown:
        flash("Nothing is due to be sent now.", "info")
        return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="measures"))
    keep_to_show_once(_SENT_SHOWN, couple.id, {"links": shown})
    return redirect(url_for(".measures_sent", couple_id=couple.id), code=303)


@routes.route("/couples/<uuid:couple_id>/measures/<uuid:administration_id>/link", methods=["POST"])
@therapist_required
@with_couple
def measures_relink(
    therapist: Therapist, couple: Couple, administration_id: uuid.UUID
) -> ResponseReturnValue:
    """A new link to copy for an administration not answered yet."""
    if not PostOnlyForm().validate_on_submit():
        abort(400)
    administration = db_session().get(MeasureAdministration, administration_id)
    if administration is None or administration.couple_id != couple.id:
        abort(404)
    if administration.completed_at is not None or not open_case(couple):
        flash("Those measures were answered already, or the case is closed.", "info")
        return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="measures"))
    issued = new_link_for(administration, therapist)
    db_session().commit()
    shown = [
        {
            "partner": administration.partner.full_name,
            "due_on": administration.due_on.isoformat(),
            "url": measures_url(issued.token),
            "result": "A new link: the one sent before no longer works.",
        }
    ]
    keep_to_show_once(_SENT_SHOWN, couple.id, {"links": shown})
    return redirect(url_for(".measures_sent", couple_id=couple.id), code=303)


@routes.route("/couples/<uuid:couple_id>/measures/sent")
@therapist_required
@with_couple
def measures_sent(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    """The links just made, shown once (only their fingerprints are kept)."""
    taken = take_to_show(_SENT_SHOWN)
    if taken is None or taken[0] != couple.id:
        flash(
            "Those links were shown once, when they were made, and are not shown again. "
            "If one was not kept, make a new one from the measures section.",
            "info",
        )
        return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="measures"))
    response = make_response(
        render_template(
            "reconnect_clinic/measures_sent.html", couple=couple, links=taken[1]["links"]
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


class CelebrationForm(FlaskForm):
    message = TextAreaField(
        "Message to the couple",
        validators=[InputRequired("Write the message to send."), Length(max=4000)],
    )


@routes.route("/couples/<uuid:couple_id>/celebrate", methods=["GET", "POST"])
@therapist_required
@with_couple
def measures_celebrate(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    """Celebrating progress (the seed's fifteenth step): a short message for the couple,
    drafted from what their measures show and sent only when the therapist presses send
    (email when set up, else shown to copy). Never sent by itself."""
    lines = celebration_lines(couple)
    form = CelebrationForm()
    results: list[str] = []
    if request.method == "GET":
        form.message.data = celebration_message(couple, lines)
    elif form.validate_on_submit():
        text = str(form.message.data)
        results = _send_celebration(couple, text)
        record_event(
            "measures.celebrate",
            actor=therapist,
            record=couple,
            couple_id=couple.id,
            detail={"emailed": sum(1 for r in results if r.startswith("Emailed"))},
        )
        db_session().commit()
    return render_template(
        "reconnect_clinic/measures_celebrate.html",
        couple=couple,
        form=form,
        lines=lines,
        results=results,
        mail=mail_enabled(),
        note_line=_note_line(lines),
    )


def _note_line(lines: list[Any]) -> str:
    if not lines:
        return ""
    said = "; ".join(
        f"{line.partner_name}'s {line.name} {line.first} → {line.latest}" for line in lines
    )
    return (
        "Celebrated progress with the couple (step 15): measures show reliable "
        f"improvement ({said})."
    )


def _send_celebration(couple: Couple, text: str) -> list[str]:
    if not mail_enabled():
        return ["Email is not set up for this practice: copy the message and send it yourself."]
    subject = f"A note from {config('PRACTICE_NAME')}"
    results = []
    for partner in couple.partners:
        if not partner.email:
            results.append(f"{partner.first_name} has no email address: please copy the message.")
            continue
        try:
            send_mail(partner.email, subject, text)
        except Exception as error:  # reported, not raised
            results.append(f"Not sent to {partner.first_name} ({type(error).__name__}).")
            continue
        results.append(f"Emailed to {partner.email}.")
    return results


def link_of(administration: MeasureAdministration) -> ClientLink | None:
    return administration.link
