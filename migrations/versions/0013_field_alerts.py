"""Every field alert has an outcome: the field_alert table replaces the deployment's "unverified alert" box.

Existing data: a deployment marked "unverified alert" becomes one unverified alert; every find
becomes a confirmed alert linked to it (a find is an alert of the dog where a device was then
recovered: without them the field accuracy of the records already kept would read 0%). The
deployment rollup gains the alerts by outcome: per month, alerts = the unverified alerts it
already counted + its finds, and confirmed = its finds, exactly what the rows above give.

Revision ID: 0013_field_alerts
Revises: 0012_trainer_right
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_field_alerts'
down_revision = '0012_trainer_right'
branch_labels = None
depends_on = None

_ALERT_COUNTS = ('alerts', 'alerts_confirmed', 'alerts_explained')


def upgrade():
    op.create_table('field_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=True),
    sa.Column('location_note', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('find_id', sa.Integer(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.CheckConstraint("(outcome = 'confirmed') = (find_id IS NOT NULL)", name=op.f('ck_field_alert_confirmed_has_find')),
    sa.CheckConstraint("outcome <> 'explained' OR (explanation IS NOT NULL AND explanation <> '')", name=op.f('ck_field_alert_explained_has_explanation')),
    sa.CheckConstraint("outcome IN ('confirmed', 'unverified', 'explained')", name=op.f('ck_field_alert_outcome')),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], name=op.f('fk_field_alert_deployment_id_deployment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['find_id'], ['find.id'], name=op.f('fk_field_alert_find_id_find')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_field_alert_hiding_spot_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_alert')),
    sa.UniqueConstraint('find_id', name=op.f('uq_field_alert_find_id'))
    )
    with op.batch_alter_table('field_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_alert_deployment_id'), ['deployment_id'], unique=False)

    alert = sa.table('field_alert', sa.column('deployment_id', sa.Integer), sa.column('hiding_spot_id', sa.Integer),
                     sa.column('outcome', sa.String), sa.column('find_id', sa.Integer))
    find = sa.table('find', sa.column('id', sa.Integer), sa.column('deployment_id', sa.Integer),
                    sa.column('hiding_spot_id', sa.Integer))
    deployment = sa.table('deployment', sa.column('id', sa.Integer), sa.column('unverified_alert', sa.Boolean))
    op.execute(alert.insert().from_select(
        ['deployment_id', 'hiding_spot_id', 'outcome', 'find_id'],
        sa.select(find.c.deployment_id, find.c.hiding_spot_id, sa.literal('confirmed'), find.c.id)
        .order_by(find.c.id)))
    op.execute(alert.insert().from_select(
        ['deployment_id', 'outcome'],
        sa.select(deployment.c.id, sa.literal('unverified')).where(deployment.c.unverified_alert.is_(True))
        .order_by(deployment.c.id)))
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_column('unverified_alert')

    with op.batch_alter_table('deployment_rollup', schema=None) as batch_op:
        for name in _ALERT_COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    rollup = sa.table('deployment_rollup', sa.column('unverified_alerts', sa.Integer), sa.column('finds', sa.Integer),
                      sa.column('alerts', sa.Integer), sa.column('alerts_confirmed', sa.Integer))
    op.execute(rollup.update().values(alerts=rollup.c.unverified_alerts + rollup.c.finds,
                                      alerts_confirmed=rollup.c.finds))
    with op.batch_alter_table('deployment_rollup', schema=None) as batch_op:
        for name in _ALERT_COUNTS:
            batch_op.alter_column(name, server_default=None)


def downgrade():
    # Back to one box per deployment: ticked when it had an unverified or explained alert. The
    # rollup's unverified_alerts then counts alerts, not deployments: run `flask esd rollups --rebuild`.
    with op.batch_alter_table('deployment_rollup', schema=None) as batch_op:
        for name in _ALERT_COUNTS:
            batch_op.drop_column(name)
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unverified_alert', sa.Boolean(), nullable=False, server_default=sa.false()))
    alert = sa.table('field_alert', sa.column('deployment_id', sa.Integer), sa.column('outcome', sa.String))
    deployment = sa.table('deployment', sa.column('id', sa.Integer), sa.column('unverified_alert', sa.Boolean))
    op.execute(deployment.update().values(unverified_alert=True).where(deployment.c.id.in_(
        sa.select(alert.c.deployment_id).where(alert.c.outcome != 'confirmed'))))
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.alter_column('unverified_alert', server_default=None)
    with op.batch_alter_table('field_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_alert_deployment_id'))
    op.drop_table('field_alert')
