"""Planned, sealed sessions with their areas (hides and negative areas), and assessment standards.

Revision ID: 0009_planned_sessions
Revises: 0008_proficiency_settings
"""
from alembic import op
import sqlalchemy as sa
import esd.models.base

revision = '0009_planned_sessions'
down_revision = '0008_proficiency_settings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_standard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('certifying_body_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('min_find_rate_percent', sa.Integer(), nullable=False),
    sa.Column('max_misses', sa.Integer(), nullable=True),
    sa.Column('max_false_responses', sa.Integer(), nullable=True),
    sa.Column('negative_search_required', sa.Boolean(), nullable=False),
    sa.Column('archived_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', esd.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_false_responses IS NULL OR max_false_responses >= 0', name=op.f('ck_assessment_standard_max_false_responses')),
    sa.CheckConstraint('max_misses IS NULL OR max_misses >= 0', name=op.f('ck_assessment_standard_max_misses')),
    sa.CheckConstraint('min_find_rate_percent BETWEEN 0 AND 100', name=op.f('ck_assessment_standard_min_find_rate')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_assessment_standard_agency_id_agency')),
    sa.ForeignKeyConstraint(['certifying_body_id'], ['vocabulary_term.id'], name=op.f('fk_assessment_standard_certifying_body_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_standard')),
    sa.UniqueConstraint('agency_id', 'name', name=op.f('uq_assessment_standard_agency_id_name'))
    )
    with op.batch_alter_table('assessment_standard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_standard_agency_id'), ['agency_id'], unique=False)

    op.create_table('planned_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('dog_id', sa.Integer(), nullable=False),
    sa.Column('handler_id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('environment_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('blindness', sa.String(length=16), nullable=False),
    sa.Column('placed_by', sa.String(length=120), nullable=True),
    sa.Column('observer_id', sa.Integer(), nullable=True),
    sa.Column('knew', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('evaluator', sa.String(length=120), nullable=True),
    sa.Column('certifying_body_id', sa.Integer(), nullable=True),
    sa.Column('standard_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('started_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('training_session_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=8), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=True),
    sa.Column('created_at', esd.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(kind = 'training') = (standard_id IS NULL)", name=op.f('ck_planned_session_assessment_standard')),
    sa.CheckConstraint("blindness IN ('known', 'single_blind', 'double_blind')", name=op.f('ck_planned_session_blindness')),
    sa.CheckConstraint("kind IN ('training', 'proficiency', 'certification')", name=op.f('ck_planned_session_kind')),
    sa.CheckConstraint("purpose IN ('imprint', 'maintenance', 'proficiency', 'certification_prep')", name=op.f('ck_planned_session_purpose')),
    sa.CheckConstraint("result IS NULL OR result IN ('pass', 'fail')", name=op.f('ck_planned_session_result')),
    sa.CheckConstraint('closed_at IS NULL OR training_session_id IS NOT NULL', name=op.f('ck_planned_session_closed_session')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_planned_session_agency_id_agency')),
    sa.ForeignKeyConstraint(['certifying_body_id'], ['vocabulary_term.id'], name=op.f('fk_planned_session_certifying_body_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_planned_session_closed_by_id_user')),
    sa.ForeignKeyConstraint(['dog_id'], ['dog.id'], name=op.f('fk_planned_session_dog_id_dog')),
    sa.ForeignKeyConstraint(['environment_id'], ['vocabulary_term.id'], name=op.f('fk_planned_session_environment_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['handler_id'], ['handler.id'], name=op.f('fk_planned_session_handler_id_handler')),
    sa.ForeignKeyConstraint(['observer_id'], ['user.id'], name=op.f('fk_planned_session_observer_id_user')),
    sa.ForeignKeyConstraint(['standard_id'], ['assessment_standard.id'], name=op.f('fk_planned_session_standard_id_assessment_standard')),
    sa.ForeignKeyConstraint(['trainer_id'], ['user.id'], name=op.f('fk_planned_session_trainer_id_user')),
    sa.ForeignKeyConstraint(['training_session_id'], ['training_session.id'], name=op.f('fk_planned_session_training_session_id_training_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_session')),
    sa.UniqueConstraint('training_session_id', name=op.f('uq_planned_session_training_session_id'))
    )
    with op.batch_alter_table('planned_session', schema=None) as batch_op:
        batch_op.create_index('ix_planned_session_agency_day', ['agency_id', 'planned_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_session_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_session_dog_id'), ['dog_id'], unique=False)

    op.create_table('planned_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('environment_id', sa.Integer(), nullable=True),
    sa.Column('device_type_id', sa.Integer(), nullable=True),
    sa.Column('hiding_spot_id', sa.Integer(), nullable=True),
    sa.Column('height', sa.String(length=16), nullable=True),
    sa.Column('concealment', sa.String(length=16), nullable=True),
    sa.Column('aid', sa.String(length=120), nullable=True),
    sa.Column('placed_by', sa.String(length=120), nullable=True),
    sa.Column('placed_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=True),
    sa.Column('alert_spot_id', sa.Integer(), nullable=True),
    sa.Column('alert_note', sa.String(length=200), nullable=True),
    sa.Column('seconds_to_find', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', esd.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(outcome = 'alert') = (alert_spot_id IS NOT NULL)", name=op.f('ck_planned_area_alert_spot')),
    sa.CheckConstraint("concealment IS NULL OR concealment IN ('open', 'concealed', 'buried', 'layered')", name=op.f('ck_planned_area_concealment')),
    sa.CheckConstraint("height IS NULL OR height IN ('floor', 'low', 'mid', 'high', 'overhead')", name=op.f('ck_planned_area_height')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('alert', 'no_alert')", name=op.f('ck_planned_area_outcome')),
    sa.CheckConstraint('(device_type_id IS NULL) = (hiding_spot_id IS NULL)', name=op.f('ck_planned_area_hide_whole')),
    sa.CheckConstraint('seconds_to_find IS NULL OR seconds_to_find BETWEEN 0 AND 7200', name=op.f('ck_planned_area_seconds_to_find')),
    sa.ForeignKeyConstraint(['alert_spot_id'], ['vocabulary_term.id'], name=op.f('fk_planned_area_alert_spot_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['device_type_id'], ['vocabulary_term.id'], name=op.f('fk_planned_area_device_type_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['environment_id'], ['vocabulary_term.id'], name=op.f('fk_planned_area_environment_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['hiding_spot_id'], ['vocabulary_term.id'], name=op.f('fk_planned_area_hiding_spot_id_vocabulary_term')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_planned_area_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['session_id'], ['planned_session.id'], name=op.f('fk_planned_area_session_id_planned_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_area')),
    sa.UniqueConstraint('session_id', 'position', name=op.f('uq_planned_area_session_id_position'))
    )
    with op.batch_alter_table('planned_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_area_session_id'), ['session_id'], unique=False)



def downgrade():
    with op.batch_alter_table('planned_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_area_session_id'))

    op.drop_table('planned_area')
    with op.batch_alter_table('planned_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_session_dog_id'))
        batch_op.drop_index(batch_op.f('ix_planned_session_agency_id'))
        batch_op.drop_index('ix_planned_session_agency_day')

    op.drop_table('planned_session')
    with op.batch_alter_table('assessment_standard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_standard_agency_id'))

    op.drop_table('assessment_standard')
