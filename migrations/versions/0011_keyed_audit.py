"""A keyed audit chain with checkpoints: each audit line records the id of the audit key
that MACed it (NULL for lines from before, which keep their plain SHA-256), and each
stored report carries a MACed checkpoint of the log (line count and last hash).

No line is changed: the log is append-only, and lines from before verify as they are
(as a prefix only). After a downgrade, lines written while at this revision no longer
verify with the code of the revision before.

Revision ID: 0011_keyed_audit
Revises: 0010_seal_clinical_values
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from reconnect_clinic.security.audit.sql_rules import TABLE, create_statements, drop_statements

revision = "0011_keyed_audit"
down_revision = "0010_seal_clinical_values"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a column is an ALTER TABLE on both databases (no copy of the table), so
    # the append-only triggers stay as they are.
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("clinic_stored_report") as batch_op:
        batch_op.add_column(sa.Column("audit_lines", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("audit_head", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("audit_mac", sa.String(length=140), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinic_stored_report") as batch_op:
        batch_op.drop_column("audit_mac")
        batch_op.drop_column("audit_head")
        batch_op.drop_column("audit_lines")
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.drop_column("key_id")
    if dialect == "sqlite":
        # Alembic drops a SQLite column by copying the table into a new one, and the
        # triggers go with the old table: the append-only rule is put back (set aside
        # first, in case this SQLite dropped the column in place and kept them).
        for statement in (*drop_statements(dialect), *create_statements(dialect)):
            op.execute(statement)
