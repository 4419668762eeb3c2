"""WTForms classes built from the intake's page specs, one class per page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..i18n import lazy_gettext
from ..taxonomy import Taxonomy
from ..text import clean_text
from .content import IntakePageSpec, Question, pages_for

_FORMS: dict[tuple[str, str], type[FlaskForm]] = {}

_PLEASE_CHOOSE = lazy_gettext("Please choose an answer.")


class ChoiceField(RadioField):
    """A radio group whose only message for a missing answer is "please choose"; the
    "not a valid choice" check is kept for answers that are not among the options."""

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            return
        super().pre_validate(form)


def _field(question: Question) -> Field:
    # The classes are built once, so every text is translated when it is drawn, in the
    # partner's language (i18n.py); content.py marks the texts for the catalogue.
    # A validated instrument's item ("<instrument>:<number>") keeps its own wording: it
    # is never translated by us (see i18n_extract.py).
    own = ":" not in question.item_id
    description = lazy_gettext(question.hint) if question.hint and own else question.hint
    label = lazy_gettext(question.label) if own else question.label
    if question.kind == "radio":
        return ChoiceField(
            label,
            choices=[
                SelectChoice(value, lazy_gettext(choice) if own else choice)
                for value, choice in question.choices
            ],
            validators=[InputRequired(_PLEASE_CHOOSE)] if question.required else [Optional()],
            description=description,
        )
    if question.kind == "checkbox":
        return BooleanField(
            label,
            validators=[DataRequired(lazy_gettext("Please tick this box to agree."))]
            if question.required
            else [],
            description=description,
        )
    length = Length(
        max=question.max_length,
        message=lazy_gettext(
            "Please keep this under %(limit)s characters.", limit=question.max_length
        ),
    )
    required = (
        [DataRequired(lazy_gettext("Please fill this in."))] if question.required else [Optional()]
    )
    field_class = TextAreaField if question.kind == "textarea" else StringField
    return field_class(
        label,
        validators=[*required, length],
        filters=[clean_text],
        description=description,
    )


class _PartnerMeta:
    # Partner pages prove where they came from with the signed link reference they carry
    # (see security/links/session.py), which does the CSRF token's job without its
    # one-hour expiry: a partner who pauses mid-page must not lose their answers.
    csrf = False


def form_class(taxonomy: Taxonomy, page: IntakePageSpec) -> type[FlaskForm]:
    """The form for ``page``, built once per taxonomy version."""
    key = (taxonomy.version, page.slug)
    cls = _FORMS.get(key)
    if cls is None:
        attrs: dict[str, Any] = {question.name: _field(question) for question in page.questions}
        attrs["Meta"] = _PartnerMeta
        cls = _FORMS[key] = type(f"Intake_{page.slug}_Form", (FlaskForm,), attrs)
    return cls


def stored_values(form: FlaskForm, page: IntakePageSpec) -> dict[str, str]:
    """What to keep of a submitted page: every answer as the partner typed or chose it,
    valid or not, so nothing they entered is lost. Only what the page asks is kept: a
    radio answer that is not one of its options is dropped, and text is cut at twice its
    allowed length (the error beside the field says to shorten it)."""
    values: dict[str, str] = {}
    for question in page.questions:
        field = form[question.name]
        if question.kind == "checkbox":
            values[question.name] = "y" if field.data else ""
        elif question.kind == "radio":
            raw = field.raw_data[0] if field.raw_data else ""
            allowed = {value for value, _ in question.choices}
            values[question.name] = raw if raw in allowed else ""
        else:
            data = field.data
            text = data if isinstance(data, str) else ""
            values[question.name] = text[: 2 * question.max_length]
    return values


def prefill(form: FlaskForm, page: IntakePageSpec, values: dict[str, str]) -> None:
    """Put saved answers back into a freshly built form for display."""
    for question in page.questions:
        if question.name not in values:
            continue
        value = values[question.name]
        field = form[question.name]
        field.data = bool(value) if question.kind == "checkbox" else value


def keep_unanswered(
    formdata: Mapping[str, str], page: IntakePageSpec, saved: Mapping[str, str]
) -> tuple[MultiDict[str, str], frozenset[str]]:
    """For a write-only page (see ``IntakePageSpec.write_only``): the posted answers, with
    every question left blank (or answered with something that is not one of its options)
    filled in from what was saved before, and the names so filled.

    The page is shown unanswered, so sending it back untouched must lose nothing: a new
    answer replaces the saved one, and a blank keeps it.
    """
    merged: MultiDict[str, str] = MultiDict(formdata)
    kept: set[str] = set()
    for question in page.questions:
        earlier = saved.get(question.name, "")
        if not earlier:
            continue
        posted = merged.get(question.name, "")
        if question.kind == "radio":
            blank = posted not in {value for value, _ in question.choices}
        else:
            blank = not clean_text(posted).strip()
        if blank:
            merged.setlist(question.name, [earlier])
            kept.add(question.name)
    return merged, frozenset(kept)


def conceal(form: FlaskForm, names: frozenset[str]) -> None:
    """Blank the fields ``keep_unanswered`` filled in from saved answers, before the form
    is drawn again: what was saved is never shown back; what was just typed still is."""
    for name in names:
        field = form[name]
        field.data = None if isinstance(field, RadioField) else ""
        field.raw_data = []


def all_forms(taxonomy: Taxonomy) -> dict[str, type[FlaskForm]]:
    return {page.slug: form_class(taxonomy, page) for page in pages_for(taxonomy)}
