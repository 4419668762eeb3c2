"""The form a therapist starts a batch of session reports with (views.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired


class SessionReportsForm(FlaskForm):
    since = DateField(
        "Print session reports since",
        validators=[InputRequired("Give the day to print from.")],
        description=(
            "The report of every signed note in your own cases held on or after this day, "
            "one PDF each, downloaded together as one ZIP."
        ),
    )
