"""Tampering as an attacker with the database owner's rights would: the append-only triggers are dropped for one
statement (the test harness's SQLite path, ddl.without_triggers) and the change is committed."""
from __future__ import annotations

from portal.audit import ddl
from portal.extensions import db


def tamper(*statements) -> None:
    conn = db.session.connection()
    with ddl.without_triggers(conn):
        for stmt in statements:
            db.session.execute(stmt)
    db.session.commit()
