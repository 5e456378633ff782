"""Full-text index objects that the ORM metadata does not describe (kept out of `alembic check` by migrations/env.py).

SQLite: an external-content FTS5 table over enterprises.search_tokens, kept in sync by triggers, so bulk inserts
through plain SQL (seed-demo) are indexed too. PostgreSQL: a stored generated tsvector column with a GIN index.
Migration 0001 runs the same statements; tests build the schema with create_all() + create().
"""
from __future__ import annotations

import sqlalchemy as sa

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS enterprise_fts USING fts5(search_tokens, content='enterprises', "
    "content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS enterprises_fts_ai AFTER INSERT ON enterprises BEGIN "
    "INSERT INTO enterprise_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS enterprises_fts_ad AFTER DELETE ON enterprises BEGIN "
    "INSERT INTO enterprise_fts(enterprise_fts, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS enterprises_fts_au AFTER UPDATE OF search_tokens ON enterprises BEGIN "
    "INSERT INTO enterprise_fts(enterprise_fts, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens); "
    "INSERT INTO enterprise_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS enterprises_fts_au",
    "DROP TRIGGER IF EXISTS enterprises_fts_ad",
    "DROP TRIGGER IF EXISTS enterprises_fts_ai",
    "DROP TABLE IF EXISTS enterprise_fts",
]
POSTGRESQL = [
    "ALTER TABLE enterprises ADD COLUMN IF NOT EXISTS search_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_tokens)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_enterprises_search_tsv ON enterprises USING gin (search_tsv)",
]
POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS ix_enterprises_search_tsv",
    "ALTER TABLE enterprises DROP COLUMN IF EXISTS search_tsv",
]

# Names migrations/env.py hides from autogenerate and `alembic check`.
UNMANAGED_TABLE_PREFIXES = ("enterprise_fts", "apscheduler_jobs", "procrastinate_")  # the last two: the job engines own them
UNMANAGED_COLUMNS = {("enterprises", "search_tsv")}
UNMANAGED_INDEXES = {"ix_enterprises_search_tsv"}


def create(conn: sa.Connection) -> None:
    for stmt in SQLITE if conn.dialect.name == "sqlite" else POSTGRESQL:
        conn.exec_driver_sql(stmt)


def drop(conn: sa.Connection) -> None:
    for stmt in SQLITE_DROP if conn.dialect.name == "sqlite" else POSTGRESQL_DROP:
        conn.exec_driver_sql(stmt)


def rebuild(conn: sa.Connection) -> None:
    """Re-index every enterprise (after a bulk load that bypassed the triggers)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO enterprise_fts(enterprise_fts) VALUES ('rebuild')")


def retokenize(conn: sa.Connection, batch: int = 5000) -> int:
    """Recompute enterprises.search_tokens with the current tokens.py (a migration calls this when the token
    format changes); the SQLite triggers and the PostgreSQL generated column re-index each row. Keyset batches, so
    a million rows never sit in memory at once. Returns the number of rows."""
    from portal.search.tokens import bigram_doc

    ents = sa.table("enterprises", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("former_names", sa.JSON), sa.column("region_code", sa.String),
                    sa.column("industry_code", sa.String), sa.column("search_tokens", sa.Text))
    update = ents.update().where(ents.c.id == sa.bindparam("row_id")).values(search_tokens=sa.bindparam("tokens"))
    last, total = 0, 0
    while True:
        rows = conn.execute(sa.select(ents.c.id, ents.c.name, ents.c.former_names, ents.c.region_code,
                                      ents.c.industry_code).where(ents.c.id > last).order_by(ents.c.id).limit(batch)).all()
        if not rows:
            if conn.dialect.name == "sqlite" and total:
                conn.exec_driver_sql("INSERT INTO enterprise_fts(enterprise_fts) VALUES ('optimize')")  # one segment
            return total
        conn.execute(update, [{"row_id": r.id, "tokens": bigram_doc(" ".join([r.name, *(r.former_names or [])]),
                                                                    r.region_code or "", r.industry_code or "")}
                              for r in rows])
        last, total = rows[-1].id, total + len(rows)
