"""Join the parallel 0006 migrations of this round (issues 18-23) into one head.

Revision ID: 0007_merge
Revises: '0006_accounts','0006_cluster','0006_complaints','0006_findings','0006_hardening','0006_hj212','0006_integrity','0006_standing'
Create Date: 2026-12-07

Each 0006_* file was written beside the others on its own branch from 0005; they touch disjoint tables, so their
order does not matter. This revision only joins them.
"""

# revision identifiers, used by Alembic.
revision = '0007_merge'
down_revision = ('0006_accounts','0006_cluster','0006_complaints','0006_findings','0006_hardening','0006_hj212','0006_integrity','0006_standing')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
