"""Readiness: versioned standards policies and agreement texts, signatures, competency
ratings, sign-offs (append-only) and certificates.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:41:35.511976
"""

import sqlalchemy as sa
from alembic import op

import lms.models._types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_agreement_curriculum_id_lms_curriculum')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_agreement')),
    sa.UniqueConstraint('curriculum_id', 'key', 'number', name=op.f('uq_lms_agreement_curriculum_id_key_number'))
    )
    with op.batch_alter_table('lms_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_agreement_curriculum_id'), ['curriculum_id'], unique=False)

    op.create_table('lms_competency_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('competency', sa.String(length=100), nullable=False),
    sa.Column('rating', sa.String(length=20), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('setting', sa.String(length=30), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('as_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_competency_rating_curriculum_id_lms_curriculum')),
    sa.ForeignKeyConstraint(['rated_by_id'], ['lms_person.id'], name=op.f('fk_lms_competency_rating_rated_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_competency_rating_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_competency_rating'))
    )
    with op.batch_alter_table('lms_competency_rating', schema=None) as batch_op:
        batch_op.create_index('ix_lms_competency_rating_trainee', ['trainee_id', 'competency'], unique=False)

    op.create_table('lms_standards_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_standards_policy_curriculum_id_lms_curriculum')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_standards_policy')),
    sa.UniqueConstraint('curriculum_id', 'number', name=op.f('uq_lms_standards_policy_curriculum_id_number'))
    )
    with op.batch_alter_table('lms_standards_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_standards_policy_curriculum_id'), ['curriculum_id'], unique=False)

    op.create_table('lms_agreement_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('typed_name', sa.String(length=200), nullable=False),
    sa.Column('signed_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['lms_agreement.id'], name=op.f('fk_lms_agreement_signature_agreement_id_lms_agreement')),
    sa.ForeignKeyConstraint(['person_id'], ['lms_person.id'], name=op.f('fk_lms_agreement_signature_person_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_agreement_signature')),
    sa.UniqueConstraint('person_id', 'agreement_id', name=op.f('uq_lms_agreement_signature_person_id_agreement_id'))
    )
    with op.batch_alter_table('lms_agreement_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_agreement_signature_person_id'), ['person_id'], unique=False)

    op.create_table('lms_sign_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('curriculum_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('override_justification', sa.Text(), nullable=True),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('as_admin', sa.Boolean(), nullable=False),
    sa.Column('revokes_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['curriculum_id'], ['lms_curriculum.id'], name=op.f('fk_lms_sign_off_curriculum_id_lms_curriculum')),
    sa.ForeignKeyConstraint(['policy_id'], ['lms_standards_policy.id'], name=op.f('fk_lms_sign_off_policy_id_lms_standards_policy')),
    sa.ForeignKeyConstraint(['revokes_id'], ['lms_sign_off.id'], name=op.f('fk_lms_sign_off_revokes_id_lms_sign_off')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['lms_person.id'], name=op.f('fk_lms_sign_off_signed_by_id_lms_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_sign_off_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_sign_off'))
    )
    with op.batch_alter_table('lms_sign_off', schema=None) as batch_op:
        batch_op.create_index('ix_lms_sign_off_trainee', ['trainee_id', 'created_at'], unique=False)

    op.create_table('lms_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sign_off_id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('created_at', lms.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sign_off_id'], ['lms_sign_off.id'], name=op.f('fk_lms_certificate_sign_off_id_lms_sign_off')),
    sa.ForeignKeyConstraint(['trainee_id'], ['lms_person.id'], name=op.f('fk_lms_certificate_trainee_id_lms_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_lms_certificate_code')),
    sa.UniqueConstraint('sign_off_id', name=op.f('uq_lms_certificate_sign_off_id'))
    )
    with op.batch_alter_table('lms_certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_certificate_trainee_id'), ['trainee_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lms_certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_certificate_trainee_id'))

    op.drop_table('lms_certificate')
    with op.batch_alter_table('lms_sign_off', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_sign_off_trainee')

    op.drop_table('lms_sign_off')
    with op.batch_alter_table('lms_agreement_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_agreement_signature_person_id'))

    op.drop_table('lms_agreement_signature')
    with op.batch_alter_table('lms_standards_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_standards_policy_curriculum_id'))

    op.drop_table('lms_standards_policy')
    with op.batch_alter_table('lms_competency_rating', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_competency_rating_trainee')

    op.drop_table('lms_competency_rating')
    with op.batch_alter_table('lms_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_agreement_curriculum_id'))

    op.drop_table('lms_agreement')
