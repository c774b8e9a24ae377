"""one make-up per person and missed session

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A race could have recorded two make-ups for one missed session: stop and say so rather
    # than choose which one to delete.
    duplicates = op.get_bind().execute(sa.text(
        "SELECT person_id, missed_session_id FROM lms_make_up "
        "GROUP BY person_id, missed_session_id HAVING COUNT(*) > 1")).fetchall()
    if duplicates:
        raise RuntimeError(f"{len(duplicates)} missed sessions have more than one make-up; "
                           "delete the extra rows in lms_make_up and run the upgrade again.")
    with op.batch_alter_table('lms_make_up', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_lms_make_up_person_id_missed_session_id'),
            ['person_id', 'missed_session_id'])


def downgrade() -> None:
    with op.batch_alter_table('lms_make_up', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_lms_make_up_person_id_missed_session_id'),
                                 type_='unique')
