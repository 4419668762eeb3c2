"""Measures repeated through treatment: links of their own purpose, and (from the
measures work) each couple's schedule of measures.

Revision ID: 0016_measure_schedule
Revises: 0015_case_seen
Create Date: 2026-12-02
"""

from alembic import op

revision = "0016_measure_schedule"
down_revision = "0015_case_seen"
branch_labels = None
depends_on = None

OLD_PURPOSES = "purpose IN ('intake', 'homework')"
NEW_PURPOSES = "purpose IN ('intake', 'homework', 'measures', 'rating')"


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a CHECK constraint in place.
    with op.batch_alter_table("clinic_client_link") as batch:
        batch.drop_constraint(op.f("ck_clinic_client_link_purpose_known"), type_="check")
        batch.create_check_constraint(op.f("ck_clinic_client_link_purpose_known"), NEW_PURPOSES)


def downgrade() -> None:
    op.execute("DELETE FROM clinic_client_link WHERE purpose IN ('measures', 'rating')")
    with op.batch_alter_table("clinic_client_link") as batch:
        batch.drop_constraint(op.f("ck_clinic_client_link_purpose_known"), type_="check")
        batch.create_check_constraint(op.f("ck_clinic_client_link_purpose_known"), OLD_PURPOSES)
