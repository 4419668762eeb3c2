"""Consent as signed, and homework given despite a contraindication.

An intake keeps the exact consent text its partner signed (sealed) and that text's
SHA-256, so a later change to ``RECONNECT_CLINIC_CONSENT_TEXT`` never rewrites what was
signed. Intakes submitted before this revision have neither: the text they were signed
under was not kept, and guessing it from today's configuration would be exactly the
rewriting this prevents, so they stay empty (the therapist's page says so).

An assignment keeps the therapist's override of a contraindication (the tags overridden
and the written reason, sealed together as JSON); empty when nothing was overridden.

Revision ID: 0013_consent_and_overrides
Revises: 0012_risk_state
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_consent_and_overrides"
down_revision = "0012_risk_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_intake_response") as batch_op:
        batch_op.add_column(sa.Column("consent_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("consent_text", sa.Text(), nullable=True))
    with op.batch_alter_table("clinic_homework_assignment") as batch_op:
        batch_op.add_column(sa.Column("contraindication_override", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clinic_homework_assignment") as batch_op:
        batch_op.drop_column("contraindication_override")
    with op.batch_alter_table("clinic_intake_response") as batch_op:
        batch_op.drop_column("consent_text")
        batch_op.drop_column("consent_sha256")
