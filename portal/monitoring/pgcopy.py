"""PostgreSQL bulk path: COPY a batch into a temporary table, then one INSERT ... SELECT ... ON CONFLICT.

psycopg does not cache the parse of very long multi-row VALUES statements (what SQLAlchemy's insertmanyvalues
sends), and that parse dominated ingest time; COPY streams the rows and the set-based INSERT keeps the same
duplicate handling and RETURNING as the portable path in ingest.py. Runs in the caller's transaction.
"""
from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.monitoring import partitions

VALUE_COLUMNS = ("enterprise_id", "outlet_id", "pollutant_code", "period", "measured_at", "value", "value_min",
                 "value_max", "value_converted", "flag", "source", "packet_id", "submission_id")
ROLLUP_COLUMNS = ("outlet_id", "pollutant_code", "resolution", "period_start", "n_all", "n_valid", "sum_valid",
                  "min_valid", "max_valid", "n_conv", "sum_conv")
_ROLLUP_KEY = "outlet_id, pollutant_code, resolution, period_start"
_ROLLUP_SET = ", ".join([
    "n_all = t.n_all + EXCLUDED.n_all", "n_valid = t.n_valid + EXCLUDED.n_valid",
    "sum_valid = t.sum_valid + EXCLUDED.sum_valid", "min_valid = LEAST(t.min_valid, EXCLUDED.min_valid)",
    "max_valid = GREATEST(t.max_valid, EXCLUDED.max_valid)", "n_conv = t.n_conv + EXCLUDED.n_conv",
    "sum_conv = t.sum_conv + EXCLUDED.sum_conv"])


def _copy(cur, table: str, source: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    """COPY rows into a session-lived staging table. It is created once per connection and emptied by every
    commit (ON COMMIT DELETE ROWS): creating and dropping it in each transaction cost ~10 ms of catalog work per
    batch. DELETE empties it between two batches of one transaction (cheap on a small temp table)."""
    cols = ", ".join(columns)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ON COMMIT DELETE ROWS AS SELECT {cols} FROM {source} "
                "WITH NO DATA")
    cur.execute(f"DELETE FROM {table}")
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_values(rows: list[dict[str, Any]]) -> set[tuple]:
    """Insert raw values, skipping stored keys; returns the inserted (outlet, pollutant, period, measured_at)."""
    partitions.ensure_months(partitions.months_of(r["measured_at"] for r in rows))  # before COPY: no row in default
    cols = ", ".join(VALUE_COLUMNS)
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cur:
        _copy(cur, "monitoring_values_in", "monitoring_values", VALUE_COLUMNS,
              [[str(r[c]) if c == "period" else r.get(c) for c in VALUE_COLUMNS] for r in rows])
        cur.execute(f"INSERT INTO monitoring_values ({cols}) SELECT {cols} FROM monitoring_values_in "
                    "ON CONFLICT DO NOTHING RETURNING outlet_id, pollutant_code, period, measured_at")
        return {(o, c, p, m) for o, c, p, m in cur.fetchall()}


def upsert_rollups(params: list[dict[str, Any]]) -> dict[tuple, tuple[int, float, int, float]]:
    """Add increments to the roll-ups; returns the new (n_valid, sum_valid, n_conv, sum_conv) per key."""
    cols = ", ".join(ROLLUP_COLUMNS)
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cur:
        _copy(cur, "monitoring_rollups_in", "monitoring_rollups", ROLLUP_COLUMNS,
              [[p[c] for c in ROLLUP_COLUMNS] for p in params])
        cur.execute(f"INSERT INTO monitoring_rollups AS t ({cols}) SELECT {cols} FROM monitoring_rollups_in "
                    f"ON CONFLICT ({_ROLLUP_KEY}) DO UPDATE SET {_ROLLUP_SET} "
                    f"RETURNING {_ROLLUP_KEY}, n_valid, sum_valid, n_conv, sum_conv")
        return {(o, c, r, s): (nv, sv, nc, sc) for o, c, r, s, nv, sv, nc, sc in cur.fetchall()}
