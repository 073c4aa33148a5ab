"""monthly rollups of hides and sessions, built from the rows already stored

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hide_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('device_type_id', sa.Integer(), nullable=False),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=False),
    sa.Column('hides', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('blind_hides', sa.Integer(), nullable=False),
    sa.Column('blind_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_hide_rollup_agency_id_agency')),
    sa.ForeignKeyConstraint(['device_type_id'], ['vocabulary_term.id'], name=op.f('fk_hide_rollup_device_type_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_hide_rollup_hiding_spot_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'device_type_id', 'hiding_spot_id', name=op.f('pk_hide_rollup'))
    )
    op.create_table('session_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('false_alerts', sa.Integer(), nullable=False),
    sa.Column('blind_sessions', sa.Integer(), nullable=False),
    sa.Column('blind_minutes', sa.Integer(), nullable=False),
    sa.Column('blind_false_alerts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_session_rollup_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', 'month', name=op.f('pk_session_rollup'))
    )
    # An existing installation's training log: fill the rollups now, in the upgrade's transaction.
    from esd.rollups import rebuild
    rebuild(op.get_bind())


def downgrade():
    op.drop_table('session_rollup')
    op.drop_table('hide_rollup')
