"""People of a host app with its own users: the host's stable id for each; and a plain index on
email, which look-ups that leave stand-ins out can use.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:31:21.454246
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_user_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_lms_person_host_user_id'), ['host_user_id'])
        batch_op.create_index('ix_lms_person_email', ['email'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_person_email')
        batch_op.drop_constraint(batch_op.f('uq_lms_person_host_user_id'), type_='unique')
        batch_op.drop_column('host_user_id')

