"""Public search (CJK bigram full-text on SQLite FTS5 and PostgreSQL tsvector)."""
