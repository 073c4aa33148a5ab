"""The trainer right: a handler who plans, sees and closes the agency's sealed sessions.

Revision ID: 0012_trainer_right
Revises: 0011_case_outcomes
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_trainer_right'
down_revision = '0011_case_outcomes'
branch_labels = None
depends_on = None


def upgrade():
    # Nobody has the right until an administrator gives it.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trainer', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_check_constraint(op.f('ck_user_trainer_handler'), "NOT trainer OR role = 'handler'")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('trainer', server_default=None)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_trainer_handler'), type_='check')
        batch_op.drop_column('trainer')
