"""Search tokens: a break between two runs of CJK bigrams (issue 7).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

A phrase of bigrams could span the end of one run and the start of the next ("鑫鑫能" matched "工鑫鑫(鑫能…");
tokens.bigram_doc now puts a token no query produces between such runs. Every enterprise's tokens are recomputed
(the SQLite triggers and the PostgreSQL generated column re-index them) and the search data version moves on, so
cached results are not served. Keyset batches of 5,000 rows; no schema change.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    from portal.search import cache, ddl

    bind = op.get_bind()
    ddl.retokenize(bind)
    cache.bump(bind)


def downgrade():
    pass  # the old tokens only lacked the break; the new ones are read correctly by the old code
