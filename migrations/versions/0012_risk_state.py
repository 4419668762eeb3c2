"""Risk state per partner: what each partner disclosed (first seen when, never the
answer) and the therapist's assessments (acknowledged with a short plan, resolved, or
opened by the therapist). What was disclosed, and which kind of risk at which level, is
sealed (``facts``); a keyed fingerprint keeps a disclosure once per occasion.

Existing intakes' disclosures are not derived here: they sit in sealed intake pages and
measure results, and a migration has no keys. ``flask clinic db-upgrade`` records them
right after upgrading (and ``flask clinic risk-backfill`` does it on its own, for a host
that runs the migrations from its own code).

Revision ID: 0012_risk_state
Revises: 0011_keyed_audit
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_risk_state"
down_revision = "0011_keyed_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_risk_disclosure",
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        # Kind, level, source and item, sealed (the models check them).
        sa.Column("facts", sa.Text(), nullable=False),
        # A keyed hash of partner, occasion, kind, source and item: once per occasion.
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("occasion_id", sa.Uuid(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alert_due", sa.Boolean(), nullable=False),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["clinic_partner.id"],
            name="fk_clinic_risk_disclosure_partner_id_clinic_partner",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_risk_disclosure"),
        sa.UniqueConstraint("fingerprint", name="uq_clinic_risk_disclosure_fingerprint"),
    )
    op.create_table(
        "clinic_risk_assessment",
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        # Kind and level, sealed (the models check them).
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("therapist_id", sa.Uuid(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')",
            name="ck_clinic_risk_assessment_status_known",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["clinic_partner.id"],
            name="fk_clinic_risk_assessment_partner_id_clinic_partner",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["clinic_therapist.id"],
            name="fk_clinic_risk_assessment_therapist_id_clinic_therapist",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clinic_risk_assessment"),
    )
    op.create_index(
        "ix_clinic_risk_assessment_partner_id", "clinic_risk_assessment", ["partner_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_clinic_risk_assessment_partner_id", table_name="clinic_risk_assessment")
    op.drop_table("clinic_risk_assessment")
    op.drop_table("clinic_risk_disclosure")
