"""Initial clinic tables: therapists, couples and partners, client links, intake,
homework, therapy sessions and notes, and the audit log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinic_audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=True),
    sa.Column('record_id', sa.String(length=64), nullable=True),
    sa.Column('couple_id', sa.Uuid(), nullable=True),
    sa.Column('remote_addr', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('row_hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_audit_event'))
    )
    with op.batch_alter_table('clinic_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_audit_event_couple_id'), ['couple_id'], unique=False)

    op.create_table('clinic_therapist',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('host_user_id', sa.String(length=200), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_therapist')),
    sa.UniqueConstraint('email', name=op.f('uq_clinic_therapist_email')),
    sa.UniqueConstraint('host_user_id', name=op.f('uq_clinic_therapist_host_user_id'))
    )
    op.create_table('clinic_couple',
    sa.Column('therapist_id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('retention_until', sa.Date(), nullable=True),
    sa.Column('legal_hold', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('active', 'paused', 'closed')", name=op.f('ck_clinic_couple_status_known')),
    sa.CheckConstraint('closed_on IS NULL OR closed_on >= opened_on', name=op.f('ck_clinic_couple_closed_after_opened')),
    sa.ForeignKeyConstraint(['therapist_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_couple_therapist_id_clinic_therapist')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_couple'))
    )
    with op.batch_alter_table('clinic_couple', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_couple_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('clinic_homework_assignment',
    sa.Column('couple_id', sa.Uuid(), nullable=False),
    sa.Column('assigned_by_id', sa.Uuid(), nullable=False),
    sa.Column('healing_step', sa.String(length=60), nullable=False),
    sa.Column('taxonomy_version', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('assignee', sa.String(length=4), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('frequency', sa.String(length=20), nullable=False),
    sa.Column('times_per_week', sa.Integer(), nullable=True),
    sa.Column('therapist_note', sa.Text(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("assignee IN ('a', 'b', 'both')", name=op.f('ck_clinic_homework_assignment_assignee_known')),
    sa.CheckConstraint('due_on >= starts_on', name=op.f('ck_clinic_homework_assignment_due_after_start')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_homework_assignment_assigned_by_id_clinic_therapist')),
    sa.ForeignKeyConstraint(['couple_id'], ['clinic_couple.id'], name=op.f('fk_clinic_homework_assignment_couple_id_clinic_couple')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_homework_assignment'))
    )
    with op.batch_alter_table('clinic_homework_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_homework_assignment_couple_id'), ['couple_id'], unique=False)

    op.create_table('clinic_partner',
    sa.Column('couple_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=1), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('pronouns', sa.String(length=40), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('a', 'b')", name=op.f('ck_clinic_partner_role_known')),
    sa.ForeignKeyConstraint(['couple_id'], ['clinic_couple.id'], name=op.f('fk_clinic_partner_couple_id_clinic_couple')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_partner')),
    sa.UniqueConstraint('couple_id', 'role', name=op.f('uq_clinic_partner_couple_id_role'))
    )
    op.create_table('clinic_therapy_session',
    sa.Column('couple_id', sa.Uuid(), nullable=False),
    sa.Column('therapist_id', sa.Uuid(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('attendance', sa.String(length=4), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("attendance IN ('a', 'b', 'both')", name=op.f('ck_clinic_therapy_session_attendance_known')),
    sa.CheckConstraint("format IN ('in_person', 'video')", name=op.f('ck_clinic_therapy_session_format_known')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_clinic_therapy_session_duration_positive')),
    sa.ForeignKeyConstraint(['couple_id'], ['clinic_couple.id'], name=op.f('fk_clinic_therapy_session_couple_id_clinic_couple')),
    sa.ForeignKeyConstraint(['therapist_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_therapy_session_therapist_id_clinic_therapist')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_therapy_session'))
    )
    with op.batch_alter_table('clinic_therapy_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_therapy_session_couple_id'), ['couple_id'], unique=False)

    op.create_table('clinic_client_link',
    sa.Column('partner_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('intake', 'homework')", name=op.f('ck_clinic_client_link_purpose_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_client_link_created_by_id_clinic_therapist')),
    sa.ForeignKeyConstraint(['partner_id'], ['clinic_partner.id'], name=op.f('fk_clinic_client_link_partner_id_clinic_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_client_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_clinic_client_link_token_hash'))
    )
    with op.batch_alter_table('clinic_client_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_client_link_partner_id'), ['partner_id'], unique=False)

    op.create_table('clinic_homework_check_in',
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('partner_id', sa.Uuid(), nullable=False),
    sa.Column('checked_in_on', sa.Date(), nullable=False),
    sa.Column('completion', sa.String(length=20), nullable=False),
    sa.Column('helpfulness', sa.Integer(), nullable=True),
    sa.Column('reflection', sa.Text(), nullable=True),
    sa.Column('share_with_partner', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("completion IN ('done', 'partly', 'not_done')", name=op.f('ck_clinic_homework_check_in_completion_known')),
    sa.CheckConstraint('helpfulness IS NULL OR helpfulness BETWEEN 1 AND 5', name=op.f('ck_clinic_homework_check_in_helpfulness_range')),
    sa.ForeignKeyConstraint(['assignment_id'], ['clinic_homework_assignment.id'], name=op.f('fk_clinic_homework_check_in_assignment_id_clinic_homework_assignment')),
    sa.ForeignKeyConstraint(['partner_id'], ['clinic_partner.id'], name=op.f('fk_clinic_homework_check_in_partner_id_clinic_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_homework_check_in'))
    )
    with op.batch_alter_table('clinic_homework_check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_homework_check_in_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('clinic_session_note',
    sa.Column('therapy_session_id', sa.Uuid(), nullable=False),
    sa.Column('template', sa.String(length=20), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'signed')", name=op.f('ck_clinic_session_note_status_known')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_session_note_signed_by_id_clinic_therapist')),
    sa.ForeignKeyConstraint(['therapy_session_id'], ['clinic_therapy_session.id'], name=op.f('fk_clinic_session_note_therapy_session_id_clinic_therapy_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_session_note')),
    sa.UniqueConstraint('therapy_session_id', name=op.f('uq_clinic_session_note_therapy_session_id'))
    )
    op.create_table('clinic_intake_response',
    sa.Column('partner_id', sa.Uuid(), nullable=False),
    sa.Column('link_id', sa.Uuid(), nullable=True),
    sa.Column('taxonomy_version', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('current_page', sa.String(length=40), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f('ck_clinic_intake_response_status_known')),
    sa.ForeignKeyConstraint(['link_id'], ['clinic_client_link.id'], name=op.f('fk_clinic_intake_response_link_id_clinic_client_link')),
    sa.ForeignKeyConstraint(['partner_id'], ['clinic_partner.id'], name=op.f('fk_clinic_intake_response_partner_id_clinic_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_intake_response')),
    sa.UniqueConstraint('link_id', name=op.f('uq_clinic_intake_response_link_id'))
    )
    with op.batch_alter_table('clinic_intake_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_intake_response_partner_id'), ['partner_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('clinic_intake_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_intake_response_partner_id'))

    op.drop_table('clinic_intake_response')
    op.drop_table('clinic_session_note')
    with op.batch_alter_table('clinic_homework_check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_homework_check_in_assignment_id'))

    op.drop_table('clinic_homework_check_in')
    with op.batch_alter_table('clinic_client_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_client_link_partner_id'))

    op.drop_table('clinic_client_link')
    with op.batch_alter_table('clinic_therapy_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_therapy_session_couple_id'))

    op.drop_table('clinic_therapy_session')
    op.drop_table('clinic_partner')
    with op.batch_alter_table('clinic_homework_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_homework_assignment_couple_id'))

    op.drop_table('clinic_homework_assignment')
    with op.batch_alter_table('clinic_couple', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_couple_therapist_id'))

    op.drop_table('clinic_couple')
    op.drop_table('clinic_therapist')
    with op.batch_alter_table('clinic_audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_audit_event_couple_id'))

    op.drop_table('clinic_audit_event')
