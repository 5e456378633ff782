"""Permit duties (issue 22): execution-report obligations, per-year annual deadlines, shutdowns, the permit's
state; 工况 at manual sampling (监测条例 Art. 24): monitoring_sampling_conditions.

Revision ID: 0010_permits
Revises: 0014_texts
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_permits'
down_revision = '0014_texts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('permit_execution_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Enum('year', 'half', 'quarter', 'month', name='reportfrequency', native_enum=False, length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'on_time', 'late', 'missing', 'shutdown', name='reportstatus', native_enum=False, length=16), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('receipt_no', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_permit_execution_reports_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_permit_execution_reports_filed_by_id_users')),
    sa.ForeignKeyConstraint(['permit_id'], ['permits.id'], name=op.f('fk_permit_execution_reports_permit_id_permits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_execution_reports')),
    sa.UniqueConstraint('permit_id', 'frequency', 'period_start', name=op.f('uq_permit_execution_reports_permit_id_frequency_period_start'))
    )
    with op.batch_alter_table('permit_execution_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_execution_reports_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_execution_reports_permit_id'), ['permit_id'], unique=False)
        batch_op.create_index('ix_permit_execution_reports_status_due', ['status', 'due_on'], unique=False)

    op.create_table('permit_report_deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_permit_report_deadlines_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_report_deadlines')),
    sa.UniqueConstraint('region_code', 'year', name=op.f('uq_permit_report_deadlines_region_code_year'))
    )
    op.create_table('permit_shutdowns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['permits.id'], name=op.f('fk_permit_shutdowns_permit_id_permits')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_permit_shutdowns_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_shutdowns'))
    )
    with op.batch_alter_table('permit_shutdowns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_shutdowns_permit_id'), ['permit_id'], unique=False)

    op.create_table('monitoring_sampling_conditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('production_load', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('facility_status', sa.String(length=16), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_monitoring_sampling_conditions_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_monitoring_sampling_conditions_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['submission_id'], ['monitoring_manual_submissions.id'], name=op.f('fk_monitoring_sampling_conditions_submission_id_monitoring_manual_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_sampling_conditions')),
    sa.UniqueConstraint('outlet_id', 'sampled_at', name=op.f('uq_monitoring_sampling_conditions_outlet_id_sampled_at'))
    )
    with op.batch_alter_table('monitoring_sampling_conditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_sampling_conditions_enterprise_id'), ['enterprise_id'], unique=False)

    with op.batch_alter_table('permits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('in_force', 'shutdown', 'revoked', 'cancelled', name='permitstatus', native_enum=False, length=16), nullable=False,
                                      server_default='in_force'))
        batch_op.add_column(sa.Column('status_since', sa.Date(), nullable=True))
    with op.batch_alter_table('permits', schema=None) as batch_op:  # existing permits are in force; no DB default
        batch_op.alter_column('status', server_default=None)



def downgrade():
    with op.batch_alter_table('permits', schema=None) as batch_op:
        batch_op.drop_column('status_since')
        batch_op.drop_column('status')

    with op.batch_alter_table('monitoring_sampling_conditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_sampling_conditions_enterprise_id'))

    op.drop_table('monitoring_sampling_conditions')
    with op.batch_alter_table('permit_shutdowns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_shutdowns_permit_id'))

    op.drop_table('permit_shutdowns')
    op.drop_table('permit_report_deadlines')
    with op.batch_alter_table('permit_execution_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_permit_execution_reports_status_due')
        batch_op.drop_index(batch_op.f('ix_permit_execution_reports_permit_id'))
        batch_op.drop_index(batch_op.f('ix_permit_execution_reports_enterprise_id'))

    op.drop_table('permit_execution_reports')
