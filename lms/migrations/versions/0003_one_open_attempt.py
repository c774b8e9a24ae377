"""one open attempt per person and quiz

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Races before this revision may have left two open attempts for one quiz. Deleting either
    # is the admin's call, so the upgrade stops and says so instead of guessing.
    bind = op.get_bind()
    duplicates = bind.execute(sa.text(
        "SELECT person_id, quiz_id FROM lms_attempt WHERE submitted_at IS NULL "
        "GROUP BY person_id, quiz_id HAVING COUNT(*) > 1")).fetchall()
    if duplicates:
        raise RuntimeError(
            f"{len(duplicates)} person/quiz pairs have more than one open attempt; delete the "
            "extra open attempts (they hold no answers) and run the upgrade again.")
    with op.batch_alter_table('lms_attempt', schema=None) as batch_op:
        batch_op.create_index('uq_lms_attempt_open', ['person_id', 'quiz_id'], unique=True,
                              sqlite_where=sa.text('submitted_at IS NULL'),
                              postgresql_where=sa.text('submitted_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('lms_attempt', schema=None) as batch_op:
        batch_op.drop_index('uq_lms_attempt_open')
