"""Issue 18 part C: complaint transfers to the competent jurisdiction.

Revision ID: 0006_complaints
Revises: 0005
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_complaints'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_region_code', sa.String(length=6), nullable=False),
    sa.Column('to_region_code', sa.String(length=6), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status_before', sa.String(length=20), nullable=False),
    sa.Column('accept_due_before', sa.Date(), nullable=False),
    sa.Column('accept_due_after', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_complaint_transfers_actor_id_users')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_transfers_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['to_region_code'], ['regions.code'], name=op.f('fk_complaint_transfers_to_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_transfers'))
    )
    op.create_index(op.f('ix_complaint_transfers_complaint_id'), 'complaint_transfers', ['complaint_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_complaint_transfers_complaint_id'), table_name='complaint_transfers')
    op.drop_table('complaint_transfers')
