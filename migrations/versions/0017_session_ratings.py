"""Each partner's private rating of each session they attended.

Revision ID: 0017_session_ratings
Revises: 0016_measure_schedule
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_session_ratings"
down_revision = "0016_measure_schedule"
branch_labels = None
depends_on = None


def _record_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "clinic_rating_request",
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("therapy_session_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        *_record_columns(),
        _fk("clinic_rating_request", "link_id", "clinic_client_link"),
        _fk("clinic_rating_request", "therapy_session_id", "clinic_therapy_session"),
        _fk("clinic_rating_request", "partner_id", "clinic_partner"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_rating_request")),
        sa.UniqueConstraint("link_id", name=op.f("uq_clinic_rating_request_link_id")),
    )
    op.create_index(
        op.f("ix_clinic_rating_request_therapy_session_id"),
        "clinic_rating_request",
        ["therapy_session_id"],
    )
    op.create_index(
        op.f("ix_clinic_rating_request_partner_id"), "clinic_rating_request", ["partner_id"]
    )
    op.create_table(
        "clinic_session_rating",
        sa.Column("therapy_session_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("measure_version", sa.String(length=20), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("score", sa.Text(), nullable=True),
        *_record_columns(),
        _fk("clinic_session_rating", "therapy_session_id", "clinic_therapy_session"),
        _fk("clinic_session_rating", "partner_id", "clinic_partner"),
        _fk("clinic_session_rating", "link_id", "clinic_client_link"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_session_rating")),
        sa.UniqueConstraint(
            "therapy_session_id",
            "partner_id",
            name=op.f("uq_clinic_session_rating_therapy_session_id_partner_id"),
        ),
    )
    op.create_index(
        op.f("ix_clinic_session_rating_therapy_session_id"),
        "clinic_session_rating",
        ["therapy_session_id"],
    )
    op.create_index(
        op.f("ix_clinic_session_rating_partner_id"), "clinic_session_rating", ["partner_id"]
    )
    op.create_table(
        "clinic_alliance_flag",
        sa.Column("couple_id", sa.Uuid(), nullable=False),
        sa.Column("therapy_session_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        *_record_columns(),
        _fk("clinic_alliance_flag", "couple_id", "clinic_couple"),
        _fk("clinic_alliance_flag", "therapy_session_id", "clinic_therapy_session"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_alliance_flag")),
        sa.CheckConstraint(
            "kind IN ('split', 'drop')", name=op.f("ck_clinic_alliance_flag_kind_known")
        ),
        sa.UniqueConstraint(
            "therapy_session_id",
            "kind",
            "role",
            name=op.f("uq_clinic_alliance_flag_therapy_session_id_kind_role"),
        ),
    )
    op.create_index(
        op.f("ix_clinic_alliance_flag_couple_id"), "clinic_alliance_flag", ["couple_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_clinic_alliance_flag_couple_id"), table_name="clinic_alliance_flag")
    op.drop_table("clinic_alliance_flag")
    op.drop_index(op.f("ix_clinic_session_rating_partner_id"), table_name="clinic_session_rating")
    op.drop_index(
        op.f("ix_clinic_session_rating_therapy_session_id"), table_name="clinic_session_rating"
    )
    op.drop_table("clinic_session_rating")
    op.drop_index(op.f("ix_clinic_rating_request_partner_id"), table_name="clinic_rating_request")
    op.drop_index(
        op.f("ix_clinic_rating_request_therapy_session_id"), table_name="clinic_rating_request"
    )
    op.drop_table("clinic_rating_request")
