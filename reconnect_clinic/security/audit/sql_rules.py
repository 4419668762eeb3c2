"""The database rules that keep the audit log append-only, shared by the migration that
creates them and by tests that must set them aside to clean up."""

from __future__ import annotations

TABLE = "clinic_audit_event"

POSTGRESQL_CREATE = (
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{TABLE} is append-only: audit lines are never changed or removed';
    END
    $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()
    """,
)
POSTGRESQL_DROP = (
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
)

SQLITE_CREATE = (
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END
    """,
)
SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
)


def create_statements(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_CREATE if dialect == "postgresql" else SQLITE_CREATE


def drop_statements(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP
