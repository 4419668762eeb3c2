"""The standalone demo: a SQLite file in WAL mode, seeded, with its own login."""

from __future__ import annotations

import re

from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from tests.conftest import FreshContextClient, login


def test_demo_from_scratch(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONNECT_CLINIC_DEMO_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path))
    app.test_client_class = FreshContextClient
    runner = app.test_cli_runner()
    assert runner.invoke(args=["clinic", "db-upgrade"]).exit_code == 0
    seeded = runner.invoke(args=["clinic", "seed-demo"])
    assert DEMO_EMAIL in seeded.output and DEMO_PASSWORD in seeded.output

    with app.app_context():
        with demo_db.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            fks = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert mode == "wal"
        assert fks == 1

    client = app.test_client()
    assert client.get("/").headers["Location"].endswith("/clinic/")
    assert "Sign in" in client.get("/clinic/login").text
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
    dashboard = client.get("/clinic/").text
    assert "Rivera–Chen" in dashboard
    assert "Adeyemi" in dashboard
    rivera = re.search(r'href="(/clinic/couples/[0-9a-f-]{36})">Rivera–Chen<', dashboard)
    assert rivera, dashboard
    page = client.get(rivera.group(1)).text
    assert "Signs and causes, side by side" in page
    assert "Where you see things most differently" in page
    assert "Feeling Invisible" in page
    assert "We skipped the phones tonight. It helped." in page  # a shared reflection
    assert "Both checked in" in page
    with app.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


def test_demo_secret_key_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONNECT_CLINIC_DEMO_SECRET_KEY", raising=False)
    from reconnect_clinic.demo import _secret_key

    first = _secret_key(tmp_path)
    assert len(first) > 40
    assert _secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
