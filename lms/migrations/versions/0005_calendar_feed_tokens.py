"""calendar feed tokens for people and cohorts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_lms_person_calendar_token'),
                                          ['calendar_token'])
    with op.batch_alter_table('lms_cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_lms_cohort_calendar_token'),
                                          ['calendar_token'])


def downgrade() -> None:
    with op.batch_alter_table('lms_cohort', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_lms_cohort_calendar_token'), type_='unique')
        batch_op.drop_column('calendar_token')
    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_lms_person_calendar_token'), type_='unique')
        batch_op.drop_column('calendar_token')
