"""The audit log is append-only in the database itself: triggers refuse UPDATE, DELETE
(and on PostgreSQL TRUNCATE) on clinic_audit_event.

Revision ID: 0005_audit_append_only
Revises: 0004_notes
Create Date: 2026-11-26
"""

from alembic import op

from reconnect_clinic.security.audit.sql_rules import create_statements, drop_statements

revision = "0005_audit_append_only"
down_revision = "0004_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
