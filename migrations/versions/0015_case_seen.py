"""The dashboard as a to-do list: when each therapist last opened a couple's page and
last read each partner's submitted intake, so it can say what is new since.

Revision ID: 0015_case_seen
Revises: 0014_kept_forms
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_case_seen"
down_revision = "0014_kept_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_case_seen",
        sa.Column("therapist_id", sa.Uuid(), nullable=False),
        sa.Column("couple_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intake_a_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intake_b_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["clinic_couple.id"],
            name="fk_clinic_case_seen_couple_id_clinic_couple",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["clinic_therapist.id"],
            name="fk_clinic_case_seen_therapist_id_clinic_therapist",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_case_seen"),
        sa.UniqueConstraint(
            "therapist_id", "couple_id", name="uq_clinic_case_seen_therapist_id_couple_id"
        ),
    )
    op.create_index("ix_clinic_case_seen_couple_id", "clinic_case_seen", ["couple_id"])


def downgrade() -> None:
    op.drop_index("ix_clinic_case_seen_couple_id", table_name="clinic_case_seen")
    op.drop_table("clinic_case_seen")
