"""The plugin's Alembic migrations: they build exactly the models' schema, undo cleanly,
and never touch a host's own tables or its own Alembic history.

Each test gets a fresh, empty database from the ``databases`` fixture (SQLite by default,
PostgreSQL when ``RECONNECT_CLINIC_TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.models import TABLE_PREFIX, metadata
from tests import sealed_scenario

# The sealing migration's own list of what it seals (its module name starts with a digit).
SEALING = importlib.import_module("reconnect_clinic.migrations.versions.0010_seal_clinical_values")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """The same filter as ``migrations/env.py`` (which cannot be imported: it runs on import)."""
    if type_ == "table":
        return name in metadata.tables
    return True


def schema_diff(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "target_metadata": metadata,
                "version_table": migrate.VERSION_TABLE,
                "include_name": include_name,
                "compare_type": True,
            },
        )
        return compare_metadata(context, metadata)


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _trigger_names(engine: Engine) -> list[str]:
    query = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    with engine.connect() as connection:
        return sorted(row[0] for row in connection.exec_driver_sql(query))


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Tables with their columns, keys, indexes and constraints, comparable with ``==``."""
    inspector = sa.inspect(engine)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            # Sorted: a column re-added by a downgrade lands at the end on PostgreSQL, and
            # column order carries no meaning here.
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)
            ),
            "uniques": sorted(
                (uq["name"] or "", tuple(uq["column_names"]))
                for uq in inspector.get_unique_constraints(table)
            ),
            # With their text: a migration may change only what a constraint allows.
            "checks": sorted(
                (ck["name"] or "", " ".join(str(ck["sqltext"]).split()))
                for ck in inspector.get_check_constraints(table)
            ),
        }
    snapshot["__triggers__"] = _trigger_names(engine)
    return snapshot


def version_rows(engine: Engine, table: str) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(sa.text(f"SELECT version_num FROM {table}"))]


@pytest.fixture
def engine(databases: Any) -> Iterator[Engine]:
    """An engine on a fresh, empty database, disposed afterwards."""
    engine = sa.create_engine(databases.create())
    yield engine
    engine.dispose()


def test_upgrade_to_head_matches_the_models(engine: Engine) -> None:
    assert table_names(engine) == set(), "the database handed out is not empty"
    assert migrate.current_revision(engine) is None

    migrate.upgrade(engine)

    diff = schema_diff(engine)
    assert diff == [], "migrations and models disagree:\n" + "\n".join(map(repr, diff))
    assert migrate.head_revision() is not None
    assert migrate.current_revision(engine) == migrate.head_revision()

    names = table_names(engine)
    assert migrate.VERSION_TABLE == "clinic_alembic_version"
    assert "clinic_alembic_version" in names
    assert "alembic_version" not in names
    assert version_rows(engine, "clinic_alembic_version") == [migrate.head_revision()]
    assert names == set(metadata.tables) | {migrate.VERSION_TABLE}
    assert all(name.startswith(TABLE_PREFIX) for name in names)


def test_downgrade_to_base_removes_every_clinic_table(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")

    # Alembic keeps its version table at base and only deletes the row.
    assert table_names(engine) == {migrate.VERSION_TABLE}
    assert version_rows(engine, migrate.VERSION_TABLE) == []
    assert migrate.current_revision(engine) is None


def test_host_tables_and_host_alembic_history_are_untouched(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE host_user (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL)")
        )
        connection.execute(sa.text("INSERT INTO host_user (id, email) VALUES (1, 'host@x.test')"))
        connection.execute(
            sa.text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        connection.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('hostrev')"))
    host_before = {
        name: table
        for name, table in schema_snapshot(engine).items()
        if name in {"host_user", "alembic_version"}
    }

    def host_rows() -> list[tuple[Any, ...]]:
        with engine.connect() as connection:
            return [
                tuple(r) for r in connection.execute(sa.text("SELECT id, email FROM host_user"))
            ]

    migrate.upgrade(engine)

    assert version_rows(engine, "alembic_version") == ["hostrev"]
    assert migrate.current_revision(engine) == migrate.head_revision()
    diff = schema_diff(engine)
    assert not any("host_user" in repr(entry) for entry in diff), diff
    assert diff == [], "\n".join(map(repr, diff))

    migrate.downgrade(engine, "base")

    assert table_names(engine) == {"host_user", "alembic_version", migrate.VERSION_TABLE}
    assert version_rows(engine, "alembic_version") == ["hostrev"]
    assert host_rows() == [(1, "host@x.test")]
    host_after = {
        name: table for name, table in schema_snapshot(engine).items() if name in host_before
    }
    assert host_after == host_before


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    migrate.upgrade(engine)
    before = schema_snapshot(engine)

    migrate.upgrade(engine)

    assert schema_snapshot(engine) == before
    assert version_rows(engine, migrate.VERSION_TABLE) == [migrate.head_revision()]
    assert schema_diff(engine) == []


def test_every_revision_downgrades_to_where_it_started(engine: Engine) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(reversed(list(script.walk_revisions("base", "heads"))))  # base first
    assert revisions, "no migration scripts found"
    # A plugin's history stays linear: head_revision() and `db-upgrade` assume one head.
    assert len(script.get_heads()) == 1, script.get_heads()
    assert all(not isinstance(r.down_revision, tuple) for r in revisions), "merge revision"

    for revision in revisions:
        down_to = revision.down_revision or "base"
        assert callable(getattr(revision.module, "downgrade", None)), revision.revision
        before = schema_snapshot(engine)

        migrate.upgrade(engine, revision.revision)
        assert migrate.current_revision(engine) == revision.revision
        assert schema_snapshot(engine) != before, f"{revision.revision} changed nothing"

        migrate.downgrade(engine, down_to)
        assert migrate.current_revision(engine) == revision.down_revision
        after = schema_snapshot(engine)
        # The first upgrade creates the (empty) version table, which base keeps.
        after.pop(migrate.VERSION_TABLE, None)
        before.pop(migrate.VERSION_TABLE, None)
        assert after == before, f"downgrade of {revision.revision} did not undo its upgrade"

        migrate.upgrade(engine, revision.revision)

    assert migrate.current_revision(engine) == migrate.head_revision()
    assert schema_diff(engine) == []


def test_failed_upgrade_leaves_no_partial_schema(engine: Engine) -> None:
    """``migrate.upgrade`` promises one transaction: a migration that fails half-way must
    leave the database as it was, so ``db-upgrade`` can simply be run again once fixed."""
    # A table in the way of a later create_table makes the initial migration fail midway.
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE clinic_partner (x INTEGER)"))

    with pytest.raises(sa.exc.DBAPIError):
        migrate.upgrade(engine)

    assert table_names(engine) == {"clinic_partner"}
    assert migrate.current_revision(engine) is None


def test_cli_db_upgrade_on_the_demo_app(databases: Any, tmp_path: Path) -> None:
    url = databases.create()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True},
        instance_path=str(tmp_path / "instance"),
    )
    try:
        result = app.test_cli_runner().invoke(args=["clinic", "db-upgrade"])
        assert result.exit_code == 0, (result.output, result.exception)
        head = migrate.head_revision()
        assert head is not None
        assert f"at revision {head}" in result.output, result.output
        assert "were at nothing" in result.output, result.output

        with app.app_context():
            engine = demo_db.engine
            assert set(metadata.tables) <= table_names(engine)
            assert migrate.current_revision(engine) == head
            assert schema_diff(engine) == []

        again = app.test_cli_runner().invoke(args=["clinic", "db-upgrade"])
        assert again.exit_code == 0, (again.output, again.exception)
        assert f"were at {head}" in again.output, again.output
    finally:
        with app.app_context():
            for engine in demo_db.engines.values():
                engine.dispose()


def _vacuum(url: str) -> None:
    """The step the README documents after sealing a database that holds data: the space
    that held the plaintext is rewritten (SQLite) or given back (PostgreSQL)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("VACUUM")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                for table in SEALING.FIELDS:
                    connection.exec_driver_sql(f"VACUUM FULL {table}")
    finally:
        engine.dispose()


SEALED_BY_0010 = {(table, field[0]) for table, fields in SEALING.FIELDS.items() for field in fields}


def _sealed_by_0010(values: dict[tuple[str, str, str], Any]) -> dict[tuple[str, str, str], Any]:
    """The values of the columns 0010 seals (each such attribute has its column's name)."""
    return {key: value for key, value in values.items() if (key[0], key[2]) in SEALED_BY_0010}


def _raw(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql)).scalars())


def test_sealing_migration_seals_stored_values_and_opens_them_again(
    databases: Any, tmp_path: Path
) -> None:
    """0010 with data: its downgrade puts the values back in clear as 0009 kept them, and
    its upgrade seals them again, leaving no plaintext after the documented steps."""
    with sealed_scenario.practice_app(databases, tmp_path) as (app, url):
        sealed_scenario.realistic_practice(app)
        before = sealed_scenario.clinical_values()
        # The scenario gives every column 0010 seals a value.
        assert {(key[0], key[2]) for key in _sealed_by_0010(before)} == SEALED_BY_0010
        results = sealed_scenario.measure_results()
        demo_db.session.remove()
        for bound in demo_db.engines.values():
            bound.dispose()
        engine = sa.create_engine(url)
        try:
            migrate.downgrade(engine, "0009_session_generation")
            # As 0009 kept them: in clear, in their own types.
            assert sorted(_raw(engine, "SELECT consent_name FROM clinic_intake_response")) == (
                sorted(sealed_scenario.SIGNATURES.values())
            )
            pdfs = _raw(engine, "SELECT pdf FROM clinic_stored_report")
            assert [bytes(pdf)[:5] for pdf in pdfs] == [b"%PDF-", b"%PDF-"]
            assert 4 in _raw(engine, "SELECT helpfulness FROM clinic_homework_check_in")
            clear = sealed_scenario.leaks(sealed_scenario.raw_dump(url), results)
            assert clear["signatures"] != []  # the dump does show what is in clear
            assert clear["item lists"] != []

            migrate.upgrade(engine)
            _vacuum(url)
            leaks = sealed_scenario.leaks(sealed_scenario.raw_dump(url), results)
            assert leaks["markers"] == []
            assert leaks["signatures"] == []
            assert leaks["flags"] == []
            assert leaks["item lists"] == []
            assert leaks["item patterns"] == []
            assert leaks["bands"] == []
            assert leaks["pdf"] == []
            assert schema_diff(engine) == []
        finally:
            engine.dispose()
        # The product reads every value 0010 seals as it was written.
        assert _sealed_by_0010(sealed_scenario.clinical_values()) == _sealed_by_0010(before)


def test_sealing_migration_needs_the_apps_keys_only_for_data(databases: Any) -> None:
    engine = sa.create_engine(databases.create())
    try:
        migrate.upgrade(engine, "0010_seal_clinical_values")  # empty: no keys needed
        migrate.downgrade(engine, "0009_session_generation")
        therapist, now = uuid.uuid4().hex, datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO clinic_therapist (id, email, display_name, is_admin, active, "
                    "session_generation, created_at, updated_at) "
                    "VALUES (:id, 'a@x.test', 'A', :no, :yes, 0, :now, :now)"
                ),
                {"id": therapist, "no": False, "yes": True, "now": now},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO clinic_custom_exercise (id, therapist_id, step, title, "
                    "purpose, mode, frequency, times_per_week, duration_minutes, "
                    "instructions, reflection_prompts, therapist_note, created_at, "
                    "updated_at) VALUES (:id, :therapist, 'improve_communication', "
                    "'Mine', 'Why', 'individual', 'once', 0, 5, '[\"a\"]', '[]', '', "
                    ":now, :now)"
                ),
                {"id": uuid.uuid4().hex, "therapist": therapist, "now": now},
            )
        # With a value to seal and no app (so no keys), it stops and says how to run it,
        # leaving the database as it was.
        with pytest.raises(RuntimeError, match="flask clinic db-upgrade"):
            migrate.upgrade(engine)
        assert migrate.current_revision(engine) == "0009_session_generation"
        assert _raw(engine, "SELECT title FROM clinic_custom_exercise") == ["Mine"]
    finally:
        engine.dispose()
