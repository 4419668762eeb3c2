"""Forms for therapy sessions, notes and addenda."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..datebounds import session_date_problem
from ..text import clean_text
from .templates import RISK_LEVELS


class SessionForm(FlaskForm):
    held_on = DateField(
        "Date",
        validators=[InputRequired("Please give the session's date.")],
        invalid_value_message="Please give the date as YYYY-MM-DD.",
    )
    duration_minutes = IntegerField(
        "Length (minutes)",
        default=50,
        validators=[
            InputRequired("Please give the length in minutes."),
            NumberRange(5, 480, "Between 5 and 480 minutes, please."),
        ],
    )
    format = RadioField(
        "Format",
        choices=[SelectChoice("in_person", "In person"), SelectChoice("video", "Video")],
        default="in_person",
        validators=[InputRequired("Please choose.")],
    )
    attendance = RadioField(
        "Who attended",
        choices=[
            SelectChoice("both", "Both partners"),
            SelectChoice("a", "Partner A only"),
            SelectChoice("b", "Partner B only"),
        ],
        default="both",
        validators=[InputRequired("Please choose.")],
    )

    def validate_held_on(self, field: DateField) -> None:
        today = date.today()  # noqa: DTZ011 - the therapist's own day
        if field.data and (problem := session_date_problem(field.data, today)):
            raise ValidationError(problem)


class NoteForm(FlaskForm):
    """The fixed parts of a note; the template's sections are added per request as
    ``section_<key>`` fields by :func:`note_form`."""

    interventions = SelectMultipleField("Interventions used (healing steps)")
    homework_reviewed = SelectMultipleField("Homework reviewed")
    homework_assigned = SelectMultipleField("Homework assigned")
    # No default: the therapist records the risk level themselves (a preselected "no
    # current risk" would be signed by anyone who did not look). A draft may leave it
    # open; signing needs it (see rules.py).
    risk_level = RadioField(
        "Risk",
        choices=[SelectChoice(value, label) for value, label in RISK_LEVELS],
        validate_choice=False,
        validators=[
            Optional(),
            AnyOf([value for value, _ in RISK_LEVELS], message="Please choose a risk level."),
        ],
    )
    risk_notes = TextAreaField(
        "Risk notes", validators=[Optional(), Length(max=10000)], filters=[clean_text]
    )
    risk_none_reason = TextAreaField(
        "Why no current risk, although a risk is open",
        description="Needed to sign “No current risk identified” while a partner has an "
        "open or acknowledged risk: say what you assessed and why you judge there is no "
        "current risk. It is signed and printed with the note.",
        validators=[Optional(), Length(max=4000)],
        filters=[clean_text],
    )
    confirm_sign = BooleanField(
        "I have read this note, including its risk section, and sign it now. A signed "
        "note cannot be changed: corrections become signed addenda."
    )
    version = HiddenField()


class AddendumForm(FlaskForm):
    body = TextAreaField(
        "Addendum",
        validators=[DataRequired("Please write the addendum."), Length(max=20000)],
        filters=[clean_text],
        description="A correction or addition. It is signed with your name and the time, "
        "and the note itself stays as it was.",
    )
