"""Two-factor sign-in: single-use recovery codes, and the last TOTP step accepted (so
that a code is good once).

Revision ID: 0008_recovery_codes
Revises: 0007_totp
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_recovery_codes"
down_revision = "0007_totp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_therapist") as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "clinic_recovery_code",
        sa.Column("therapist_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["clinic_therapist.id"],
            name="fk_clinic_recovery_code_therapist_id_clinic_therapist",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_recovery_code"),
        sa.UniqueConstraint(
            "therapist_id", "code_hash", name="uq_clinic_recovery_code_therapist_id_code_hash"
        ),
    )
    op.create_index(
        "ix_clinic_recovery_code_therapist_id", "clinic_recovery_code", ["therapist_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_clinic_recovery_code_therapist_id", table_name="clinic_recovery_code")
    op.drop_table("clinic_recovery_code")
    with op.batch_alter_table("clinic_therapist") as batch_op:
        batch_op.drop_column("totp_last_step")
