"""The README's host example, taken from README.md itself, runs the clinic under /clinic
with the host's own users, login and database."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from reconnect_clinic import migrate
from reconnect_clinic.models import Couple, Therapist
from tests.helpers import TEST_KEYS, FreshContextClient, csrf_from

README = Path(__file__).resolve().parent.parent / "README.md"


def _example_source() -> str:
    text = README.read_text()
    match = re.search(
        r"<!-- host-example:start -->\s*```python\n(.*?)```\s*<!-- host-example:end -->",
        text,
        re.S,
    )
    assert match, "README.md lost its host example markers"
    return match.group(1)


@pytest.fixture
def host(tmp_path, databases, monkeypatch):
    path = tmp_path / "host_app.py"
    path.write_text(_example_source())
    spec = importlib.util.spec_from_file_location("host_app", path)
    assert spec
    assert spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules["host_app"] = module
    spec.loader.exec_module(module)
    url = databases.create()
    monkeypatch.setenv("CLINIC_KEY_2026A", TEST_KEYS["k1"])
    app = module.create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    app.test_client_class = FreshContextClient
    with app.app_context():
        module.db.create_all()  # the host's own tables, as the host creates them
        result = app.test_cli_runner().invoke(args=["clinic", "db-upgrade"])
        assert result.exit_code == 0, result.output
        for email, name, therapist in (
            ("alice@practice.example", "Alice", True),
            ("bob@practice.example", "Bob", True),
            ("carol@practice.example", "Carol", False),
        ):
            module.db.session.add(
                module.User(
                    email=email,
                    name=name,
                    password_hash=generate_password_hash("host-password"),
                    is_therapist=therapist,
                )
            )
        module.db.session.commit()
    yield app, module
    with app.app_context():
        module.db.session.remove()
        module.db.engine.dispose()
    sys.modules.pop("host_app", None)


def _host_login(client: FlaskClient, email: str) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": "host-password", "csrf_token": token}
    )
    assert response.status_code == 302, response.text


def _open_case(client: FlaskClient) -> str:
    token = csrf_from(client.get("/clinic/couples/new").text)
    response = client.post(
        "/clinic/couples/new",
        data={
            "csrf_token": token,
            "status": "active",
            "opened_on": "2026-11-01",
            "partner_a-first_name": "Ada",
            "partner_b-first_name": "Bea",
        },
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def test_host_user_uses_the_clinic_under_clinic(host):
    app, module = host
    client = app.test_client()
    # Not signed in: sent to the host's own login page.
    response = client.get("/clinic/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    _host_login(client, "alice@practice.example")
    dashboard = client.get("/clinic/")
    assert dashboard.status_code == 200
    assert "Harbour Street Counselling" in dashboard.text
    case_url = _open_case(client)
    assert "Ada &amp; Bea" in client.get(case_url).text
    with app.app_context():
        therapist = module.db.session.scalar(sa.select(Therapist))
        assert therapist.host_user_id == "1"
        assert therapist.password_hash is None  # the host owns passwords
        assert module.db.session.scalar(sa.select(sa.func.count()).select_from(Couple)) == 1
        # The host's own tables sit beside the clinic's, untouched.
        tables = set(sa.inspect(module.db.engine).get_table_names())
        assert "user" in tables
        assert "clinic_couple" in tables
        assert migrate.current_revision(module.db.engine) == migrate.head_revision()


def test_second_therapist_gets_404_and_non_therapist_is_refused(host):
    app, _ = host
    alice = app.test_client()
    _host_login(alice, "alice@practice.example")
    case_url = _open_case(alice)

    bob = app.test_client()
    _host_login(bob, "bob@practice.example")
    assert bob.get(case_url).status_code == 404
    assert "Ada" not in bob.get("/clinic/").text

    carol = app.test_client()
    _host_login(carol, "carol@practice.example")
    # Signed in, but not a therapist: told so (tests/test_host_trust.py), not sent round
    # to a login they have already passed.
    assert carol.get(case_url).status_code == 403


def test_standalone_login_routes_are_off_in_a_host(host):
    app, _ = host
    client = app.test_client()
    assert client.get("/clinic/login").status_code == 404


def test_clinic_does_not_hold_the_app(host):
    app, module = host
    assert not hasattr(module.clinic, "app")
    state = app.extensions["reconnect_clinic"]
    assert state.db is module.db
    assert not state.standalone_auth
