"""Clients of the read-only JSON API: a token each (only its hash kept), a name, a scope.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_api_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=12), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', lms.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['lms_person.id'], name=op.f('fk_lms_api_client_created_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_api_client_curriculum_id_lms_curriculum'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['lms_person.id'], name=op.f('fk_lms_api_client_revoked_by_id_lms_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_api_client')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lms_api_client_token_hash'))
    )


def downgrade() -> None:
    op.drop_table('lms_api_client')
