"""One grade, one truth (issue 18): credit_standings holds the current standing of evaluated enterprises only.

Revision ID: 0006_standing
Revises: 0005
Create Date: 2026-12-07

New columns: basis ("evaluation" | "dynamic"), since (the day the grade took effect), result_id (the final annual
result it came from); an index on grade for the search filter. Existing rows of enterprises that were never
evaluated (no ledger line and no result in a final run) are deleted: they held the scheme's start grade, which the
portal no longer shows. The remaining rows are marked due (next_change_on = today), so the daily credit-refresh job
re-decides basis, since and result; it also picks up enterprises with a final result and no row.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_standing'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credit_standings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=16), server_default='dynamic', nullable=False))
        batch_op.add_column(sa.Column('since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('result_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_credit_standings_result_id_credit_evaluation_results'),
                                    'credit_evaluation_results', ['result_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_credit_standings_grade', ['grade'], unique=False)
    op.execute(
        "DELETE FROM credit_standings WHERE NOT EXISTS (SELECT 1 FROM credit_ledger_entries l "
        "WHERE l.enterprise_id = credit_standings.enterprise_id) AND NOT EXISTS (SELECT 1 FROM "
        "credit_evaluation_results r JOIN credit_evaluation_runs u ON u.id = r.run_id WHERE u.status = 'final' "
        "AND r.enterprise_id = credit_standings.enterprise_id)")
    standings = sa.table('credit_standings', sa.column('since', sa.Date), sa.column('as_of', sa.Date),
                         sa.column('next_change_on', sa.Date))
    op.execute(standings.update().values(since=standings.c.as_of, next_change_on=date.today()))


def downgrade():
    with op.batch_alter_table('credit_standings', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_standings_grade')
        batch_op.drop_constraint(batch_op.f('fk_credit_standings_result_id_credit_evaluation_results'),
                                 type_='foreignkey')
        batch_op.drop_column('result_id')
        batch_op.drop_column('since')
        batch_op.drop_column('basis')
