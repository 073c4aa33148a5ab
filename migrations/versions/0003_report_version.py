"""Report versions: the per-agency counter the report cache keys on (esd/report_version.py).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_version',
        sa.Column('agency_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_report_version')),
    )


def downgrade():
    op.drop_table('report_version')
