"""An index of supervision records with their minutes: readiness joins a cohort's attendee
rows to their records to sum the minutes, and without it PostgreSQL scanned every record of
the programme to do so.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 03:20:00
"""

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_lms_supervision_record_id_minutes', 'lms_supervision_record',
                    ['id', 'duration_minutes'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lms_supervision_record_id_minutes', table_name='lms_supervision_record')
