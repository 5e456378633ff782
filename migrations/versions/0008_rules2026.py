"""The rules of 2026 (issue 22, second part): imported official holiday schedules (calendar_years) and
transmission-anomaly reports (integrity_anomaly_reports, 监测条例 Art. 23).

Revision ID: 0008_rules2026
Revises: 0007_merge
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_rules2026'
down_revision = '0007_merge'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('holidays', sa.Integer(), nullable=False),
    sa.Column('makeup_days', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_calendar_years_imported_by_id_users')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('integrity_anomaly_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('repair_due_on', sa.Date(), nullable=False),
    sa.Column('cause', sa.Enum('power', 'network', 'analyser', 'acquisition', 'maintenance', 'other', name='anomalycause', native_enum=False, length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('manual_substitute', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('reported', 'repaired', 'closed', name='anomalystate', native_enum=False, length=16), nullable=False),
    sa.Column('repaired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('repair_note', sa.Text(), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('repaired_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_integrity_anomaly_reports_closed_by_id_users')),
    sa.ForeignKeyConstraint(['device_id'], ['monitoring_devices.id'], name=op.f('fk_integrity_anomaly_reports_device_id_monitoring_devices')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_integrity_anomaly_reports_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['repaired_by_id'], ['users.id'], name=op.f('fk_integrity_anomaly_reports_repaired_by_id_users')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_integrity_anomaly_reports_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_anomaly_reports'))
    )
    with op.batch_alter_table('integrity_anomaly_reports', schema=None) as batch_op:
        batch_op.create_index('ix_integrity_anomaly_reports_device_noticed', ['device_id', 'noticed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_anomaly_reports_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_anomaly_reports_region_code'), ['region_code'], unique=False)


def downgrade():
    with op.batch_alter_table('integrity_anomaly_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_anomaly_reports_region_code'))
        batch_op.drop_index(batch_op.f('ix_integrity_anomaly_reports_enterprise_id'))
        batch_op.drop_index('ix_integrity_anomaly_reports_device_noticed')
    op.drop_table('integrity_anomaly_reports')
    op.drop_table('calendar_years')
