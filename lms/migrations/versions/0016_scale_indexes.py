"""Indexes for a national programme: attempts in the order item statistics read them
(version, person, start), and revocations by the sign-off they revoke (the verify page).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 17:12:00
"""

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_lms_attempt_version_person_started', 'lms_attempt',
                    ['quiz_version_id', 'person_id', 'started_at', 'id', 'submitted_at'], unique=False)
    op.create_index('ix_lms_sign_off_revokes_id', 'lms_sign_off', ['revokes_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lms_sign_off_revokes_id', table_name='lms_sign_off')
    op.drop_index('ix_lms_attempt_version_person_started', table_name='lms_attempt')
