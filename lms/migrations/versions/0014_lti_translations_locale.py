"""LTI 1.3 (platforms, the tool's key, launch states, nonces, users, contexts, line items),
translations of modules and quizzes, and each person's language.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 14:33:51.244672
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_lti_platform',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('deployment_ids', sa.JSON(), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1000), nullable=False),
    sa.Column('key_set_url', sa.String(length=1000), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_platform')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lms_lti_platform_issuer_client_id'))
    )
    op.create_table('lms_lti_tool_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_tool_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_lms_lti_tool_key_kid'))
    )
    op.create_table('lms_lti_launch_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('target_link_uri', sa.String(length=1000), nullable=False),
    sa.Column('expires_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lms_lti_platform.id'], name=op.f('fk_lms_lti_launch_state_platform_id_lms_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_launch_state')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_lms_lti_launch_state_state_hash'))
    )
    with op.batch_alter_table('lms_lti_launch_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_lti_launch_state_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lms_lti_launch_state_platform_id'), ['platform_id'], unique=False)

    op.create_table('lms_lti_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=255), nullable=False),
    sa.Column('expires_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lms_lti_platform.id'], name=op.f('fk_lms_lti_nonce_platform_id_lms_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_nonce')),
    sa.UniqueConstraint('platform_id', 'nonce', name=op.f('uq_lms_lti_nonce_platform_id_nonce'))
    )
    with op.batch_alter_table('lms_lti_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_lti_nonce_expires_at'), ['expires_at'], unique=False)

    op.create_table('lms_lti_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_lti_user_person_id_lms_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['lms_lti_platform.id'], name=op.f('fk_lms_lti_user_platform_id_lms_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_user')),
    sa.UniqueConstraint('platform_id', 'sub', name=op.f('uq_lms_lti_user_platform_id_sub'))
    )
    with op.batch_alter_table('lms_lti_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_lti_user_person_id'), ['person_id'], unique=False)

    op.create_table('lms_lti_context',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('lineitems_url', sa.String(length=1000), nullable=True),
    sa.Column('ags_scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['lms_cohort.id'], name=op.f('fk_lms_lti_context_cohort_id_lms_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_lti_context_curriculum_id_lms_curriculum')),
    sa.ForeignKeyConstraint(['platform_id'], ['lms_lti_platform.id'], name=op.f('fk_lms_lti_context_platform_id_lms_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_context')),
    sa.UniqueConstraint('platform_id', 'context_id', 'curriculum_id', name=op.f('uq_lms_lti_context_platform_id_context_id_curriculum_id'))
    )
    with op.batch_alter_table('lms_lti_context', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_lti_context_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('lms_module_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('objectives', sa.JSON(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['lms_module.id'], name=op.f('fk_lms_module_translation_module_id_lms_module')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_module_translation')),
    sa.UniqueConstraint('module_id', 'locale', name=op.f('uq_lms_module_translation_module_id_locale'))
    )
    with op.batch_alter_table('lms_module_translation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_module_translation_module_id'), ['module_id'], unique=False)

    op.create_table('lms_lti_line_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('resource_key', sa.String(length=120), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['lms_lti_context.id'], name=op.f('fk_lms_lti_line_item_context_id_lms_lti_context'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_lti_line_item')),
    sa.UniqueConstraint('context_id', 'resource_key', name=op.f('uq_lms_lti_line_item_context_id_resource_key'))
    )
    op.create_table('lms_quiz_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_version_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quiz_version_id'], ['lms_quiz_version.id'], name=op.f('fk_lms_quiz_translation_quiz_version_id_lms_quiz_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_quiz_translation')),
    sa.UniqueConstraint('quiz_version_id', 'locale', name=op.f('uq_lms_quiz_translation_quiz_version_id_locale'))
    )
    with op.batch_alter_table('lms_quiz_translation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_quiz_translation_quiz_version_id'), ['quiz_version_id'], unique=False)

    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('lms_person', schema=None) as batch_op:
        batch_op.drop_column('locale')

    with op.batch_alter_table('lms_quiz_translation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_quiz_translation_quiz_version_id'))

    op.drop_table('lms_quiz_translation')
    op.drop_table('lms_lti_line_item')
    with op.batch_alter_table('lms_module_translation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_module_translation_module_id'))

    op.drop_table('lms_module_translation')
    with op.batch_alter_table('lms_lti_context', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_lti_context_cohort_id'))

    op.drop_table('lms_lti_context')
    with op.batch_alter_table('lms_lti_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_lti_user_person_id'))

    op.drop_table('lms_lti_user')
    with op.batch_alter_table('lms_lti_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_lti_nonce_expires_at'))

    op.drop_table('lms_lti_nonce')
    with op.batch_alter_table('lms_lti_launch_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_lti_launch_state_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lms_lti_launch_state_expires_at'))

    op.drop_table('lms_lti_launch_state')
    op.drop_table('lms_lti_tool_key')
    op.drop_table('lms_lti_platform')
