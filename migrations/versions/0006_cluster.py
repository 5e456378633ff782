"""Coordination past one machine (issue 23): scheduler lease, job-run slots, outbox claims.

Revision ID: 0006_cluster
Revises: 0005
Create Date: 2026-12-07

scheduler_leases holds the scheduler leadership lease (portal/jobs/lease.py). job_runs gains the slot a scheduled
run serves, unique per job, and the host that ran it; started_at is indexed for pruning. outbox_messages gains a
sender's claim (claimed_by, claimed_until: a visibility timeout). Existing rows keep NULL slots and claims.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006_cluster'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=200), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_job_runs_started_at'), ['started_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_job_runs_name_slot'), ['name', 'slot'])
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_job_runs_name_slot'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_job_runs_started_at'))
        batch_op.drop_column('host')
        batch_op.drop_column('slot')
    op.drop_table('scheduler_leases')
