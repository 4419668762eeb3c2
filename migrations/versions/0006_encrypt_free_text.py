"""Free text encrypted at rest: note content, addenda, intake answers, reflections and
therapists' homework notes become sealed text columns (see security/encryption/cipher.py).

Existing values are sealed with the app's current key as part of the upgrade (and opened
again by the downgrade), so the migration needs the app's configuration when there is
data: run it with `flask clinic db-upgrade`.

Revision ID: 0006_encrypt_free_text
Revises: 0005_audit_append_only
Create Date: 2026-11-26
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_encrypt_free_text"
down_revision = "0005_audit_append_only"
branch_labels = None
depends_on = None

# (table, column, was JSON)
FIELDS = (
    ("clinic_session_note", "content", True),
    ("clinic_intake_page", "values", True),
    ("clinic_note_addendum", "body", False),
    ("clinic_homework_check_in", "reflection", False),
    ("clinic_homework_assignment", "therapist_note", False),
)


def _cipher():
    from flask import current_app

    return current_app.extensions["reconnect_clinic"].cipher


def _rewrite(table, column, change):
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(f'SELECT id, "{column}" FROM {table} WHERE "{column}" IS NOT NULL')
    ).all()
    if not rows:
        return
    cipher = _cipher()
    for row_id, value in rows:
        connection.execute(
            sa.text(f'UPDATE {table} SET "{column}" = :value WHERE id = :id'),
            {"value": change(cipher, row_id, value), "id": row_id},
        )


def _row_uuid(row_id):
    import uuid

    return row_id if isinstance(row_id, uuid.UUID) else uuid.UUID(str(row_id))


def upgrade() -> None:
    for table, column, was_json in FIELDS:
        if was_json:
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column(
                    column,
                    existing_type=sa.JSON(),
                    type_=sa.Text(),
                    nullable=True,
                    postgresql_using=f'"{column}"::text',
                )

        def seal(cipher, row_id, value, table=table, column=column, was_json=was_json):
            text = json.dumps(json.loads(value), sort_keys=True) if was_json else value
            return cipher.seal(text, table=table, column=column, row_id=_row_uuid(row_id))

        _rewrite(table, column, seal)


def downgrade() -> None:
    for table, column, was_json in FIELDS:

        def unseal(cipher, row_id, value, table=table, column=column):
            return cipher.open(value, table=table, column=column, row_id=_row_uuid(row_id))

        _rewrite(table, column, unseal)
        if was_json:
            op.execute(f'UPDATE {table} SET "{column}" = \'{{}}\' WHERE "{column}" IS NULL')
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column(
                    column,
                    existing_type=sa.Text(),
                    type_=sa.JSON(),
                    nullable=False,
                    postgresql_using=f'"{column}"::json',
                )
