"""Homework: therapists' own exercises, suggestion decisions, reminder records, the
exercise reference on assignments, and idempotent check-ins.

Revision ID: 0003_homework
Revises: 0002_intake
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_homework'
down_revision = '0002_intake'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinic_custom_exercise',
    sa.Column('therapist_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=60), nullable=False),
    sa.Column('based_on', sa.String(length=80), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('frequency', sa.String(length=20), nullable=False),
    sa.Column('times_per_week', sa.Integer(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('instructions', sa.JSON(), nullable=False),
    sa.Column('reflection_prompts', sa.JSON(), nullable=False),
    sa.Column('therapist_note', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("frequency IN ('once', 'daily', 'weekly')", name=op.f('ck_clinic_custom_exercise_frequency_known')),
    sa.CheckConstraint("mode IN ('together', 'individual')", name=op.f('ck_clinic_custom_exercise_mode_known')),
    sa.ForeignKeyConstraint(['therapist_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_custom_exercise_therapist_id_clinic_therapist')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_custom_exercise'))
    )
    with op.batch_alter_table('clinic_custom_exercise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_custom_exercise_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('clinic_suggestion_decision',
    sa.Column('couple_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=60), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Uuid(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('accepted', 'dismissed')", name=op.f('ck_clinic_suggestion_decision_decision_known')),
    sa.ForeignKeyConstraint(['couple_id'], ['clinic_couple.id'], name=op.f('fk_clinic_suggestion_decision_couple_id_clinic_couple')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['clinic_therapist.id'], name=op.f('fk_clinic_suggestion_decision_decided_by_id_clinic_therapist')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_suggestion_decision')),
    sa.UniqueConstraint('couple_id', 'step', name=op.f('uq_clinic_suggestion_decision_couple_id_step'))
    )
    op.create_table('clinic_reminder_sent',
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('partner_id', sa.Uuid(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['clinic_homework_assignment.id'], name=op.f('fk_clinic_reminder_sent_assignment_id_clinic_homework_assignment')),
    sa.ForeignKeyConstraint(['partner_id'], ['clinic_partner.id'], name=op.f('fk_clinic_reminder_sent_partner_id_clinic_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_reminder_sent')),
    sa.UniqueConstraint('assignment_id', 'partner_id', 'due_on', name=op.f('uq_clinic_reminder_sent_assignment_id_partner_id_due_on'))
    )
    with op.batch_alter_table('clinic_homework_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exercise_ref', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('suggestion_reason', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            'frequency_known', "frequency IN ('once', 'daily', 'weekly')"
        )
        batch_op.create_check_constraint(
            'times_per_week_fits',
            "(frequency = 'weekly' AND times_per_week BETWEEN 1 AND 7) OR "
            "(frequency <> 'weekly' AND times_per_week IS NULL)",
        )

    # Existing check-ins get their own id as their key, so the new unique key holds.
    with op.batch_alter_table('clinic_homework_check_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('late', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE clinic_homework_check_in SET client_key = CAST(id AS VARCHAR(64))")
    with op.batch_alter_table('clinic_homework_check_in', schema=None) as batch_op:
        batch_op.alter_column('client_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_clinic_homework_check_in_assignment_id_partner_id_client_key'), ['assignment_id', 'partner_id', 'client_key'])


def downgrade() -> None:
    with op.batch_alter_table('clinic_homework_check_in', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_clinic_homework_check_in_assignment_id_partner_id_client_key'), type_='unique')
        batch_op.drop_column('late')
        batch_op.drop_column('client_key')

    with op.batch_alter_table('clinic_homework_assignment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_clinic_homework_assignment_times_per_week_fits'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_clinic_homework_assignment_frequency_known'), type_='check')
        batch_op.drop_column('suggestion_reason')
        batch_op.drop_column('exercise_ref')

    op.drop_table('clinic_reminder_sent')
    op.drop_table('clinic_suggestion_decision')
    with op.batch_alter_table('clinic_custom_exercise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_custom_exercise_therapist_id'))

    op.drop_table('clinic_custom_exercise')
