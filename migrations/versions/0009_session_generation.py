"""Therapist sessions end server-side: a generation number per therapist.

Each standalone session carries the therapist's generation from when it began; sign-out,
a new password, a change of the second factor and deactivation raise it, and a session
with an older number is signed out. Sessions begun before this revision carry none, so
therapists signed in at the upgrade sign in once more.

Revision ID: 0009_session_generation
Revises: 0008_recovery_codes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_session_generation"
down_revision = "0008_recovery_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_therapist") as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic_therapist") as batch_op:
        batch_op.drop_column("session_generation")
