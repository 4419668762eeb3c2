"""Forms for opening and editing a case."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from ..datebounds import case_opened_problem
from ..i18n import LANGUAGES
from ..models import CaseStatus
from ..text import clean_text

# The partner's language (i18n.py): "" lets their browser decide.
LANGUAGE_CHOICES = [
    SelectChoice("", "The browser's language"),
    *(SelectChoice(code, name) for code, name in LANGUAGES.items()),
]

STATUS_CHOICES = [
    SelectChoice(CaseStatus.ACTIVE.value, "Active"),
    SelectChoice(CaseStatus.PAUSED.value, "Paused"),
    SelectChoice(CaseStatus.CLOSED.value, "Closed"),
]


class PartnerForm(Form):
    """One partner's details. A plain ``Form``: the CSRF token lives on the outer form."""

    first_name = StringField(
        "First name",
        validators=[DataRequired("Please enter a first name."), Length(max=100)],
        filters=[clean_text],
    )
    last_name = StringField(
        "Last name", validators=[Optional(), Length(max=100)], filters=[clean_text]
    )
    email = EmailField(
        "Email",
        validators=[Optional(), Email("Please enter a valid email address."), Length(max=254)],
        filters=[clean_text],
        description="Used only to send this partner their private links.",
    )
    pronouns = StringField(
        "Pronouns", validators=[Optional(), Length(max=40)], filters=[clean_text]
    )
    language = SelectField(
        "Language of their pages",
        choices=LANGUAGE_CHOICES,
        default="",
        description="Their questionnaire, homework pages and emails. They can switch on "
        "their pages; left on the browser's language, it follows what their browser asks for.",
    )


class CoupleForm(FlaskForm):
    label = StringField(
        "Case name",
        validators=[Optional(), Length(max=200)],
        filters=[clean_text],
        description="How the case appears on your dashboard. Left empty, the partners' "
        "first names are used.",
    )
    status = SelectField("Status", choices=STATUS_CHOICES, default=CaseStatus.ACTIVE.value)
    opened_on = DateField(
        "Opened on",
        validators=[InputRequired("Please give the date the case opened.")],
        invalid_value_message="Please give the date as YYYY-MM-DD.",
        default=date.today,
    )
    legal_hold = BooleanField(
        "Legal hold",
        description="Keep every record of this case, even past its retention date.",
    )
    partner_a = FormField(PartnerForm, label="Partner A")
    partner_b = FormField(PartnerForm, label="Partner B")

    def validate_opened_on(self, field: DateField) -> None:
        today = date.today()  # noqa: DTZ011 - the therapist's own day
        if field.data and (problem := case_opened_problem(field.data, today)):
            raise ValidationError(problem)
