"""Forms for assigning homework, checking in, and therapists' own exercises."""

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
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..datebounds import homework_span_problem, homework_start_problem
from ..i18n import lazy_gettext
from ..models import Assignee, Completion, Frequency
from ..text import clean_text

FREQUENCY_CHOICES = [
    SelectChoice(Frequency.ONCE.value, "Once, by the due date"),
    SelectChoice(Frequency.DAILY.value, "Every day"),
    SelectChoice(Frequency.WEEKLY.value, "A number of times a week"),
]


# The exercise select starts on this empty option, so a form sent untouched assigns
# nothing (and says so beside the field) rather than whatever happened to come first.
NO_EXERCISE = SelectChoice("", "Choose an exercise…")


class AssignForm(FlaskForm):
    exercise = SelectField(
        "Exercise",
        validators=[InputRequired("Please choose an exercise.")],
        description="From the library or your own exercises, by healing step.",
    )
    override_reason = TextAreaField(
        "Why you are giving it anyway",
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        description="Needed only for an exercise marked “on hold” for this couple. Kept "
        "sealed with the assignment and shown to therapists only, never to the partners; "
        "the audit log records that you overrode, not what you wrote.",
    )
    assignee = RadioField(
        "For",
        choices=[
            SelectChoice(Assignee.BOTH.value, "Both partners"),
            SelectChoice(Assignee.A.value, "Partner A only"),
            SelectChoice(Assignee.B.value, "Partner B only"),
        ],
        default=Assignee.BOTH.value,
        validators=[InputRequired("Please choose who this is for.")],
    )
    starts_on = DateField(
        "Starts on",
        validators=[InputRequired("Please give a start date.")],
        invalid_value_message="Please give the date as YYYY-MM-DD.",
    )
    due_on = DateField(
        "Due by",
        validators=[InputRequired("Please give a due date.")],
        invalid_value_message="Please give the date as YYYY-MM-DD.",
    )
    frequency = SelectField("How often", choices=FREQUENCY_CHOICES, default="once")
    times_per_week = IntegerField(
        "Times a week",
        validators=[Optional(), NumberRange(1, 7, "Between 1 and 7 times a week, please.")],
        description="Only for “a number of times a week”.",
    )
    note = TextAreaField(
        "A personal note (optional)",
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        description="Shown to the partners with the exercise.",
    )
    step = HiddenField()

    def validate_starts_on(self, field: DateField) -> None:
        if field.data and (problem := homework_start_problem(field.data, today())):
            raise ValidationError(problem)

    def validate_due_on(self, field: DateField) -> None:
        start = self.starts_on.data
        if start and field.data and (problem := homework_span_problem(start, field.data)):
            raise ValidationError(problem)

    def validate_times_per_week(self, field: IntegerField) -> None:
        if self.frequency.data == Frequency.WEEKLY and not field.data:
            raise ValidationError("Please say how many times a week (1 to 7).")
        if self.frequency.data != Frequency.WEEKLY and field.data:
            raise ValidationError("Leave this empty unless the exercise is weekly.")


class CheckInForm(FlaskForm):
    class Meta:
        # Partner pages carry a signed link reference instead of a CSRF token (see
        # security/links/session.py): a long pause before sending never loses the text.
        csrf = False

    # A partner's form: every text is lazy, drawn in the partner's language (i18n.py).
    completion = RadioField(
        lazy_gettext("Did you do it?"),
        choices=[
            SelectChoice(Completion.DONE.value, lazy_gettext("Done")),
            SelectChoice(Completion.PARTLY.value, lazy_gettext("Partly")),
            SelectChoice(Completion.NOT_DONE.value, lazy_gettext("Not this time")),
        ],
        validators=[InputRequired(lazy_gettext("Please choose an answer."))],
    )
    helpfulness = RadioField(
        lazy_gettext("How helpful was it?"),
        choices=[
            SelectChoice("1", lazy_gettext("1 · not at all")),
            SelectChoice("2", "2"),
            SelectChoice("3", "3"),
            SelectChoice("4", "4"),
            SelectChoice("5", lazy_gettext("5 · very")),
        ],
        validators=[Optional()],
    )
    reflection = TextAreaField(
        lazy_gettext("Your reflection, in your own words (optional)"),
        validators=[
            Optional(),
            Length(
                max=4000,
                message=lazy_gettext("Please keep this under %(limit)s characters.", limit=4000),
            ),
        ],
        filters=[clean_text],
    )
    share_with_partner = BooleanField(lazy_gettext("Share this reflection with my partner"))
    client_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])


class ExerciseForm(FlaskForm):
    step = SelectField("Healing step", validators=[InputRequired()])
    title = StringField(
        "Title",
        validators=[DataRequired("Please give a title."), Length(max=200)],
        filters=[clean_text],
    )
    purpose = TextAreaField(
        "Why it helps",
        validators=[DataRequired("Please say what it is for."), Length(max=2000)],
        filters=[clean_text],
    )
    mode = RadioField(
        "Done",
        choices=[
            SelectChoice("together", "Together, by both partners"),
            SelectChoice("individual", "On one's own"),
        ],
        validators=[InputRequired("Please choose.")],
    )
    frequency = SelectField("Suggested frequency", choices=FREQUENCY_CHOICES)
    times_per_week = IntegerField(
        "Times a week", validators=[Optional(), NumberRange(1, 7)], default=None
    )
    duration_minutes = IntegerField(
        "Minutes each time",
        validators=[InputRequired("Please give a length."), NumberRange(1, 240)],
    )
    instructions = TextAreaField(
        "Steps, one per line",
        validators=[DataRequired("Please give at least one step."), Length(max=6000)],
    )
    reflection_prompts = TextAreaField(
        "Reflection questions, one per line",
        validators=[DataRequired("Please give at least one question."), Length(max=3000)],
    )
    therapist_note = TextAreaField(
        "Note for therapists", validators=[Optional(), Length(max=2000)], filters=[clean_text]
    )

    def validate_instructions(self, field: TextAreaField) -> None:
        if not 1 <= len(lines(field.data)) <= 12:
            raise ValidationError("Between 1 and 12 steps, one per line.")

    def validate_reflection_prompts(self, field: TextAreaField) -> None:
        if not 1 <= len(lines(field.data)) <= 6:
            raise ValidationError("Between 1 and 6 questions, one per line.")

    def validate_times_per_week(self, field: IntegerField) -> None:
        if self.frequency.data == Frequency.WEEKLY and not field.data:
            raise ValidationError("Please say how many times a week (1 to 7).")


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def today() -> date:
    return date.today()  # noqa: DTZ011 - dates a therapist types are in their own day
