"""Thin views: the couple a therapist's view acts on is loaded and authorized by one
decorator, and a partner's page that cannot be shown ends the request itself, so no
view checks what it got back."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException, NotFound

import reconnect_clinic
from reconnect_clinic import blueprint
from reconnect_clinic.blueprint import with_couple
from reconnect_clinic.models import LinkPurpose
from reconnect_clinic.security.links.views import link_problem, partner_context, posted_context
from tests import factories

PACKAGE_DIR = Path(reconnect_clinic.__file__).parent


# The views modules whose openings the decorator replaced (issue #16). Others may adopt
# it as they go; add them here when they do.
CONVERTED = (
    "cases/views.py",
    "fhir/views.py",
    "homework/views.py",
    "homework/partner_views.py",
    "intake/views.py",
    "measures/views.py",
    "notes/views.py",
    "ratings/views.py",
    "reports/views.py",
    "risk/views.py",
    "security/accounts/views.py",
    "security/links/views.py",
)


def _views_modules() -> list[Path]:
    return [PACKAGE_DIR / name for name in CONVERTED]


def _route_views(path: Path) -> list[ast.FunctionDef]:
    """The functions of ``path`` decorated as routes (``@<something>.route(...)``)."""
    return [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "route"
            for d in node.decorator_list
        )
    ]


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    return [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and ast.unparse(call.func).rpartition(".")[2] == name
    ]


def _echo(therapist: Any, couple: Any, **rest: Any) -> tuple[Any, Any, dict[str, Any]]:
    return therapist, couple, rest


def test_with_couple_gives_the_view_the_therapist_and_their_couple(app, monkeypatch):
    owner = factories.therapist()
    case = factories.couple(owner)
    monkeypatch.setattr(blueprint, "signed_in_therapist", lambda: owner)
    therapist, couple, rest = with_couple(_echo)(couple_id=case.id, session_id="s")
    assert therapist is owner
    assert couple.id == case.id
    assert rest == {"session_id": "s"}


def test_with_couple_answers_404_for_another_therapists_couple(app, monkeypatch):
    case = factories.couple(factories.therapist())
    other = factories.therapist()
    monkeypatch.setattr(blueprint, "signed_in_therapist", lambda: other)
    with pytest.raises(NotFound):
        with_couple(_echo)(couple_id=case.id)


def test_with_couple_answers_404_for_a_couple_that_does_not_exist(app, monkeypatch):
    owner = factories.therapist()
    monkeypatch.setattr(blueprint, "signed_in_therapist", lambda: owner)
    with pytest.raises(NotFound):
        with_couple(_echo)(couple_id=uuid.uuid4())


def test_a_page_without_its_link_ends_with_the_link_problem_page(app: Flask):
    link_id = uuid.uuid4()
    with app.test_request_context(f"/clinic/homework/{link_id}/"):
        expected = link_problem("unknown")
        with pytest.raises(HTTPException) as raised:
            partner_context(LinkPurpose.HOMEWORK.value, link_id)
    response = raised.value.get_response()
    assert response.status_code == 404
    assert response.get_data() == expected.get_data()


def test_a_post_without_its_link_ends_with_the_link_problem_page(app: Flask):
    link_id = uuid.uuid4()
    path = f"/clinic/homework/{link_id}/{uuid.uuid4()}/check-in"
    with app.test_request_context(path, method="POST", data={}):
        expected = link_problem("unknown")
        with pytest.raises(HTTPException) as raised:
            posted_context(LinkPurpose.HOMEWORK.value, link_id)
    response = raised.value.get_response()
    assert response.status_code == 404
    assert response.get_data() == expected.get_data()


def test_the_walk_finds_the_route_views():
    assert len(_route_views(PACKAGE_DIR / "cases/views.py")) >= 5


def test_no_view_opens_with_the_couple_lookup_by_hand():
    # with_couple does it, for every view of a couple's address.
    offenders = [
        f"{path.relative_to(PACKAGE_DIR)}:{view.name}"
        for path in _views_modules()
        for view in _route_views(path)
        if _calls(view, "couple_or_404") or _calls(view, "partner_or_404")
    ]
    assert offenders == []


def test_no_view_checks_for_a_response_in_place_of_its_link():
    offenders = [
        f"{path.relative_to(PACKAGE_DIR)}:{call.lineno}"
        for path in _views_modules()
        for call in _calls(ast.parse(path.read_text(encoding="utf-8")), "isinstance")
        if ast.unparse(call.args[1]) == "Response"
    ]
    assert offenders == []


def test_the_partners_homework_pages_live_apart_from_the_therapists(app: Flask):
    partner_module = "reconnect_clinic.homework.partner_views"
    for endpoint in ("homework_mine", "homework_check_in", "homework_calendar"):
        view = app.view_functions[f"reconnect_clinic.{endpoint}"]
        assert view.__module__ == partner_module, endpoint
    assert app.view_functions["reconnect_clinic.homework_assign"].__module__ == (
        "reconnect_clinic.homework.views"
    )


def test_the_intake_summary_loads_only_what_it_shows(app, client, make, monkeypatch):
    """The summary needs the intake, not the progress report's charts, homework and
    sessions: building the whole report to use one part of it is gone."""
    from reconnect_clinic.reports import service
    from tests.helpers import login

    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the intake summary built the whole progress report")

    monkeypatch.setattr(service, "load_progress_report", refuse)
    response = client.get(f"/clinic/couples/{couple.id}/intake-summary")
    assert response.status_code == 200
    assert "Intake summary" in response.text
