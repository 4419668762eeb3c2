"""``flask clinic ...`` commands."""

from __future__ import annotations

import sqlalchemy as sa

from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from reconnect_clinic.models import Couple, Therapist
from reconnect_clinic.security.accounts.passwords import verify_password
from reconnect_clinic.state import db_session


def _run(cli, *args, input=None):
    return cli.invoke(args=["clinic", *args], input=input)


def test_create_therapist(cli):
    result = _run(
        cli,
        "create-therapist",
        "--email",
        " New@Example.org ",
        "--name",
        "Dr New",
        input="a good long passphrase\na good long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    therapist = db_session().scalar(sa.select(Therapist))
    assert therapist.email == "new@example.org"
    assert verify_password(therapist.password_hash, "a good long passphrase")
    assert not therapist.is_admin


def test_create_therapist_refuses_duplicates_and_short_passwords(cli, make):
    make.therapist(email="taken@example.org")
    result = _run(
        cli,
        "create-therapist",
        "--email",
        "taken@example.org",
        "--name",
        "X",
        "--password",
        "long enough password",
    )
    assert result.exit_code == 1
    assert "already exists" in result.output
    result = _run(
        cli,
        "create-therapist",
        "--email",
        "short@example.org",
        "--name",
        "X",
        "--password",
        "short",
    )
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Therapist)) == 1


def test_seed_demo_is_idempotent_and_prints_the_login(cli):
    first = _run(cli, "seed-demo")
    assert first.exit_code == 0, first.output
    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in first.output
    second = _run(cli, "seed-demo")
    assert "already present" in second.output
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Couple)) == 2


def test_db_upgrade_on_a_current_database_is_a_no_op(cli):
    result = _run(cli, "db-upgrade")
    assert result.exit_code == 0, result.output
    assert "at revision" in result.output
