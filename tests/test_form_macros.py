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


# --- every page the route matrix reaches: no attribute reads "None" --------------------------

_ATTRIBUTE_NONE = re.compile(r'[\w:-]+="None"')
_DESCRIBED_BY = re.compile(r'aria-describedby="([^"]*)"')
_ID = re.compile(r'\sid="([^"]+)"')


def _attribute_problems(where: str, html: str) -> list[str]:
    """Attributes that read "None", and aria-describedby ids the page does not have."""
    problems = [f"{where}: {hit}" for hit in _ATTRIBUTE_NONE.findall(html)]
    ids = set(_ID.findall(html))
    for value in _DESCRIBED_BY.findall(html):
        if not value.split():
            problems.append(f"{where}: an empty aria-describedby")
        problems += [
            f"{where}: aria-describedby names #{ref}, not on the page"
            for ref in value.split()
            if ref not in ids
        ]
    return problems


def _pages(app, make) -> list[tuple[str, str]]:
    """Every therapist and partner page of the route matrix's scene, as the owner and as
    partner A see them: each GET of the URL map, the intake's every page, and each form
    posted empty (so that the pages with errors beside their fields are walked too)."""
    from reconnect_clinic.intake.content import page_slugs
    from reconnect_clinic.state import get_state
    from tests.test_route_matrix import _LATE, _methods, _rules, build_cell, build_scene

    scene = build_scene(app, make)
    seen: list[tuple[str, str]] = []

    def keep(where: str, response) -> None:
        if response.mimetype == "text/html":
            seen.append((where, response.get_data(as_text=True)))

    # The requests that change what later ones see (signing out, revoking links) are left
    # out, and "Exit this page", which leaves the clinic.
    skipped = (*_LATE, "reconnect_clinic.quick_exit", "reconnect_clinic.static")
    for actor in ("anonymous", "partner_a", "owner"):
        for rule in _rules(app):
            if rule.endpoint in skipped:
                continue
            for method in _methods(rule):
                cell = build_cell(scene, rule, method, actor)
                client = scene.restore(actor)
                if method == "GET":
                    keep(f"GET {cell.url} as {actor}", client.get(cell.url, follow_redirects=True))
                else:
                    # The post with its tokens and nothing else: a form comes back with
                    # its errors (or the post is refused, which is a page as well).
                    posted = client.post(cell.url, data=cell.data, follow_redirects=True)
                    keep(f"POST {cell.url} as {actor}", posted)

    partner = scene.restore("partner_a")
    intake_id = scene.holders["partner_a"].intake_id
    for slug in page_slugs(get_state().taxonomy):
        url = f"/clinic/intake/{intake_id}/{slug}"
        keep(f"GET {url}", partner.get(url, follow_redirects=True))
        data = {"link_ref": scene.holders["partner_a"].refs["intake"], "action": "next"}
        keep(f"POST {url}", partner.post(url, data=data, follow_redirects=True))

    owner = scene.restore("owner")
    base = f"/clinic/couples/{scene.couple_id}"
    draft = f"{base}/sessions/{scene.draft_session_id}"
    keep(f"GET {draft}", owner.get(draft))
    with_errors = {"csrf_token": scene.csrf["owner"], "action": "sign"}
    keep(f"POST {draft}", owner.post(draft, data=with_errors, follow_redirects=True))
    keep("GET /clinic/login", app.test_client().get("/clinic/login"))
    return seen


def test_no_page_renders_an_attribute_as_none(app, make):
    pages = _pages(app, make)
    assert len(pages) > 60, len(pages)
    # The walk reaches forms with their errors beside the fields.
    assert any('aria-invalid="true"' in html for _, html in pages)
    problems = [problem for where, html in pages for problem in _attribute_problems(where, html)]
    assert not problems, "\n".join(problems)


def test_the_field_macro_writes_only_attributes_that_have_a_value(app):
    from wtforms import StringField
    from wtforms.validators import DataRequired

    class Named(Form):
        name = StringField("Name", validators=[DataRequired()])
        hinted = StringField("Hinted", description="A hint.")

    template = (
        '{% from "reconnect_clinic/_forms.html" import field %}'
        "{{ field(form.name) }}{{ field(form.hinted, autocomplete='off') }}"
    )
    with app.test_request_context():
        empty = render_template_string(template, form=Named())
        invalid = Named(data={"name": ""})
        invalid.validate()
        errored = render_template_string(template, form=invalid)
    name_input = re.search(r'<input[^>]*id="name"[^>]*>', empty).group(0)
    assert "aria-invalid" not in name_input
    assert "aria-describedby" not in name_input
    assert "autocomplete" not in name_input
    assert 'aria-describedby="hinted-hint"' in empty
    assert 'autocomplete="off"' in empty
    errored_input = re.search(r'<input[^>]*id="name"[^>]*>', errored).group(0)
    assert 'aria-invalid="true"' in errored_input
    assert 'aria-describedby="name-error"' in errored_input
    assert 'id="name-error"' in errored
    assert _attribute_problems("errored", errored) == []
