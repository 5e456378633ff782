"""The database refuses UPDATE and DELETE on the audit tables (records and seals): row triggers on PostgreSQL and
SQLite, created with the tables (create_all) and by migration 0006.

Why triggers and no bypass switch: a session-settable bypass (a GUC or a flag row) would be a switch any code with
the application's connection could flip, which is what the triggers exist to stop. Instead:
- PostgreSQL: the test harness empties the table with TRUNCATE, which row triggers do not see. In production the
  application role must neither own these tables nor hold TRUNCATE or TRIGGER on them (docs/security.md), so it
  cannot TRUNCATE them or DISABLE the triggers; the owner (a migration role) can, as it can for any table.
- SQLite has no roles: whoever can write the file can drop a trigger. The harness drops the triggers, empties the
  table and creates them again (ddl.without_triggers); the keyed hashes and published heads catch what a file
  editor changes.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

TABLES = ("audit_records", "audit_seals")
FUNCTION = "audit_append_only"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
    MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END $$
"""


def _name(table: str, op: str) -> str:
    return f"{table}_no_{op.lower()}"


def create(conn: Connection, tables: tuple[str, ...] = TABLES) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(PG_FUNCTION)
        for t in tables:
            conn.exec_driver_sql(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                                 f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()")
    elif conn.dialect.name == "sqlite":
        for t in tables:
            for op in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {_name(t, op)} BEFORE {op} ON {t} BEGIN "
                                     f"SELECT RAISE(ABORT, '{t} is append-only: {op} refused'); END")


def drop(conn: Connection, tables: tuple[str, ...] = TABLES) -> None:
    if conn.dialect.name == "postgresql":
        for t in tables:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
    elif conn.dialect.name == "sqlite":
        for t in tables:
            for op in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_name(t, op)}")


@contextmanager
def without_triggers(conn: Connection) -> Iterator[None]:
    """SQLite test harness and tamper tests only: the triggers are gone inside the block (one transaction)."""
    drop(conn)
    try:
        yield
    finally:
        create(conn)


def install(metadata: sa.MetaData) -> None:
    """create_all() also creates the triggers (the test harness builds its schema that way)."""
    for name in TABLES:
        table = metadata.tables[name]
        sa.event.listen(table, "after_create", lambda target, connection, **kw: create(connection, (target.name,)))
        sa.event.listen(table, "before_drop", lambda target, connection, **kw: drop(connection, (target.name,)))
