"""The language a partner's pages are shown in, and the language each answer was given in.

The partner's ``language`` is the therapist's setting (empty: the partner's browser
decides). Each stored answer row says which language its questions were shown in; rows
from before this revision were all given in English, which their default records.

Revision ID: 0018_partner_language
Revises: 0017_session_ratings
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_partner_language"
down_revision = "0017_session_ratings"
branch_labels = None
depends_on = None

# Every table whose rows are answers a partner gave.
ANSWER_TABLES = (
    "clinic_intake_response",
    "clinic_homework_check_in",
    "clinic_measure_result",
    "clinic_session_rating",
)


def upgrade() -> None:
    with op.batch_alter_table("clinic_partner") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    for table in ANSWER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
            )


def downgrade() -> None:
    for table in reversed(ANSWER_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("language")
    with op.batch_alter_table("clinic_partner") as batch:
        batch.drop_column("language")
