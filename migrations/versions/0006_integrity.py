"""Integrity flags R1-R13 (issue 22): flags, their events, per-outlet scan watermarks, and the data the rules
need (device range/MDL channels, O&M companies, supervisory results, lab CMA scopes, lab sampling details).

Revision ID: 0006_integrity
Revises: 0005
Create Date: 2026-12-07 16:18:54.781674

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_integrity'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('integrity_lab_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cma_no', sa.String(length=32), nullable=False),
    sa.Column('lab_name', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_lab_scopes')),
    sa.UniqueConstraint('cma_no', 'method', name=op.f('uq_integrity_lab_scopes_cma_no_method'))
    )
    with op.batch_alter_table('integrity_lab_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_lab_scopes_cma_no'), ['cma_no'], unique=False)

    op.create_table('integrity_lab_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('pollutant_code', sa.String(length=12), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('lab_name', sa.String(length=200), nullable=False),
    sa.Column('lab_cma_no', sa.String(length=32), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('samplers', sa.JSON(), nullable=False),
    sa.Column('sampling_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sampling_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('analysed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_no', sa.String(length=64), nullable=False),
    sa.Column('report_issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('value_text', sa.String(length=32), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_integrity_lab_samples_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_integrity_lab_samples_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['pollutant_code'], ['pollutants.code'], name=op.f('fk_integrity_lab_samples_pollutant_code_pollutants')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_integrity_lab_samples_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['submission_id'], ['monitoring_manual_submissions.id'], name=op.f('fk_integrity_lab_samples_submission_id_monitoring_manual_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_lab_samples'))
    )
    with op.batch_alter_table('integrity_lab_samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_lab_samples_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_lab_samples_lab_cma_no'), ['lab_cma_no'], unique=False)

    op.create_table('integrity_supervisory_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('pollutant_code', sa.String(length=12), nullable=False),
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('report_no', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_integrity_supervisory_results_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_integrity_supervisory_results_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['pollutant_code'], ['pollutants.code'], name=op.f('fk_integrity_supervisory_results_pollutant_code_pollutants')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_integrity_supervisory_results_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_supervisory_results'))
    )
    with op.batch_alter_table('integrity_supervisory_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_supervisory_results_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_supervisory_results_outlet_id'), ['outlet_id'], unique=False)

    op.create_table('integrity_watermarks',
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('scanned_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_integrity_watermarks_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('outlet_id', name=op.f('pk_integrity_watermarks'))
    )
    op.create_table('integrity_device_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('pollutant_code', sa.String(length=12), nullable=False),
    sa.Column('range_low', sa.Float(), nullable=False),
    sa.Column('range_high', sa.Float(), nullable=False),
    sa.Column('detection_limit', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['monitoring_devices.id'], name=op.f('fk_integrity_device_channels_device_id_monitoring_devices')),
    sa.ForeignKeyConstraint(['pollutant_code'], ['pollutants.code'], name=op.f('fk_integrity_device_channels_pollutant_code_pollutants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_device_channels')),
    sa.UniqueConstraint('device_id', 'pollutant_code', name=op.f('uq_integrity_device_channels_device_id_pollutant_code'))
    )
    with op.batch_alter_table('integrity_device_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_device_channels_device_id'), ['device_id'], unique=False)

    op.create_table('integrity_device_maintainers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('company_uscc', sa.String(length=18), nullable=False),
    sa.Column('contract_from', sa.Date(), nullable=False),
    sa.Column('contract_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['monitoring_devices.id'], name=op.f('fk_integrity_device_maintainers_device_id_monitoring_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_device_maintainers'))
    )
    with op.batch_alter_table('integrity_device_maintainers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_device_maintainers_company_uscc'), ['company_uscc'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_device_maintainers_device_id'), ['device_id'], unique=False)

    op.create_table('integrity_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=4), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('pollutant_code', sa.String(length=16), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('measure', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('series', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('open', 'dismissed', 'warned', 'answered', 'resolved', 'inspected', 'confirmed', 'cleared', name='flagstate', native_enum=False, length=12), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_due_on', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=True),
    sa.Column('inspectors', sa.String(length=200), nullable=False),
    sa.Column('inspection_note', sa.Text(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['monitoring_devices.id'], name=op.f('fk_integrity_flags_device_id_monitoring_devices')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_integrity_flags_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_integrity_flags_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_integrity_flags_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_flags')),
    sa.UniqueConstraint('rule_id', 'dedupe_key', name=op.f('uq_integrity_flags_rule_id_dedupe_key'))
    )
    with op.batch_alter_table('integrity_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_flags_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_integrity_flags_region_state', ['region_code', 'state'], unique=False)

    op.create_table('integrity_flag_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('open', 'dismissed', 'warned', 'answered', 'resolved', 'inspected', 'confirmed', 'cleared', name='flagstate', native_enum=False, length=12), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_integrity_flag_events_actor_id_users')),
    sa.ForeignKeyConstraint(['flag_id'], ['integrity_flags.id'], name=op.f('fk_integrity_flag_events_flag_id_integrity_flags')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_flag_events'))
    )
    with op.batch_alter_table('integrity_flag_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_flag_events_flag_id'), ['flag_id'], unique=False)



def downgrade():
    with op.batch_alter_table('integrity_flag_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_flag_events_flag_id'))

    op.drop_table('integrity_flag_events')
    with op.batch_alter_table('integrity_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_integrity_flags_region_state')
        batch_op.drop_index(batch_op.f('ix_integrity_flags_enterprise_id'))

    op.drop_table('integrity_flags')
    with op.batch_alter_table('integrity_device_maintainers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_device_maintainers_device_id'))
        batch_op.drop_index(batch_op.f('ix_integrity_device_maintainers_company_uscc'))

    op.drop_table('integrity_device_maintainers')
    with op.batch_alter_table('integrity_device_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_device_channels_device_id'))

    op.drop_table('integrity_device_channels')
    op.drop_table('integrity_watermarks')
    with op.batch_alter_table('integrity_supervisory_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_supervisory_results_outlet_id'))
        batch_op.drop_index(batch_op.f('ix_integrity_supervisory_results_enterprise_id'))

    op.drop_table('integrity_supervisory_results')
    with op.batch_alter_table('integrity_lab_samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_lab_samples_lab_cma_no'))
        batch_op.drop_index(batch_op.f('ix_integrity_lab_samples_enterprise_id'))

    op.drop_table('integrity_lab_samples')
    with op.batch_alter_table('integrity_lab_scopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_lab_scopes_cma_no'))

    op.drop_table('integrity_lab_scopes')
