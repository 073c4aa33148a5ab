"""Case outcomes per deployment (counts only), each agency's region, each funder's fiscal-year start.

Revision ID: 0011_case_outcomes
Revises: 0010_import_mapping
"""
from alembic import op
import sqlalchemy as sa

from esd.models.base import UTCDateTime

revision = '0011_case_outcomes'
down_revision = '0010_import_mapping'
branch_labels = None
depends_on = None

COUNTS = ('devices_examined', 'devices_with_evidence', 'arrests', 'charges', 'children_safeguarded')


def upgrade():
    op.create_table(
        'case_outcome',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in COUNTS),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        *(sa.CheckConstraint(f'{name} IS NULL OR {name} BETWEEN 0 AND 100000', name=op.f(f'ck_case_outcome_{name}'))
          for name in COUNTS),
        sa.CheckConstraint('devices_with_evidence IS NULL OR devices_examined IS NULL '
                           'OR devices_with_evidence <= devices_examined',
                           name=op.f('ck_case_outcome_evidence_of_examined')),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_case_outcome_agency_id_agency')),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ondelete='CASCADE',
                                name=op.f('fk_case_outcome_deployment_id_deployment')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_case_outcome_updated_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_outcome')),
        sa.UniqueConstraint('deployment_id', name=op.f('uq_case_outcome_deployment_id')),
    )
    op.create_index(op.f('ix_case_outcome_agency_id'), 'case_outcome', ['agency_id'], unique=False)
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=80), nullable=True))
    # Every funder's year is the calendar year until an administrator sets another start.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fiscal_year_start', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_check_constraint(op.f('ck_user_fiscal_year_start'), 'fiscal_year_start BETWEEN 1 AND 12')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('fiscal_year_start', server_default=None)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_fiscal_year_start'), type_='check')
        batch_op.drop_column('fiscal_year_start')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('region')
    op.drop_index(op.f('ix_case_outcome_agency_id'), table_name='case_outcome')
    op.drop_table('case_outcome')
