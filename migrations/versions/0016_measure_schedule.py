"""Measures repeated through treatment: links of their own purpose, each couple's
schedule of measures, each administration it calls for, and on each measure result the
link it came through and the instrument version it was asked in.

Revision ID: 0016_measure_schedule
Revises: 0015_case_seen
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_measure_schedule"
down_revision = "0015_case_seen"
branch_labels = None
depends_on = None

OLD_PURPOSES = "purpose IN ('intake', 'homework')"
NEW_PURPOSES = "purpose IN ('intake', 'homework', 'measures', 'rating')"


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a CHECK constraint in place.
    with op.batch_alter_table("clinic_client_link") as batch:
        batch.drop_constraint(op.f("ck_clinic_client_link_purpose_known"), type_="check")
        batch.create_check_constraint(op.f("ck_clinic_client_link_purpose_known"), NEW_PURPOSES)

    op.create_table(
        "clinic_measure_schedule",
        sa.Column("couple_id", sa.Uuid(), nullable=False),
        sa.Column("instruments", sa.String(length=100), nullable=False),
        sa.Column("cadence", sa.String(length=30), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "cadence IN ('before_every_session', 'every_n_weeks', 'once')",
            name=op.f("ck_clinic_measure_schedule_cadence_known"),
        ),
        sa.CheckConstraint(
            "every_weeks IS NULL OR (every_weeks >= 1 AND every_weeks <= 52)",
            name=op.f("ck_clinic_measure_schedule_every_weeks_range"),
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["clinic_couple.id"],
            name="fk_clinic_measure_schedule_couple_id_clinic_couple",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["clinic_therapist.id"],
            name="fk_clinic_measure_schedule_created_by_id_clinic_therapist",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_measure_schedule"),
        sa.UniqueConstraint("couple_id", name="uq_clinic_measure_schedule_couple_id"),
    )
    op.create_table(
        "clinic_measure_administration",
        sa.Column("couple_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("instruments", sa.String(length=100), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_via", sa.String(length=10), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["clinic_couple.id"],
            name="fk_clinic_measure_administration_couple_id_clinic_couple",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["clinic_partner.id"],
            name="fk_clinic_measure_administration_partner_id_clinic_partner",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["clinic_client_link.id"],
            name="fk_clinic_measure_administration_link_id_clinic_client_link",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_measure_administration"),
        sa.UniqueConstraint(
            "partner_id", "due_on", name="uq_clinic_measure_administration_partner_id_due_on"
        ),
        sa.UniqueConstraint("link_id", name="uq_clinic_measure_administration_link_id"),
    )
    op.create_index(
        "ix_clinic_measure_administration_couple_id",
        "clinic_measure_administration",
        ["couple_id"],
    )

    with op.batch_alter_table("clinic_measure_result") as batch:
        batch.add_column(sa.Column("link_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("instrument_version", sa.String(length=40), nullable=True))
        batch.create_foreign_key(
            "fk_clinic_measure_result_link_id_clinic_client_link",
            "clinic_client_link",
            ["link_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            "uq_clinic_measure_result_link_id_instrument", ["link_id", "instrument"]
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic_measure_result") as batch:
        batch.drop_constraint("uq_clinic_measure_result_link_id_instrument", type_="unique")
        batch.drop_constraint(
            "fk_clinic_measure_result_link_id_clinic_client_link", type_="foreignkey"
        )
        batch.drop_column("instrument_version")
        batch.drop_column("link_id")
    op.drop_index(
        "ix_clinic_measure_administration_couple_id", table_name="clinic_measure_administration"
    )
    op.drop_table("clinic_measure_administration")
    op.drop_table("clinic_measure_schedule")

    op.execute("DELETE FROM clinic_client_link WHERE purpose IN ('measures', 'rating')")
    with op.batch_alter_table("clinic_client_link") as batch:
        batch.drop_constraint(op.f("ck_clinic_client_link_purpose_known"), type_="check")
        batch.create_check_constraint(op.f("ck_clinic_client_link_purpose_known"), OLD_PURPOSES)
