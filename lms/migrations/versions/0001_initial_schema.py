"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 06:06:46.894213
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('lms_curriculum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_curriculum')),
    sa.UniqueConstraint('slug', name=op.f('uq_lms_curriculum_slug'))
    )
    op.create_table('lms_login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_login_failure'))
    )
    with op.batch_alter_table('lms_login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_lms_login_failure_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_lms_login_failure_email_at', ['email', 'at'], unique=False)

    op.create_table('lms_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_person')),
    sa.UniqueConstraint('email', name=op.f('uq_lms_person_email'))
    )
    op.create_table('lms_cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_cohort_curriculum_id_lms_curriculum')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_cohort'))
    )
    op.create_table('lms_module',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('estimated_minutes', sa.Integer(), nullable=False),
    sa.Column('objectives', sa.JSON(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_module_curriculum_id_lms_curriculum')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_module')),
    sa.UniqueConstraint('slug', name=op.f('uq_lms_module_slug'))
    )
    with op.batch_alter_table('lms_module', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_module_curriculum_id'), ['curriculum_id'], unique=False)

    op.create_table('lms_person_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_person_role_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_person_role')),
    sa.UniqueConstraint('person_id', 'role', name=op.f('uq_lms_person_role_person_id_role'))
    )
    op.create_table('lms_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['lms_cohort.id'], name=op.f('fk_lms_enrolment_cohort_id_lms_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_enrolment_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_enrolment')),
    sa.UniqueConstraint('cohort_id', 'person_id', name=op.f('uq_lms_enrolment_cohort_id_person_id'))
    )
    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_enrolment_person_id'), ['person_id'], unique=False)

    op.create_table('lms_module_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('read_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('module_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['lms_module.id'], name=op.f('fk_lms_module_progress_module_id_lms_module')),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_module_progress_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_module_progress')),
    sa.UniqueConstraint('person_id', 'module_id', name=op.f('uq_lms_module_progress_person_id_module_id'))
    )
    with op.batch_alter_table('lms_module_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_module_progress_module_id'), ['module_id'], unique=False)

    op.create_table('lms_quiz',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['lms_module.id'], name=op.f('fk_lms_quiz_module_id_lms_module')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_quiz')),
    sa.UniqueConstraint('module_id', name=op.f('uq_lms_quiz_module_id'))
    )
    op.create_table('lms_quiz_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('attempts_allowed', sa.Integer(), nullable=False),
    sa.Column('retake_wait_minutes', sa.Integer(), nullable=False),
    sa.Column('shuffle', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['lms_quiz.id'], name=op.f('fk_lms_quiz_version_quiz_id_lms_quiz')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_quiz_version')),
    sa.UniqueConstraint('quiz_id', 'number', name=op.f('uq_lms_quiz_version_quiz_id_number'))
    )
    with op.batch_alter_table('lms_quiz_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_quiz_version_quiz_id'), ['quiz_id'], unique=False)

    # The quiz <-> quiz version cycle: this key can only be added once both tables exist.
    with op.batch_alter_table('lms_quiz', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_lms_quiz_current_version_id_lms_quiz_version'), 'lms_quiz_version', ['current_version_id'], ['id'])

    op.create_table('lms_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('quiz_version_id', sa.Integer(), nullable=False),
    sa.Column('question_order', sa.JSON(), nullable=False),
    sa.Column('started_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_attempt_person_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['lms_quiz.id'], name=op.f('fk_lms_attempt_quiz_id_lms_quiz')),
    sa.ForeignKeyConstraint(['quiz_version_id'], ['lms_quiz_version.id'], name=op.f('fk_lms_attempt_quiz_version_id_lms_quiz_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_attempt'))
    )
    with op.batch_alter_table('lms_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_lms_attempt_person_quiz', ['person_id', 'quiz_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_attempt_quiz_version_id'), ['quiz_version_id'], unique=False)

    op.create_table('lms_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('objective', sa.String(length=100), nullable=False),
    sa.Column('prompt_html', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.JSON(), nullable=False),
    sa.Column('rationale_html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_version_id'], ['lms_quiz_version.id'], name=op.f('fk_lms_question_quiz_version_id_lms_quiz_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_question')),
    sa.UniqueConstraint('quiz_version_id', 'key', name=op.f('uq_lms_question_quiz_version_id_key'))
    )
    with op.batch_alter_table('lms_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_question_quiz_version_id'), ['quiz_version_id'], unique=False)

    op.create_table('lms_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('mark', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['lms_attempt.id'], name=op.f('fk_lms_answer_attempt_id_lms_attempt'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['lms_question.id'], name=op.f('fk_lms_answer_question_id_lms_question')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_answer')),
    sa.UniqueConstraint('attempt_id', 'question_id', name=op.f('uq_lms_answer_attempt_id_question_id'))
    )
    with op.batch_alter_table('lms_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_answer_question_id'), ['question_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('lms_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_answer_question_id'))

    op.drop_table('lms_answer')
    with op.batch_alter_table('lms_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_question_quiz_version_id'))

    op.drop_table('lms_question')
    with op.batch_alter_table('lms_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_attempt_quiz_version_id'))
        batch_op.drop_index('ix_lms_attempt_person_quiz')

    op.drop_table('lms_attempt')
    with op.batch_alter_table('lms_quiz', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lms_quiz_current_version_id_lms_quiz_version'), type_='foreignkey')

    with op.batch_alter_table('lms_quiz_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_quiz_version_quiz_id'))

    op.drop_table('lms_quiz_version')
    op.drop_table('lms_quiz')
    with op.batch_alter_table('lms_module_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_module_progress_module_id'))

    op.drop_table('lms_module_progress')
    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_enrolment_person_id'))

    op.drop_table('lms_enrolment')
    op.drop_table('lms_person_role')
    with op.batch_alter_table('lms_module', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_module_curriculum_id'))

    op.drop_table('lms_module')
    op.drop_table('lms_cohort')
    op.drop_table('lms_person')
    with op.batch_alter_table('lms_login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_login_failure_email_at')
        batch_op.drop_index('ix_lms_login_failure_address_at')

    op.drop_table('lms_login_failure')
    op.drop_table('lms_curriculum')

