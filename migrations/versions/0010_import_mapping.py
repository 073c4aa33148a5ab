"""Imports remember, per agency, what a foreign column header or value means here.

Revision ID: 0010_import_mapping
Revises: 0009_planned_sessions
"""
from alembic import op
import sqlalchemy as sa

from esd.models.base import UTCDateTime

revision = '0010_import_mapping'
down_revision = '0009_planned_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=60), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('target', sa.String(length=80), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_import_mapping_agency_id_agency')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mapping')),
        sa.UniqueConstraint('agency_id', 'scope', 'source', name=op.f('uq_import_mapping_agency_id_scope_source')),
    )


def downgrade():
    op.drop_table('import_mapping')
