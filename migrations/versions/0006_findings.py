"""Automatic findings are proposals until people confirm them (issue 18).

Revision ID: 0006_findings
Revises: 0005
Create Date: 2026-12-07

Schema: evidence gains the pending withdrawal request of confirmed evidence (a second regulator must agree);
exceedance incidents gain the last exceeding period and the number of exceeding values of their episode;
an import job keeps what publishing it will create (its preview).

Data: automatic evidence (monitoring, disclosure timeliness, substantiated complaints, enterprise declarations) that
was stored already verified although no second person confirmed it becomes an unconfirmed finding again; each
affected enterprise is re-graded with reason `findings-0006` in its grade history, and the change is audited.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_findings'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawal_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_request_reason', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_evidence_withdrawal_requested_by_id_users'), 'users',
                                    ['withdrawal_requested_by_id'], ['id'])
    with op.batch_alter_table('exceedance_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_period_start', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('occurrences', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('monitoring_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('impact', sa.JSON(), nullable=True))
    from portal.credit.findings_migration import unconfirm_automatic_evidence

    unconfirm_automatic_evidence(op.get_bind())


def downgrade():
    with op.batch_alter_table('monitoring_imports', schema=None) as batch_op:
        batch_op.drop_column('impact')
    with op.batch_alter_table('exceedance_incidents', schema=None) as batch_op:
        batch_op.drop_column('occurrences')
        batch_op.drop_column('last_period_start')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_withdrawal_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_column('withdrawal_request_reason')
        batch_op.drop_column('withdrawal_requested_at')
        batch_op.drop_column('withdrawal_requested_by_id')
