"""Issued packets (what /verify checks) and the audit chain's daily checkpoints.

Revision ID: 0006_issued_packets
Revises: 0005_audit_chain
"""
from alembic import op
import sqlalchemy as sa

from esd.models.base import UTCDateTime

revision = '0006_issued_packets'
down_revision = '0005_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'issued_packet',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('dog_id', sa.Integer(), nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=True),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('audit_head', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_issued_packet_agency_id_agency')),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'],
                                name=op.f('fk_issued_packet_deployment_id_deployment')),
        sa.ForeignKeyConstraint(['dog_id'], ['dog.id'], name=op.f('fk_issued_packet_dog_id_dog')),
        sa.ForeignKeyConstraint(['issued_by_id'], ['user.id'], name=op.f('fk_issued_packet_issued_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_packet')),
        sa.UniqueConstraint('code', name=op.f('uq_issued_packet_code')),
    )
    op.create_index(op.f('ix_issued_packet_digest'), 'issued_packet', ['digest'], unique=False)
    op.create_table(
        'audit_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('head', sa.String(length=64), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('sent_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_audit_checkpoint_agency_id_agency')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
        sa.UniqueConstraint('agency_id', 'day', name=op.f('uq_audit_checkpoint_agency_id_day')),
    )


def downgrade():
    op.drop_table('audit_checkpoint')
    op.drop_index(op.f('ix_issued_packet_digest'), table_name='issued_packet')
    op.drop_table('issued_packet')
