"""Every stored clinical value sealed: the stored PDFs of signed reports, intake scores
and flags, consent signatures, measures' totals, bands, flags and item points, homework
as given (title, content, a suggestion's reason), check-ins' helpfulness, and therapists'
own exercises (see security/encryption/cipher.py; what stays in clear is models/at_rest.py).

Columns holding JSON, numbers or short strings become text columns holding sealed values
(a PDF stays binary, sealed as a whole); a check-in's helpfulness loses its range check,
which the check-in form keeps. As in 0006, the values already stored are sealed with the
app's current key by the upgrade (and opened again by the downgrade), so with data in the
database the migration needs the app's keys: run it with `flask clinic db-upgrade`. An
empty database migrates without them.

The plaintext it replaces is not gone from the database's files yet: SQLite keeps the
old pages in its free space and write-ahead log, PostgreSQL the old row versions until
vacuumed. So after upgrading a database that holds data (README, "Upgrading"), with the
app stopped: on SQLite ``VACUUM`` then ``PRAGMA wal_checkpoint(TRUNCATE)``; on PostgreSQL
``VACUUM FULL`` of each table named in FIELDS (tests/test_migrations.py runs these steps
and greps the files, or pg_dump, for what was in clear). Backups taken before the upgrade
still hold the plaintext.

Revision ID: 0010_seal_clinical_values
Revises: 0009_session_generation
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010_seal_clinical_values"
down_revision = "0009_session_generation"
branch_labels = None
depends_on = None

TEXT, JSON, BYTES = "text", "json", "bytes"

# table -> (column, how its value is sealed, its type before, nullable)
FIELDS: dict[str, tuple[tuple[str, str, Any, bool], ...]] = {
    "clinic_intake_response": (
        ("consent_name", TEXT, sa.String(length=200), True),
        ("scores", JSON, sa.JSON(), True),
    ),
    "clinic_measure_result": (
        ("total", JSON, sa.Integer(), False),
        ("band", TEXT, sa.String(length=40), False),
        ("flags", JSON, sa.JSON(), False),
        ("item_points", JSON, sa.JSON(), False),
    ),
    "clinic_stored_report": (("pdf", BYTES, sa.LargeBinary(), False),),
    "clinic_homework_assignment": (
        ("title", TEXT, sa.String(length=200), False),
        ("content", JSON, sa.JSON(), False),
        ("suggestion_reason", TEXT, sa.Text(), True),
    ),
    "clinic_homework_check_in": (("helpfulness", JSON, sa.Integer(), True),),
    "clinic_custom_exercise": (
        ("title", TEXT, sa.String(length=200), False),
        ("purpose", TEXT, sa.Text(), False),
        ("instructions", JSON, sa.JSON(), False),
        ("reflection_prompts", JSON, sa.JSON(), False),
        ("therapist_note", TEXT, sa.Text(), False),
    ),
}
HELPFULNESS_TABLE = "clinic_homework_check_in"
HELPFULNESS_RANGE = "ck_clinic_homework_check_in_helpfulness_range"
# Rows read at a time (PDFs are large: fewer of them).
BATCH = {TEXT: 500, JSON: 500, BYTES: 20}


def _cipher() -> Any:
    """The app's cipher, asked for only when there is a stored value to change."""
    from flask import current_app, has_app_context

    if not has_app_context():
        raise RuntimeError(
            "0010_seal_clinical_values seals the clinical values already stored, with the "
            "app's encryption keys: run it with `flask clinic db-upgrade`"
        )
    return current_app.extensions["reconnect_clinic"].cipher


def _row_uuid(row_id: Any) -> uuid.UUID:
    return row_id if isinstance(row_id, uuid.UUID) else uuid.UUID(str(row_id))


def _rewrite(table: str, column: str, kind: str, change: Callable[..., Any]) -> None:
    """Replace every stored value of ``table.column`` by ``change(cipher, place, value,
    kind)``, a batch of rows at a time (in key order, so each row is read once)."""
    connection = op.get_bind()
    select = f'SELECT id, "{column}" FROM {table} WHERE "{column}" IS NOT NULL'
    first = sa.text(f"{select} ORDER BY id LIMIT :size")
    after = sa.text(f"{select} AND id > :last ORDER BY id LIMIT :size")
    update = sa.text(f'UPDATE {table} SET "{column}" = :value WHERE id = :id')
    last = None
    while True:
        query, parameters = (first, {}) if last is None else (after, {"last": last})
        rows = connection.execute(query, {**parameters, "size": BATCH[kind]}).all()
        if not rows:
            return
        cipher = _cipher()
        for row_id, value in rows:
            place = {"table": table, "column": column, "row_id": _row_uuid(row_id)}
            connection.execute(update, {"value": change(cipher, place, value, kind), "id": row_id})
        last = rows[-1][0]


def _seal(cipher: Any, place: dict[str, Any], value: Any, kind: str) -> Any:
    if kind == BYTES:
        return cipher.seal_bytes(bytes(value), **place)
    if kind == JSON:
        # The app seals json.dumps(value, sort_keys=True): the same text here. A number
        # comes through its new text column as text, JSON as its text.
        parsed = json.loads(value) if isinstance(value, str) else value
        return cipher.seal(json.dumps(parsed, sort_keys=True), **place)
    return cipher.seal(value, **place)


def _open(cipher: Any, place: dict[str, Any], value: Any, kind: str) -> Any:
    if kind == BYTES:
        return cipher.open_bytes(bytes(value), **place)
    return cipher.open(value, **place)


def _using(column: str, old_type: Any, *, back: bool) -> str:
    """PostgreSQL's cast for the change of type (ignored by SQLite's batch copy)."""
    if not back:
        return f'"{column}"::text'
    if isinstance(old_type, sa.JSON):
        return f'"{column}"::json'
    if isinstance(old_type, sa.Integer):
        return f'"{column}"::integer'
    return f'"{column}"'


def _changes_type(old_type: Any) -> bool:
    return not isinstance(old_type, sa.Text | sa.LargeBinary)


def upgrade() -> None:
    for table, fields in FIELDS.items():
        retyped = [field for field in fields if _changes_type(field[2])]
        if retyped or table == HELPFULNESS_TABLE:
            with op.batch_alter_table(table) as batch_op:
                if table == HELPFULNESS_TABLE:
                    batch_op.drop_constraint(op.f(HELPFULNESS_RANGE), type_="check")
                for column, _, old_type, nullable in retyped:
                    batch_op.alter_column(
                        column,
                        existing_type=old_type,
                        type_=sa.Text(),
                        existing_nullable=nullable,
                        postgresql_using=_using(column, old_type, back=False),
                    )
        for column, kind, _, _ in fields:
            _rewrite(table, column, kind, _seal)


def downgrade() -> None:
    for table, fields in FIELDS.items():
        for column, kind, _, _ in fields:
            _rewrite(table, column, kind, _open)
        retyped = [field for field in fields if _changes_type(field[2])]
        if retyped or table == HELPFULNESS_TABLE:
            with op.batch_alter_table(table) as batch_op:
                for column, _, old_type, nullable in retyped:
                    batch_op.alter_column(
                        column,
                        existing_type=sa.Text(),
                        type_=old_type,
                        existing_nullable=nullable,
                        postgresql_using=_using(column, old_type, back=True),
                    )
                if table == HELPFULNESS_TABLE:
                    batch_op.create_check_constraint(
                        op.f(HELPFULNESS_RANGE),
                        "helpfulness IS NULL OR helpfulness BETWEEN 1 AND 5",
                    )
