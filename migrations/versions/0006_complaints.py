"""Issue 18 part C: complaint transfers to the competent jurisdiction; random Open311 tokens; the 双随机 inspector
roster and inspections (codes, yearly caps, ratings).

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
    # 双随机: the inspector roster and the inspections with their codes, caps and ratings
    op.create_table('credit_inspectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
    sa.Column('certificate_no', sa.String(length=40), nullable=False),
    sa.Column('certificate_valid_from', sa.Date(), nullable=False),
    sa.Column('certificate_valid_until', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_credit_inspectors_added_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_credit_inspectors_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_inspectors')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_credit_inspectors_certificate_no'))
    )
    op.create_index(op.f('ix_credit_inspectors_jurisdiction_code'), 'credit_inspectors', ['jurisdiction_code'], unique=False)
    op.create_table('credit_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('routine', 'case', name='inspectionkind', native_enum=False, length=16), nullable=False),
    sa.Column('trigger', sa.Enum('draw', 'complaint', 'data_anomaly', 'referral', 'enterprise_request', name='inspectiontrigger', native_enum=False, length=24), nullable=False),
    sa.Column('counts_against_cap', sa.Boolean(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=6), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['credit_inspection_draws.id'], name=op.f('fk_credit_inspections_draw_id_credit_inspection_draws')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_credit_inspections_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['rated_by_id'], ['users.id'], name=op.f('fk_credit_inspections_rated_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_credit_inspections_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_inspections')),
    sa.UniqueConstraint('code', name=op.f('uq_credit_inspections_code'))
    )
    op.create_index(op.f('ix_credit_inspections_draw_id'), 'credit_inspections', ['draw_id'], unique=False)
    op.create_index('ix_credit_inspections_enterprise_year', 'credit_inspections', ['enterprise_id', 'year'], unique=False)
    op.create_table('credit_inspection_inspectors',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['credit_inspections.id'], name=op.f('fk_credit_inspection_inspectors_inspection_id_credit_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inspector_id'], ['credit_inspectors.id'], name=op.f('fk_credit_inspection_inspectors_inspector_id_credit_inspectors')),
    sa.PrimaryKeyConstraint('inspection_id', 'inspector_id', name=op.f('pk_credit_inspection_inspectors'))
    )


def downgrade():
    op.drop_table('credit_inspection_inspectors')
    op.drop_index('ix_credit_inspections_enterprise_year', table_name='credit_inspections')
    op.drop_index(op.f('ix_credit_inspections_draw_id'), table_name='credit_inspections')
    op.drop_table('credit_inspections')
    op.drop_index(op.f('ix_credit_inspectors_jurisdiction_code'), table_name='credit_inspectors')
    op.drop_table('credit_inspectors')
    op.drop_index(op.f('ix_complaints_open311_token'), table_name='complaints')
    with op.batch_alter_table('complaints') as batch_op:
        batch_op.drop_column('open311_token')
    op.drop_index(op.f('ix_complaint_transfers_complaint_id'), table_name='complaint_transfers')
    op.drop_table('complaint_transfers')
