"""Intake pages saved one row per page, consent and scores on the response, and measure
results kept apart so measures can be given again over treatment.

Revision ID: 0002_intake
Revises: 0001_initial
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0002_intake'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinic_intake_page',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('page', sa.String(length=40), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['clinic_intake_response.id'], name=op.f('fk_clinic_intake_page_response_id_clinic_intake_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_intake_page')),
    sa.UniqueConstraint('response_id', 'page', name=op.f('uq_clinic_intake_page_response_id_page'))
    )
    op.create_table('clinic_measure_result',
    sa.Column('partner_id', sa.Uuid(), nullable=False),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('band', sa.String(length=40), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('item_points', sa.JSON(), nullable=False),
    sa.Column('administered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('intake_response_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['intake_response_id'], ['clinic_intake_response.id'], name=op.f('fk_clinic_measure_result_intake_response_id_clinic_intake_response')),
    sa.ForeignKeyConstraint(['partner_id'], ['clinic_partner.id'], name=op.f('fk_clinic_measure_result_partner_id_clinic_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_measure_result'))
    )
    with op.batch_alter_table('clinic_measure_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_measure_result_partner_id'), ['partner_id'], unique=False)

    with op.batch_alter_table('clinic_intake_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('scores', sa.JSON(), nullable=True))
        batch_op.drop_column('answers')


def downgrade() -> None:
    with op.batch_alter_table('clinic_intake_response', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('answers', sa.JSON(), nullable=False, server_default='{}')
        )
        batch_op.drop_column('scores')
        batch_op.drop_column('consent_at')
        batch_op.drop_column('consent_name')

    with op.batch_alter_table('clinic_measure_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_measure_result_partner_id'))

    op.drop_table('clinic_measure_result')
    op.drop_table('clinic_intake_page')
