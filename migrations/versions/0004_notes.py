"""Session notes: signed addenda, and reports stored once signed with their fingerprints.

Revision ID: 0004_notes
Revises: 0003_homework
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_notes'
down_revision = '0003_homework'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinic_stored_report',
    sa.Column('therapy_session_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['therapy_session_id'], ['clinic_therapy_session.id'], name=op.f('fk_clinic_stored_report_therapy_session_id_clinic_therapy_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_stored_report')),
    sa.UniqueConstraint('therapy_session_id', 'kind', 'revision', name=op.f('uq_clinic_stored_report_therapy_session_id_kind_revision'))
    )
    with op.batch_alter_table('clinic_stored_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_stored_report_therapy_session_id'), ['therapy_session_id'], unique=False)

    op.create_table('clinic_note_addendum',
    sa.Column('note_id', sa.Uuid(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('signed_by_id', sa.Uuid(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['clinic_session_note.id'], name=op.f('fk_clinic_note_addendum_note_id_clinic_session_note')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_note_addendum_signed_by_id_clinic_therapist')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_note_addendum'))
    )
    with op.batch_alter_table('clinic_note_addendum', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_note_addendum_note_id'), ['note_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('clinic_note_addendum', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_note_addendum_note_id'))

    op.drop_table('clinic_note_addendum')
    with op.batch_alter_table('clinic_stored_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_stored_report_therapy_session_id'))

    op.drop_table('clinic_stored_report')
