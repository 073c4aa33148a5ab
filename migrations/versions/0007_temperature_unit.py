"""Each agency chooses the unit its temperatures are shown in (°F or °C); they are stored in °C.

Revision ID: 0007_temperature_unit
Revises: 0006_issued_packets
"""
from alembic import op
import sqlalchemy as sa

revision = '0007_temperature_unit'
down_revision = '0006_issued_packets'
branch_labels = None
depends_on = None


def upgrade():
    # The server default fills the agencies already there (US agencies read °F), then goes: new rows
    # get the model's default.
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('temperature_unit', sa.String(length=1), nullable=False, server_default='F'))
        batch_op.create_check_constraint(op.f('ck_agency_temperature_unit'), "temperature_unit IN ('F', 'C')")
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.alter_column('temperature_unit', server_default=None)


def downgrade():
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agency_temperature_unit'), type_='check')
        batch_op.drop_column('temperature_unit')
