"""The audit log as a hash chain: each entry's previous hash and its own, built for the entries already stored, in id order.

Revision ID: 0005_audit_chain
Revises: 0004_two_factor
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_audit_chain'
down_revision = '0004_two_factor'
branch_labels = None
depends_on = None


def upgrade():
    from esd.audit_chain import rebuild
    with op.batch_alter_table('audit_entry') as batch:
        batch.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    # The same hashing as new entries get (esd/audit_chain.py), so `flask esd audit verify` passes after.
    rebuild(op.get_bind())
    with op.batch_alter_table('audit_entry') as batch:
        batch.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('hash', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('audit_entry') as batch:
        batch.drop_column('hash')
        batch.drop_column('prev_hash')
