"""The language a partner's pages are shown in, and the language each answer was given in.

Revision ID: 0018_partner_language
Revises: 0017_session_ratings
Create Date: 2026-12-02
"""

revision = "0018_partner_language"
down_revision = "0017_session_ratings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
