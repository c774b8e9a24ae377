"""session change log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:30:53.298523
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_session_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['lms_person.id'], name=op.f('fk_lms_session_change_changed_by_id_lms_person')),
    sa.ForeignKeyConstraint(['session_id'], ['lms_training_session.id'], name=op.f('fk_lms_session_change_session_id_lms_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_session_change'))
    )
    with op.batch_alter_table('lms_session_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_session_change_session_id'), ['session_id'], unique=False)

    # Sessions cancelled before the log existed get their cancellation as the first entry.
    op.execute(
        "INSERT INTO lms_session_change (session_id, kind, reason, changed_by_id, changed_at) "
        "SELECT id, 'cancelled', cancel_reason, NULL, cancelled_at FROM lms_training_session "
        "WHERE cancelled_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('lms_session_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_session_change_session_id'))

    op.drop_table('lms_session_change')

