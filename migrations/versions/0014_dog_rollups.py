"""rollups per dog: its training per month and its hides per device type and hiding spot

The dog page read its five figures from the dog's raw hides (five scans of ~4,000 rows for a busy
dog at 1M hides); these two tables answer them in a few dozen rows. The upgrade rebuilds every
rollup table from the raw rows, in the upgrade's transaction.

Revision ID: 0014_dog_rollups
Revises: 0013_field_alerts
"""
from alembic import op
import sqlalchemy as sa

revision = '0014_dog_rollups'
down_revision = '0013_field_alerts'
branch_labels = None
depends_on = None

_SESSION_COUNTS = ('sessions', 'minutes', 'false_alerts', 'blind_sessions', 'blind_minutes', 'blind_false_alerts')
_HIDE_COUNTS = ('hides', 'found', 'blind_hides', 'blind_found')


def _counts(names):
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def upgrade():
    # WITHOUT ROWID on SQLite (ignored elsewhere): the primary key is the table, see esd/models/rollups.py.
    op.create_table('dog_month_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('dog_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *_counts(_SESSION_COUNTS + _HIDE_COUNTS),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_dog_month_rollup_agency_id_agency')),
    sa.ForeignKeyConstraint(['dog_id'], ['dog.id'], name=op.f('fk_dog_month_rollup_dog_id_dog')),
    sa.PrimaryKeyConstraint('agency_id', 'dog_id', 'month', name=op.f('pk_dog_month_rollup')),
    sqlite_with_rowid=False,
    )
    op.create_table('dog_pair_rollup',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('dog_id', sa.Integer(), nullable=False),
    sa.Column('device_type_id', sa.Integer(), nullable=False),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=False),
    *_counts(_HIDE_COUNTS),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_dog_pair_rollup_agency_id_agency')),
    sa.ForeignKeyConstraint(['dog_id'], ['dog.id'], name=op.f('fk_dog_pair_rollup_dog_id_dog')),
    sa.ForeignKeyConstraint(['device_type_id'], ['vocabulary_term.id'], name=op.f('fk_dog_pair_rollup_device_type_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_dog_pair_rollup_hiding_spot_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('agency_id', 'dog_id', 'device_type_id', 'hiding_spot_id', name=op.f('pk_dog_pair_rollup')),
    sqlite_with_rowid=False,
    )
    # Today's rebuild fills today's tables: a later migration that adds a rollup table or column moves
    # this call there (as this one took it from 0002).
    from esd.rollups import rebuild
    rebuild(op.get_bind())


def downgrade():
    op.drop_table('dog_pair_rollup')
    op.drop_table('dog_month_rollup')
