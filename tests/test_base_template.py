"""A host's base template (RECONNECT_CLINIC_BASE_TEMPLATE) is checked for the blocks the
clinic's pages fill (title, head, content): at init_app when it can be loaded then, else
at the first clinic request. Without the check, a base lacking ``head`` serves every
clinic page without its stylesheet and script, and no one is told."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint, Flask
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader, Environment, nodes

from reconnect_clinic import ReconnectClinic
from reconnect_clinic.base_template import (
    REQUIRED_BLOCKS,
    BaseTemplateError,
    missing_blocks,
    rendered_blocks,
)
from reconnect_clinic.blueprint import TEMPLATE_FOLDER
from tests.helpers import TEST_KEYS

COMPLETE = (
    "<html><head><title>{% block title %}{% endblock %}</title>{% block head %}{% endblock %}"
    "</head><body>{% block content %}{% endblock %}</body></html>"
)
NO_HEAD = (
    "<html><head><title>{% block title %}{% endblock %}</title></head>"
    "<body>{% block content %}{% endblock %}</body></html>"
)


def _host(tmp_path: Path, templates: dict[str, str], base: str) -> tuple[Flask, SQLAlchemy]:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text)
    app = Flask("host", root_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
        RECONNECT_CLINIC_ENCRYPTION_KEYS=TEST_KEYS,
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
        RECONNECT_CLINIC_BASE_TEMPLATE=base,
    )
    return app, SQLAlchemy(app)


def _env(**templates: str) -> Environment:
    return Environment(loader=DictLoader(templates), autoescape=True)


# At init_app.


def test_a_base_without_head_stops_init_app(tmp_path):
    app, db = _host(tmp_path, {"practice.html": NO_HEAD}, "practice.html")
    with pytest.raises(BaseTemplateError):
        ReconnectClinic().init_app(app, db=db)


def test_the_error_names_the_missing_block(tmp_path):
    app, db = _host(tmp_path, {"practice.html": NO_HEAD}, "practice.html")
    with pytest.raises(BaseTemplateError) as raised:
        ReconnectClinic().init_app(app, db=db)
    assert "'practice.html' does not render the block(s) head:" in str(raised.value)


def test_the_error_says_what_to_add(tmp_path):
    app, db = _host(tmp_path, {"practice.html": NO_HEAD}, "practice.html")
    with pytest.raises(BaseTemplateError) as raised:
        ReconnectClinic().init_app(app, db=db)
    assert "Add {% block head %}{% endblock %}" in str(raised.value)


def test_a_complete_base_passes_init_app(tmp_path):
    app, db = _host(tmp_path, {"practice.html": COMPLETE}, "practice.html")
    ReconnectClinic().init_app(app, db=db)
    assert "/clinic/static/clinic.css" in app.test_client().get("/clinic/login").text


# At the first clinic request, for a base init_app cannot load yet.


def _late_blueprint_host(tmp_path: Path, text: str) -> Flask:
    """A host whose base template comes from a blueprint registered after init_app."""
    app, db = _host(tmp_path, {}, "site/layout.html")
    ReconnectClinic().init_app(app, db=db)
    folder = tmp_path / "site_templates" / "site"
    folder.mkdir(parents=True)
    (folder / "layout.html").write_text(text)
    site = Blueprint("site", __name__, template_folder=str(folder.parent))

    @site.get("/")
    def home() -> str:
        return "host home"

    app.register_blueprint(site)
    app.config["TESTING"] = True
    return app


def test_a_late_base_without_head_fails_the_first_clinic_request(tmp_path):
    client = _late_blueprint_host(tmp_path, NO_HEAD).test_client()
    with pytest.raises(BaseTemplateError):
        client.get("/clinic/login")


def test_a_late_base_without_head_leaves_the_hosts_pages_alone(tmp_path):
    client = _late_blueprint_host(tmp_path, NO_HEAD).test_client()
    assert client.get("/").text == "host home"


def test_a_late_complete_base_serves_the_clinics_pages(tmp_path):
    client = _late_blueprint_host(tmp_path, COMPLETE).test_client()
    assert "/clinic/static/clinic.css" in client.get("/clinic/login").text


# What counts as rendered.


def test_the_clinics_own_base_renders_every_required_block():
    env = Flask("x", template_folder=TEMPLATE_FOLDER).jinja_env
    assert missing_blocks(env, "reconnect_clinic/base.html") == []


def test_missing_blocks_are_listed_in_order():
    env = _env(base="<html>{% block content %}{% endblock %}</html>")
    assert missing_blocks(env, "base") == ["title", "head"]


def test_blocks_of_the_template_extended_count():
    env = _env(root=COMPLETE, base="{% extends 'root' %}{% block content %}x{% endblock %}")
    assert missing_blocks(env, "base") == []


def test_a_block_the_extended_template_never_renders_does_not_count():
    # Jinja drops a child's block that its parent does not have.
    env = _env(root=NO_HEAD, base="{% extends 'root' %}{% block head %}<meta>{% endblock %}")
    assert missing_blocks(env, "base") == ["head"]


def test_a_block_inside_a_rendered_block_counts():
    env = _env(
        base="{% block page %}<title>{% block title %}{% endblock %}</title>"
        "{% block head %}{% endblock %}{% block content %}{% endblock %}{% endblock %}"
    )
    assert missing_blocks(env, "base") == []


def test_a_block_a_child_adds_inside_a_rendered_block_counts():
    env = _env(
        root="{% block title %}{% endblock %}{% block body %}{% endblock %}",
        base="{% extends 'root' %}{% block body %}{% block head %}{% endblock %}"
        "{% block content %}{% endblock %}{% endblock %}",
    )
    assert missing_blocks(env, "base") == []


def test_a_base_extending_a_template_chosen_at_run_time_is_not_judged():
    env = _env(base="{% extends layout %}")
    assert rendered_blocks(env, "base") is None


def test_the_required_blocks_are_those_the_clinics_layout_fills():
    layout = Path(TEMPLATE_FOLDER, "reconnect_clinic", "_layout.html").read_text()
    tree = Environment(autoescape=True).parse(layout)
    top = {block.name for block in tree.body if isinstance(block, nodes.Block)}
    assert top == set(REQUIRED_BLOCKS)
