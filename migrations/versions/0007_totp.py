"""Optional second factor for therapists: an encrypted TOTP secret.

Revision ID: 0007_totp
Revises: 0006_encrypt_free_text
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_totp"
down_revision = "0006_encrypt_free_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_therapist") as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinic_therapist") as batch_op:
        batch_op.drop_column("totp_secret")
