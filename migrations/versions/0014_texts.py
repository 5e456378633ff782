"""System-written texts as message codes; GB/T 4754 levels (issue 21).

evidence.message_code / message_params: a title the system wrote, rendered in the reader's language. Existing rows
whose title has a known shape ("w01018 manual 85", "DW001 w01018: no valid hourly data for 30 h", ...) are converted;
other titles stay free text. industries.level / parent_code: sections, divisions and groups of GB/T 4754-2017 are
loaded beside the classes (portal/reference/data/industries.csv); existing rows are classes (level 4).

Revision ID: 0014_texts
Revises: 0012_landing
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_texts'
down_revision = '0012_landing'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence', recreate='never') as batch_op:
        batch_op.add_column(sa.Column('message_code', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('message_params', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table('industries', recreate='never') as batch_op:
        batch_op.add_column(sa.Column('level', sa.SmallInteger(), server_default='4', nullable=False))
        batch_op.add_column(sa.Column('parent_code', sa.String(length=5), nullable=True))
    # Data: parse the known free-text shapes (the same parser the tests exercise).
    from portal.core.messages import migrate_evidence_titles

    migrate_evidence_titles(op.get_bind())


def downgrade():
    # recreate='never': SQLite (3.35+) drops the columns in place; recreating industries would break the enterprises
    # foreign key.
    with op.batch_alter_table('industries', recreate='never') as batch_op:
        batch_op.drop_column('parent_code')
        batch_op.drop_column('level')
    with op.batch_alter_table('evidence', recreate='never') as batch_op:
        batch_op.drop_column('message_params')
        batch_op.drop_column('message_code')
