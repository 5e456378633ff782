"""Packed minute and real-time values (issue 23): monitoring_minute_packs.

Revision ID: 0015_packs
Revises: 0009_register
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_packs'
down_revision = '0009_register'
branch_labels = None
depends_on = None


def upgrade():
    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'monitoring_minute_packs',
        sa.Column('id', big, nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('outlet_id', sa.Integer(), nullable=False),
        sa.Column('pollutant_code', sa.String(length=16), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('day_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_monitoring_minute_packs_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'],
                                name=op.f('fk_monitoring_minute_packs_outlet_id_outlets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_minute_packs')),
        sa.UniqueConstraint('outlet_id', 'pollutant_code', 'period', 'day',
                            name=op.f('uq_monitoring_minute_packs_outlet_id_pollutant_code_period_day')),
    )
    op.create_index('ix_monitoring_minute_packs_enterprise_day', 'monitoring_minute_packs', ['enterprise_id', 'day'])


def downgrade():
    op.drop_index('ix_monitoring_minute_packs_enterprise_day', table_name='monitoring_minute_packs')
    op.drop_table('monitoring_minute_packs')
