"""Two-factor sign-in: authenticator secrets, hashed recovery codes, and the roles or agencies that must enrol.

Revision ID: 0004_two_factor
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import esd.models.base


revision = '0004_two_factor'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('two_factor_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('created_at', esd.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IS NULL OR role IN ('admin', 'manager', 'handler', 'funder')", name=op.f('ck_two_factor_rule_role')),
    sa.CheckConstraint('(role IS NULL) != (agency_id IS NULL)', name=op.f('ck_two_factor_rule_role_or_agency')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_two_factor_rule_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_two_factor_rule')),
    sa.UniqueConstraint('agency_id', name=op.f('uq_two_factor_rule_agency_id')),
    sa.UniqueConstraint('role', name=op.f('uq_two_factor_rule_role'))
    )
    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_recovery_code_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_code_code_hash'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('user_two_factor',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('confirmed_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_time_step', sa.Integer(), nullable=True),
    sa.Column('created_at', esd.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_two_factor_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_two_factor'))
    )


def downgrade():
    op.drop_table('user_two_factor')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    op.drop_table('two_factor_rule')
