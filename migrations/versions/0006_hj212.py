"""HJ 212-2025 beside 2017 (issue 19): device protocol, SM4 key and liveness; split-upload parts, item issues and
back-fill per packet; rejected packets kept for the regulator; ozone is a05024, not a21030.

Revision ID: 0006_hj212
Revises: 0005
Create Date: 2026-12-07

The packet key becomes (mn, qn, pno): each part of a split upload is its own record (pno 0 for an unsplit packet,
so two unsplit packets with one QN still conflict on PostgreSQL, where NULLs are distinct).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_hj212'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('monitoring_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protocol', sa.String(length=4), server_default='2017', nullable=False))
        batch_op.add_column(sa.Column('sm4_key', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('last_frame_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_data_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('monitoring_packets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pno', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pnum', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.String(length=5), server_default='2017', nullable=False))
        batch_op.add_column(sa.Column('result', sa.String(length=16), server_default='accepted', nullable=False))
        batch_op.add_column(sa.Column('backfill', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('issues', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('raw', sa.Text(), nullable=True))
        batch_op.drop_constraint('uq_monitoring_packets_mn_qn', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_monitoring_packets_mn_qn_pno'), ['mn', 'qn', 'pno'])

    op.create_table('monitoring_rejections',
    sa.Column('id', BigId, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('mn', sa.String(length=24), nullable=True),
    sa.Column('qn', sa.String(length=20), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['monitoring_devices.id'],
                            name=op.f('fk_monitoring_rejections_device_id_monitoring_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_rejections'))
    )
    with op.batch_alter_table('monitoring_rejections', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_rejections_device_time', ['device_id', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_rejections_received_at'), ['received_at'], unique=False)

    # Ozone is a05024 (DOMAIN §5.6); a21030 was never ozone: drop it where nothing refers to it.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM pollutants")).scalar():
        if not bind.execute(sa.text("SELECT count(*) FROM pollutants WHERE code = 'a05024'")).scalar():
            bind.execute(sa.text("INSERT INTO pollutants (code, name, name_en, unit, medium) "
                                 "VALUES ('a05024', '臭氧', 'Ozone (O3)', 'µg/m³', 'ambient')"))
        bind.execute(sa.text("DELETE FROM pollutants WHERE code = 'a21030' AND NOT EXISTS "
                             "(SELECT 1 FROM monitoring_plan_items WHERE pollutant_code = 'a21030')"))


def downgrade():
    with op.batch_alter_table('monitoring_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_rejections_received_at'))
        batch_op.drop_index('ix_monitoring_rejections_device_time')
    op.drop_table('monitoring_rejections')
    with op.batch_alter_table('monitoring_packets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_monitoring_packets_mn_qn_pno'), type_='unique')
        batch_op.create_unique_constraint('uq_monitoring_packets_mn_qn', ['mn', 'qn'])
        for column in ('raw', 'issues', 'backfill', 'result', 'version', 'pnum', 'pno'):
            batch_op.drop_column(column)
    with op.batch_alter_table('monitoring_devices', schema=None) as batch_op:
        for column in ('last_heartbeat_at', 'last_data_at', 'last_frame_at', 'sm4_key', 'protocol'):
            batch_op.drop_column(column)
