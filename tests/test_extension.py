"""The extension's contract with a host app: init_app, config, state, templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy

from reconnect_clinic import ReconnectClinic, taxonomy
from reconnect_clinic.config import DEFAULTS
from reconnect_clinic.state import get_state
from tests.helpers import TEST_KEYS


def _host(tmp_path, **config) -> tuple[Flask, SQLAlchemy]:
    app = Flask("host", root_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
        RECONNECT_CLINIC_ENCRYPTION_KEYS=TEST_KEYS,
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
        **config,
    )
    db = SQLAlchemy(app)
    return app, db


def test_defaults_are_documented_and_applied(tmp_path):
    app, db = _host(tmp_path, RECONNECT_CLINIC_PRACTICE_NAME="Mine")
    ReconnectClinic().init_app(app, db=db)
    for key, value in DEFAULTS.items():
        assert key.startswith("RECONNECT_CLINIC_")
        if key not in (
            "RECONNECT_CLINIC_PRACTICE_NAME",
            "RECONNECT_CLINIC_ENCRYPTION_KEYS",
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID",
        ):
            assert app.config[key] == value
    assert app.config["RECONNECT_CLINIC_PRACTICE_NAME"] == "Mine"
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for key in DEFAULTS:
        assert f"`{key}`" in readme, f"{key} is not documented in README.md"


def test_state_lives_in_app_extensions(tmp_path):
    app, db = _host(tmp_path)
    clinic = ReconnectClinic()
    clinic.init_app(app, db=db)
    state = get_state(app)
    assert app.extensions["reconnect_clinic"] is state
    assert state.db is db
    assert state.taxonomy is taxonomy.load()
    assert state.standalone_auth
    assert not hasattr(clinic, "app")


def test_one_extension_object_serves_two_apps(tmp_path):
    clinic = ReconnectClinic()
    first, db1 = _host(tmp_path / "a")
    second, db2 = _host(tmp_path / "b", RECONNECT_CLINIC_URL_PREFIX="/therapy")
    clinic.init_app(first, db=db1)
    clinic.init_app(second, db=db2)
    assert get_state(first).db is db1
    assert get_state(second).db is db2
    assert first.test_client().get("/clinic/login").status_code == 200
    assert second.test_client().get("/therapy/login").status_code == 200
    assert second.test_client().get("/clinic/login").status_code == 404


def test_a_second_init_app_on_the_same_app_is_refused_before_touching_it(tmp_path):
    app, db = _host(tmp_path)
    ReconnectClinic().init_app(app, db=db)
    state = get_state(app)
    blueprints = dict(app.blueprints)
    login_manager = app.login_manager
    rules = sorted(rule.rule for rule in app.url_map.iter_rules())
    config = dict(app.config)
    with pytest.raises(RuntimeError, match="already initialised on this app"):
        ReconnectClinic().init_app(app, db=db)
    assert get_state(app) is state
    assert app.blueprints == blueprints
    assert app.login_manager is login_manager
    assert sorted(rule.rule for rule in app.url_map.iter_rules()) == rules
    assert dict(app.config) == config


def test_a_second_init_app_with_a_loader_is_refused_too(tmp_path):
    app, db = _host(tmp_path)
    clinic = ReconnectClinic()
    clinic.init_app(app, db=db, therapist_loader=lambda: None)
    state = get_state(app)
    with pytest.raises(RuntimeError, match="already initialised on this app"):
        clinic.init_app(app, db=db, therapist_loader=lambda: None)
    assert get_state(app) is state


def test_db_is_found_on_the_app_when_not_passed(tmp_path):
    app, db = _host(tmp_path)
    ReconnectClinic(app)
    assert get_state(app).db is db


def test_without_encryption_keys_start_up_says_what_to_do(tmp_path):
    app = Flask("nokeys", root_path=str(tmp_path))
    app.config.update(SECRET_KEY="x", SQLALCHEMY_DATABASE_URI="sqlite://")
    db = SQLAlchemy(app)
    with pytest.raises(ValueError, match="flask clinic new-key"):
        ReconnectClinic().init_app(app, db=db)
    app.config["RECONNECT_CLINIC_ENCRYPTION_KEYS"] = {"k": "short"}
    app.config["RECONNECT_CLINIC_ENCRYPTION_KEY_ID"] = "k"
    with pytest.raises(ValueError, match=r"not base64|32 bytes"):
        ReconnectClinic().init_app(app, db=db)


def test_without_sqlalchemy_init_app_says_what_is_missing(tmp_path):
    app = Flask("bare", root_path=str(tmp_path))
    with pytest.raises(RuntimeError, match="Flask-SQLAlchemy"):
        ReconnectClinic().init_app(app)


def test_bad_url_prefix_is_refused(tmp_path):
    app, db = _host(tmp_path, RECONNECT_CLINIC_URL_PREFIX="clinic")
    with pytest.raises(ValueError, match="must start with '/'"):
        ReconnectClinic().init_app(app, db=db)


def test_host_with_its_own_flask_login_must_pass_a_loader(tmp_path):
    app, db = _host(tmp_path)
    LoginManager(app)
    with pytest.raises(RuntimeError, match="therapist_loader"):
        ReconnectClinic().init_app(app, db=db)
    assert "reconnect_clinic" not in app.extensions
    ReconnectClinic().init_app(app, db=db, therapist_loader=lambda: None)


def test_broken_taxonomy_stops_start_up(tmp_path, monkeypatch):
    def broken():
        raise taxonomy.TaxonomyError("emotional_neglect.toml: link to unknown step 'nope'")

    monkeypatch.setattr(taxonomy, "load", broken)
    app, db = _host(tmp_path)
    with pytest.raises(taxonomy.TaxonomyError, match="nope"):
        ReconnectClinic().init_app(app, db=db)


def test_host_overrides_a_template(tmp_path):
    override = tmp_path / "templates" / "reconnect_clinic"
    override.mkdir(parents=True)
    (override / "login.html").write_text("host's own login page")
    app, db = _host(tmp_path)
    ReconnectClinic().init_app(app, db=db)
    assert app.test_client().get("/clinic/login").text == "host's own login page"


def test_host_base_template(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "practice.html").write_text(
        "<html><head>{% block head %}{% endblock %}<title>{% block title %}{% endblock %}"
        "</title></head><body><nav>PRACTICE NAV</nav>{% block content %}{% endblock %}</body>"
        "</html>"
    )
    app, db = _host(tmp_path, RECONNECT_CLINIC_BASE_TEMPLATE="practice.html")
    ReconnectClinic().init_app(app, db=db)
    page = app.test_client().get("/clinic/login").text
    assert "PRACTICE NAV" in page
    assert "Sign in" in page
    assert "/clinic/static/clinic.css" in page


def test_stylesheet_is_served(tmp_path):
    app, db = _host(tmp_path)
    ReconnectClinic().init_app(app, db=db)
    response = app.test_client().get("/clinic/static/clinic.css")
    assert response.status_code == 200
    assert b"max-width" in response.data
