"""Refused frames of unregistered MNs, aggregated per MN x address x reason (issue 19).

Revision ID: 0010_unknown_mn
Revises: 0015_packs
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_unknown_mn'
down_revision = '0015_packs'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        'monitoring_unknown_senders',
        sa.Column('id', BigId, nullable=False),
        sa.Column('mn', sa.String(length=24), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_unknown_senders')),
        sa.UniqueConstraint('mn', 'address', 'reason', name=op.f('uq_monitoring_unknown_senders_mn_address_reason')),
    )
    with op.batch_alter_table('monitoring_unknown_senders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_unknown_senders_last_seen'), ['last_seen'], unique=False)


def downgrade():
    with op.batch_alter_table('monitoring_unknown_senders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_unknown_senders_last_seen'))
    op.drop_table('monitoring_unknown_senders')
