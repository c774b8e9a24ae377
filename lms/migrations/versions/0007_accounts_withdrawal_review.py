"""accounts enrolment withdrawal quiz review

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 05:03:02.839766
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['lms_person.id'], name=op.f('fk_lms_invitation_created_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_invitation_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lms_invitation_token_hash'))
    )
    with op.batch_alter_table('lms_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_invitation_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('backdate_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', lms.models._types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_lms_enrolment_enrolled_by_id_lms_person'), 'lms_person', ['enrolled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_lms_enrolment_withdrawn_by_id_lms_person'), 'lms_person', ['withdrawn_by_id'], ['id'])

    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('lms_quiz_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=20), server_default='after_pass', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('lms_quiz_version', schema=None) as batch_op:
        batch_op.drop_column('review')

    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')

    with op.batch_alter_table('lms_enrolment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lms_enrolment_withdrawn_by_id_lms_person'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_lms_enrolment_enrolled_by_id_lms_person'), type_='foreignkey')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_on')
        batch_op.drop_column('backdate_reason')
        batch_op.drop_column('enrolled_by_id')

    with op.batch_alter_table('lms_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_invitation_person_id'))

    op.drop_table('lms_invitation')
