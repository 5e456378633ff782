"""Issue 18 part C: complaint transfers to the competent jurisdiction; random Open311 tokens.

Open311 tokens were the internal submission key. Anonymous posts had a random one ("open311:<random>") and keep
it as their token; partner posts had "open311:<partner>:<ticket>", which anyone could guess, and get no token
(the partner has the case number from its POST; a repeated POST of the ticket issues a random token).

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
    op.add_column('complaints', sa.Column('open311_token', sa.String(length=64), nullable=True))
    op.execute("UPDATE complaints SET open311_token = submission_key "
               "WHERE submission_key LIKE 'open311:%' AND submission_key NOT LIKE 'open311:%:%'")
    op.create_index(op.f('ix_complaints_open311_token'), 'complaints', ['open311_token'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_complaints_open311_token'), table_name='complaints')
    with op.batch_alter_table('complaints') as batch_op:
        batch_op.drop_column('open311_token')
    op.drop_index(op.f('ix_complaint_transfers_complaint_id'), table_name='complaint_transfers')
    op.drop_table('complaint_transfers')
