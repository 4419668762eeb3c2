"""The form macros (templates/reconnect_clinic/_forms.html): the radio group writes its
inputs out itself, for speed, and must write exactly what WTForms' own widget writes."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from wtforms import Form, RadioField, SelectChoice
from wtforms.validators import InputRequired, Optional


class Question(Form):
    asked = RadioField(
        "How often?",
        choices=[
            SelectChoice("0", "Never"),
            SelectChoice("1", "Rarely"),
            SelectChoice('a&b"<c>', "Odd <value>"),
        ],
        validators=[InputRequired()],
    )
    optional = RadioField(
        "Maybe", choices=[SelectChoice("x", "X"), SelectChoice("y", "Y")], validators=[Optional()]
    )


MACRO = (
    '{% from "reconnect_clinic/_forms.html" import choice %}'
    "{{ choice(form.asked) }}{{ choice(form.optional) }}"
)


@pytest.mark.parametrize("chosen", [None, "1", 'a&b"<c>'])
def test_radio_inputs_are_the_ones_wtforms_writes(app, chosen):
    form = Question(data={"asked": chosen, "optional": "y"})
    with app.test_request_context():
        html = render_template_string(MACRO, form=form)
    expected = [str(option()) for field in (form.asked, form.optional) for option in field]
    assert re.findall(r"<input[^>]*>", html) == expected
    assert sum(" checked " in tag for tag in expected) == (2 if chosen else 1)
    assert "Odd &lt;value&gt;" in html
