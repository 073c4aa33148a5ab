"""rollups of the training log and the deployments per agency and month, built from the rows already stored

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
    # WITHOUT ROWID on SQLite (ignored elsewhere): the primary key is the table, see esd/models/rollups.py.
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
    sa.PrimaryKeyConstraint('agency_id', 'month', 'device_type_id', 'hiding_spot_id', name=op.f('pk_hide_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('year_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Date(), nullable=False),
    sa.Column('device_type_id', sa.Integer(), nullable=False),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=False),
    sa.Column('hides', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('blind_hides', sa.Integer(), nullable=False),
    sa.Column('blind_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_year_rollup_agency_id_agency')),
    sa.ForeignKeyConstraint(['device_type_id'], ['vocabulary_term.id'], name=op.f('fk_year_rollup_device_type_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_year_rollup_hiding_spot_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('agency_id', 'year', 'device_type_id', 'hiding_spot_id', name=op.f('pk_year_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('device_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('device_type_id', sa.Integer(), nullable=False),
    sa.Column('hides', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('blind_hides', sa.Integer(), nullable=False),
    sa.Column('blind_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_device_rollup_agency_id_agency')),
    sa.ForeignKeyConstraint(['device_type_id'], ['vocabulary_term.id'], name=op.f('fk_device_rollup_device_type_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'device_type_id', name=op.f('pk_device_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('spot_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=False),
    sa.Column('hides', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('blind_hides', sa.Integer(), nullable=False),
    sa.Column('blind_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_spot_rollup_agency_id_agency')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_spot_rollup_hiding_spot_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'hiding_spot_id', name=op.f('pk_spot_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('pair_rollup',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('device_type_id', sa.Integer(), nullable=False),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=False),
    sa.Column('hides', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('blind_hides', sa.Integer(), nullable=False),
    sa.Column('blind_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_type_id'], ['vocabulary_term.id'], name=op.f('fk_pair_rollup_device_type_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_pair_rollup_hiding_spot_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('month', 'device_type_id', 'hiding_spot_id', name=op.f('pk_pair_rollup')),
    sqlite_with_rowid=False,
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
    sa.Column('hides', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('blind_hides', sa.Integer(), nullable=False),
    sa.Column('blind_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_session_rollup_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', 'month', name=op.f('pk_session_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('deployment_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('deployments', sa.Integer(), nullable=False),
    sa.Column('unverified_alerts', sa.Integer(), nullable=False),
    sa.Column('finds', sa.Integer(), nullable=False),
    sa.Column('finds_missed', sa.Integer(), nullable=False),
    sa.Column('evidence_yes', sa.Integer(), nullable=False),
    sa.Column('evidence_no', sa.Integer(), nullable=False),
    sa.Column('evidence_pending', sa.Integer(), nullable=False),
    sa.Column('searches_with_find', sa.Integer(), nullable=False),
    sa.Column('searches_with_missed_find', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_deployment_rollup_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', 'month', name=op.f('pk_deployment_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('served_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('requesting_agency', sa.String(length=160), nullable=False),
    sa.Column('deployments', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_served_rollup_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'requesting_agency', name=op.f('pk_served_rollup')),
    sqlite_with_rowid=False,
    )
    # An existing installation's records are counted by 0014, which rebuilds every rollup table with
    # today's code (rebuilding here, before the later rollup columns and tables exist, cannot work).


def downgrade():
    op.drop_table('served_rollup')
    op.drop_table('deployment_rollup')
    op.drop_table('session_rollup')
    op.drop_table('pair_rollup')
    op.drop_table('year_rollup')
    op.drop_table('spot_rollup')
    op.drop_table('device_rollup')
    op.drop_table('hide_rollup')
