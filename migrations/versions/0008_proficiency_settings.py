"""Each agency sets its proficiency standard (the find rate a dog should reach, default 90%) and its
readiness window (how many days a device type, hiding spot, concealment or height may go untrained,
default 60).

Revision ID: 0008_proficiency_settings
Revises: 0007_temperature_unit
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_proficiency_settings'
down_revision = '0007_temperature_unit'
branch_labels = None
depends_on = None


def upgrade():
    # The server defaults fill the agencies already there, then go: new rows get the model's default.
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proficiency_standard', sa.Integer(), nullable=False, server_default='90'))
        batch_op.add_column(sa.Column('readiness_window_days', sa.Integer(), nullable=False, server_default='60'))
        batch_op.create_check_constraint(op.f('ck_agency_proficiency_standard'),
                                         'proficiency_standard BETWEEN 1 AND 100')
        batch_op.create_check_constraint(op.f('ck_agency_readiness_window'), 'readiness_window_days BETWEEN 1 AND 365')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.alter_column('proficiency_standard', server_default=None)
        batch_op.alter_column('readiness_window_days', server_default=None)


def downgrade():
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agency_readiness_window'), type_='check')
        batch_op.drop_constraint(op.f('ck_agency_proficiency_standard'), type_='check')
        batch_op.drop_column('readiness_window_days')
        batch_op.drop_column('proficiency_standard')
