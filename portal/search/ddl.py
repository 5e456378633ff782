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
UNMANAGED_TABLE_PREFIXES = ("enterprise_fts", "apscheduler_jobs")
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
