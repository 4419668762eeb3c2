"""Each partner's private rating of each session they attended.

Revision ID: 0017_session_ratings
Revises: 0016_measure_schedule
Create Date: 2026-12-02
"""

revision = "0017_session_ratings"
down_revision = "0016_measure_schedule"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
