"""Stand-ins: an address a trainer may not know has an account is enrolled as a stand-in, which
shares the address (so one account per address now leaves stand-ins out), and a join request ties
it to the account until its owner joins.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 13:03:27.439437
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_join_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stand_in_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['lms_cohort.id'], name=op.f('fk_lms_join_request_cohort_id_lms_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_join_request_person_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['lms_person.id'], name=op.f('fk_lms_join_request_requested_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stand_in_id'], ['lms_person.id'], name=op.f('fk_lms_join_request_stand_in_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_join_request')),
    sa.UniqueConstraint('person_id', 'cohort_id', name=op.f('uq_lms_join_request_person_id_cohort_id')),
    sa.UniqueConstraint('stand_in_id', name=op.f('uq_lms_join_request_stand_in_id'))
    )
    with op.batch_alter_table('lms_join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_join_request_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stands_in', sa.Boolean(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_lms_person_email'), type_='unique')
        batch_op.create_index('uq_lms_person_email', ['email'], unique=True, sqlite_where=sa.text('stands_in = 0'), postgresql_where=sa.text('NOT stands_in'))



def downgrade() -> None:
    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.drop_index('uq_lms_person_email', sqlite_where=sa.text('stands_in = 0'), postgresql_where=sa.text('NOT stands_in'))
        batch_op.create_unique_constraint(batch_op.f('uq_lms_person_email'), ['email'])
        batch_op.drop_column('stands_in')

    with op.batch_alter_table('lms_join_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_join_request_person_id'))

    op.drop_table('lms_join_request')
