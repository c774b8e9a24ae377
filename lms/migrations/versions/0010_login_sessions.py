"""Log-in sessions kept on the server (log-out, idle time, lifetime, log out everywhere), the
forms kept when one ended, and the browser a failed log-in came from.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:56:59.105814
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('kept_form', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_login_session_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_login_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lms_login_session_token_hash'))
    )
    with op.batch_alter_table('lms_login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_login_session_device_hash'), ['device_hash'], unique=False)
        batch_op.create_index('ix_lms_login_session_person_ended', ['person_id', 'ended_at'], unique=False)

    with op.batch_alter_table('lms_login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_hash', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('lms_login_failure', schema=None) as batch_op:
        batch_op.drop_column('device_hash')

    with op.batch_alter_table('lms_login_session', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_login_session_person_ended')
        batch_op.drop_index(batch_op.f('ix_lms_login_session_device_hash'))

    op.drop_table('lms_login_session')
