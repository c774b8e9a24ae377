"""cohort staff, agenda, attendance, make-ups, feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 06:25:35.252508
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('lms_cohort_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['lms_cohort.id'], name=op.f('fk_lms_cohort_staff_cohort_id_lms_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_cohort_staff_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_cohort_staff')),
    sa.UniqueConstraint('cohort_id', 'person_id', 'role', name=op.f('uq_lms_cohort_staff_cohort_id_person_id_role'))
    )
    with op.batch_alter_table('lms_cohort_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_cohort_staff_person_id'), ['person_id'], unique=False)

    op.create_table('lms_training_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('starts_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=False),
    sa.Column('online_link', sa.String(length=500), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=True),
    sa.Column('activities', sa.JSON(), nullable=False),
    sa.Column('is_core', sa.Boolean(), nullable=False),
    sa.Column('cancelled_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['lms_cohort.id'], name=op.f('fk_lms_training_session_cohort_id_lms_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['facilitator_id'], ['lms_person.id'], name=op.f('fk_lms_training_session_facilitator_id_lms_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_training_session'))
    )
    with op.batch_alter_table('lms_training_session', schema=None) as batch_op:
        batch_op.create_index('ix_lms_training_session_cohort_position', ['cohort_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_training_session_starts_at'), ['starts_at'], unique=False)

    op.create_table('lms_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('minutes_credited', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_attendance_person_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['lms_person.id'], name=op.f('fk_lms_attendance_recorded_by_id_lms_person')),
    sa.ForeignKeyConstraint(['session_id'], ['lms_training_session.id'], name=op.f('fk_lms_attendance_session_id_lms_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_attendance')),
    sa.UniqueConstraint('session_id', 'person_id', name=op.f('uq_lms_attendance_session_id_person_id'))
    )
    with op.batch_alter_table('lms_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_attendance_person_id'), ['person_id'], unique=False)

    op.create_table('lms_make_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('missed_session_id', sa.Integer(), nullable=False),
    sa.Column('via_session_id', sa.Integer(), nullable=True),
    sa.Column('activity', sa.Text(), nullable=False),
    sa.Column('minutes_credited', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['missed_session_id'], ['lms_training_session.id'], name=op.f('fk_lms_make_up_missed_session_id_lms_training_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_make_up_person_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['lms_person.id'], name=op.f('fk_lms_make_up_recorded_by_id_lms_person')),
    sa.ForeignKeyConstraint(['via_session_id'], ['lms_training_session.id'], name=op.f('fk_lms_make_up_via_session_id_lms_training_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_make_up'))
    )
    with op.batch_alter_table('lms_make_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_make_up_missed_session_id'), ['missed_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_make_up_person_id'), ['person_id'], unique=False)

    op.create_table('lms_session_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_session_feedback_person_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['lms_training_session.id'], name=op.f('fk_lms_session_feedback_session_id_lms_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_session_feedback')),
    sa.UniqueConstraint('session_id', 'person_id', name=op.f('uq_lms_session_feedback_session_id_person_id'))
    )
    with op.batch_alter_table('lms_session_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_session_feedback_session_id'), ['session_id'], unique=False)

    op.create_table('lms_session_module',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['lms_module.id'], name=op.f('fk_lms_session_module_module_id_lms_module')),
    sa.ForeignKeyConstraint(['session_id'], ['lms_training_session.id'], name=op.f('fk_lms_session_module_session_id_lms_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_session_module')),
    sa.UniqueConstraint('session_id', 'module_id', name=op.f('uq_lms_session_module_session_id_module_id'))
    )
    with op.batch_alter_table('lms_session_module', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_session_module_module_id'), ['module_id'], unique=False)

    op.create_table('lms_attendance_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('old_status', sa.String(length=20), nullable=True),
    sa.Column('new_status', sa.String(length=20), nullable=False),
    sa.Column('old_minutes', sa.Integer(), nullable=True),
    sa.Column('new_minutes', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['lms_person.id'], name=op.f('fk_lms_attendance_change_changed_by_id_lms_person')),
    sa.ForeignKeyConstraint(['record_id'], ['lms_attendance.id'], name=op.f('fk_lms_attendance_change_record_id_lms_attendance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_attendance_change'))
    )
    with op.batch_alter_table('lms_attendance_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_attendance_change_record_id'), ['record_id'], unique=False)

    with op.batch_alter_table('lms_cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))

    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervisor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_lms_enrolment_supervisor_id_lms_person'), 'lms_person', ['supervisor_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lms_enrolment_supervisor_id_lms_person'), type_='foreignkey')
        batch_op.drop_column('supervisor_id')

    with op.batch_alter_table('lms_cohort', schema=None) as batch_op:
        batch_op.drop_column('timezone')

    with op.batch_alter_table('lms_attendance_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_attendance_change_record_id'))

    op.drop_table('lms_attendance_change')
    with op.batch_alter_table('lms_session_module', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_session_module_module_id'))

    op.drop_table('lms_session_module')
    with op.batch_alter_table('lms_session_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_session_feedback_session_id'))

    op.drop_table('lms_session_feedback')
    with op.batch_alter_table('lms_make_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_make_up_person_id'))
        batch_op.drop_index(batch_op.f('ix_lms_make_up_missed_session_id'))

    op.drop_table('lms_make_up')
    with op.batch_alter_table('lms_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_attendance_person_id'))

    op.drop_table('lms_attendance')
    with op.batch_alter_table('lms_training_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_training_session_starts_at'))
        batch_op.drop_index('ix_lms_training_session_cohort_position')

    op.drop_table('lms_training_session')
    with op.batch_alter_table('lms_cohort_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_cohort_staff_person_id'))

    op.drop_table('lms_cohort_staff')

