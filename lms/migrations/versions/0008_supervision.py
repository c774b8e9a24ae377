"""Supervision: who supervises whom (with history), supervision records, debriefs,
self-care check-ins, flag acknowledgements, the audit log, and curriculum frequencies.

Each enrolment's supervisor becomes a supervisor assignment (the most recent enrolment's
wins) before the old column goes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 07:51:22.999960
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['lms_person.id'], name=op.f('fk_lms_audit_event_actor_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_audit_event_person_id_lms_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_audit_event'))
    )
    with op.batch_alter_table('lms_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_lms_audit_event_person_at', ['person_id', 'at'], unique=False)

    op.create_table('lms_check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('mood', sa.SmallInteger(), nullable=False),
    sa.Column('calm', sa.SmallInteger(), nullable=False),
    sa.Column('manageable', sa.SmallInteger(), nullable=False),
    sa.Column('sleep', sa.SmallInteger(), nullable=False),
    sa.Column('supported', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('wants_to_talk', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_check_in_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_check_in'))
    )
    with op.batch_alter_table('lms_check_in', schema=None) as batch_op:
        batch_op.create_index('ix_lms_check_in_trainee_at', ['trainee_id', 'at'], unique=False)

    op.create_table('lms_debrief',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('incident_type', sa.String(length=30), nullable=False),
    sa.Column('incident_on', sa.Date(), nullable=False),
    sa.Column('what_happened', sa.Text(), nullable=False),
    sa.Column('how_now', sa.Text(), nullable=False),
    sa.Column('support_needed', sa.Text(), nullable=False),
    sa.Column('identifying_kept', sa.JSON(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['started_by_id'], ['lms_person.id'], name=op.f('fk_lms_debrief_started_by_id_lms_person')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['lms_person.id'], name=op.f('fk_lms_debrief_supervisor_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_debrief_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_debrief'))
    )
    with op.batch_alter_table('lms_debrief', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_debrief_trainee_id'), ['trainee_id'], unique=False)

    op.create_table('lms_flag_acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['lms_person.id'], name=op.f('fk_lms_flag_acknowledgement_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_flag_acknowledgement_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_flag_acknowledgement'))
    )
    with op.batch_alter_table('lms_flag_acknowledgement', schema=None) as batch_op:
        batch_op.create_index('ix_lms_flag_ack_trainee_kind', ['trainee_id', 'kind'], unique=False)

    op.create_table('lms_supervision_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['lms_person.id'], name=op.f('fk_lms_supervision_record_author_id_lms_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_supervision_record'))
    )
    with op.batch_alter_table('lms_supervision_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_supervision_record_author_id'), ['author_id'], unique=False)

    op.create_table('lms_agreed_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervision_id', sa.Integer(), nullable=True),
    sa.Column('debrief_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['debrief_id'], ['lms_debrief.id'], name=op.f('fk_lms_agreed_action_debrief_id_lms_debrief'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by_id'], ['lms_person.id'], name=op.f('fk_lms_agreed_action_done_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['lms_person.id'], name=op.f('fk_lms_agreed_action_owner_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supervision_id'], ['lms_supervision_record.id'], name=op.f('fk_lms_agreed_action_supervision_id_lms_supervision_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_agreed_action'))
    )
    with op.batch_alter_table('lms_agreed_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_agreed_action_debrief_id'), ['debrief_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_agreed_action_supervision_id'), ['supervision_id'], unique=False)

    op.create_table('lms_record_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervision_id', sa.Integer(), nullable=True),
    sa.Column('debrief_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['lms_person.id'], name=op.f('fk_lms_record_correction_author_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['debrief_id'], ['lms_debrief.id'], name=op.f('fk_lms_record_correction_debrief_id_lms_debrief'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supervision_id'], ['lms_supervision_record.id'], name=op.f('fk_lms_record_correction_supervision_id_lms_supervision_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_record_correction'))
    )
    with op.batch_alter_table('lms_record_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_record_correction_debrief_id'), ['debrief_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_record_correction_supervision_id'), ['supervision_id'], unique=False)

    op.create_table('lms_record_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervision_id', sa.Integer(), nullable=True),
    sa.Column('debrief_id', sa.Integer(), nullable=True),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['debrief_id'], ['lms_debrief.id'], name=op.f('fk_lms_record_revision_debrief_id_lms_debrief'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['edited_by_id'], ['lms_person.id'], name=op.f('fk_lms_record_revision_edited_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supervision_id'], ['lms_supervision_record.id'], name=op.f('fk_lms_record_revision_supervision_id_lms_supervision_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_record_revision'))
    )
    with op.batch_alter_table('lms_record_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_record_revision_debrief_id'), ['debrief_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_record_revision_supervision_id'), ['supervision_id'], unique=False)

    op.create_table('lms_supervision_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('reflection', sa.Text(), nullable=True),
    sa.Column('reflection_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['lms_supervision_record.id'], name=op.f('fk_lms_supervision_attendee_record_id_lms_supervision_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_supervision_attendee_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_supervision_attendee')),
    sa.UniqueConstraint('record_id', 'trainee_id', name=op.f('uq_lms_supervision_attendee_record_id_trainee_id'))
    )
    with op.batch_alter_table('lms_supervision_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_supervision_attendee_trainee_id'), ['trainee_id'], unique=False)

    op.create_table('lms_supervisor_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['lms_cohort.id'], name=op.f('fk_lms_supervisor_assignment_cohort_id_lms_cohort'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['set_by_id'], ['lms_person.id'], name=op.f('fk_lms_supervisor_assignment_set_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['lms_person.id'], name=op.f('fk_lms_supervisor_assignment_supervisor_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_supervisor_assignment_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_supervisor_assignment'))
    )
    with op.batch_alter_table('lms_supervisor_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_supervisor_assignment_supervisor_id'), ['supervisor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_supervisor_assignment_trainee_id'), ['trainee_id'], unique=False)
        batch_op.create_index('uq_lms_supervisor_assignment_current', ['trainee_id'], unique=True, sqlite_where=sa.text('ends_on IS NULL'), postgresql_where=sa.text('ends_on IS NULL'))

    with op.batch_alter_table('lms_cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervisor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_lms_cohort_supervisor_id_lms_person'), 'lms_person', ['supervisor_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('lms_curriculum', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervision_every_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('check_in_every_days', sa.Integer(), nullable=True))

    _copy_enrolment_supervisors()
    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lms_enrolment_supervisor_id_lms_person'), type_='foreignkey')
        batch_op.drop_column('supervisor_id')



def _copy_enrolment_supervisors() -> None:
    enrolment = sa.table('lms_enrolment', sa.column('person_id', sa.Integer),
                         sa.column('supervisor_id', sa.Integer),
                         sa.column('enrolled_on', sa.Date), sa.column('id', sa.Integer))
    assignment = sa.table('lms_supervisor_assignment',
                          sa.column('trainee_id', sa.Integer), sa.column('supervisor_id', sa.Integer),
                          sa.column('starts_on', sa.Date),
                          sa.column('set_at', lms.models._types.UTCDateTime))
    bind = op.get_bind()
    latest: dict[int, tuple] = {}
    for person_id, supervisor_id, enrolled_on, _id in bind.execute(
            sa.select(enrolment.c.person_id, enrolment.c.supervisor_id, enrolment.c.enrolled_on,
                      enrolment.c.id)
            .where(enrolment.c.supervisor_id.is_not(None))
            .order_by(enrolment.c.enrolled_on, enrolment.c.id)):
        latest[person_id] = (supervisor_id, enrolled_on)
    if latest:
        now = datetime.now(UTC)
        op.bulk_insert(assignment, [
            {'trainee_id': t, 'supervisor_id': s, 'starts_on': on, 'set_at': now}
            for t, (s, on) in latest.items() if t != s])


def downgrade() -> None:
    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervisor_id', sa.INTEGER(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_lms_enrolment_supervisor_id_lms_person'), 'lms_person', ['supervisor_id'], ['id'])

    with op.batch_alter_table('lms_curriculum', schema=None) as batch_op:
        batch_op.drop_column('check_in_every_days')
        batch_op.drop_column('supervision_every_days')

    with op.batch_alter_table('lms_cohort', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lms_cohort_supervisor_id_lms_person'), type_='foreignkey')
        batch_op.drop_column('supervisor_id')

    with op.batch_alter_table('lms_supervisor_assignment', schema=None) as batch_op:
        batch_op.drop_index('uq_lms_supervisor_assignment_current', sqlite_where=sa.text('ends_on IS NULL'), postgresql_where=sa.text('ends_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_lms_supervisor_assignment_trainee_id'))
        batch_op.drop_index(batch_op.f('ix_lms_supervisor_assignment_supervisor_id'))

    op.drop_table('lms_supervisor_assignment')
    with op.batch_alter_table('lms_supervision_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_supervision_attendee_trainee_id'))

    op.drop_table('lms_supervision_attendee')
    with op.batch_alter_table('lms_record_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_record_revision_supervision_id'))
        batch_op.drop_index(batch_op.f('ix_lms_record_revision_debrief_id'))

    op.drop_table('lms_record_revision')
    with op.batch_alter_table('lms_record_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_record_correction_supervision_id'))
        batch_op.drop_index(batch_op.f('ix_lms_record_correction_debrief_id'))

    op.drop_table('lms_record_correction')
    with op.batch_alter_table('lms_agreed_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_agreed_action_supervision_id'))
        batch_op.drop_index(batch_op.f('ix_lms_agreed_action_debrief_id'))

    op.drop_table('lms_agreed_action')
    with op.batch_alter_table('lms_supervision_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_supervision_record_author_id'))

    op.drop_table('lms_supervision_record')
    with op.batch_alter_table('lms_flag_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_flag_ack_trainee_kind')

    op.drop_table('lms_flag_acknowledgement')
    with op.batch_alter_table('lms_debrief', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_debrief_trainee_id'))

    op.drop_table('lms_debrief')
    with op.batch_alter_table('lms_check_in', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_check_in_trainee_at')

    op.drop_table('lms_check_in')
    with op.batch_alter_table('lms_audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_audit_event_person_at')
        batch_op.drop_index(batch_op.f('ix_lms_audit_event_at'))

    op.drop_table('lms_audit_event')
