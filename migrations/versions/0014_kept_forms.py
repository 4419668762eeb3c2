"""A note being typed survives the idle sign-out: the post that arrived after the idle
limit is kept (sealed) for the same therapist until they sign in again.

Revision ID: 0014_kept_forms
Revises: 0013_consent_and_overrides
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_kept_forms"
down_revision = "0013_consent_and_overrides"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_kept_form",
        sa.Column("therapist_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["clinic_therapist.id"],
            name="fk_clinic_kept_form_therapist_id_clinic_therapist",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_kept_form"),
        sa.UniqueConstraint("therapist_id", "path", name="uq_clinic_kept_form_therapist_id_path"),
    )
    op.create_index("ix_clinic_kept_form_therapist_id", "clinic_kept_form", ["therapist_id"])


def downgrade() -> None:
    op.drop_index("ix_clinic_kept_form_therapist_id", table_name="clinic_kept_form")
    op.drop_table("clinic_kept_form")
