"""The content revision: one row whose stamp moves whenever content changes, so each process
can keep the content it has read (lms.services.content_cache).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 16:43:08.993619
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'lms_content_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_content_revision'))
    )
    # Random, so a database made afresh never repeats a stamp a process has cached under.
    op.bulk_insert(table, [{'id': 1, 'stamp': secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table('lms_content_revision')
