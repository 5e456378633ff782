"""PostgreSQL bulk path: COPY a batch into a temporary table, then set-based INSERT ... SELECT statements.

psycopg does not cache the parse of very long multi-row VALUES statements (what SQLAlchemy's insertmanyvalues
sends), and that parse dominated ingest time. Here COPY (binary) streams the rows into a landing table (a temporary
table of the session, no WAL, emptied at every commit and rollback); one statement inserts them (ON CONFLICT DO
NOTHING for keys already stored, also by a concurrent batch). When it inserted every landed row (back-fill, live
data) that is all; otherwise a savepoint undoes it and the exact statement inserts them again and removes from the
landing table what was not inserted, returning those duplicates. A second statement adds the landed rows to the
roll-ups, the China-local periods cut by date_trunc(..., time zone) (bulk_sql.py), returning the new totals. Runs in
the caller's transaction; the mirror of sqlitebulk.py.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from portal.monitoring import partitions
from portal.monitoring.bulk_sql import (OWN_MEANS, PACKET_COLUMNS, VALUE_COLUMNS, packet_json, raw_cursor,
                                        rollup_upsert_sql, value_row)

_KEY = ("outlet_id", "pollutant_code", "period", "measured_at")
_COLS = ", ".join(VALUE_COLUMNS)
# Inserted in key order: two batches that share keys (in any order) wait for each other's speculative insertions in
# one order and cannot deadlock, as the roll-up upsert's ORDER BY; the sort costs nothing measurable.
_INSERT = (f"WITH ins AS (INSERT INTO monitoring_values ({_COLS}) SELECT {_COLS} FROM monitoring_values_in "
           f"ORDER BY {', '.join(_KEY)} ON CONFLICT DO NOTHING RETURNING {', '.join(_KEY)}) "
           "DELETE FROM monitoring_values_in AS s WHERE NOT EXISTS (SELECT 1 FROM ins WHERE "
           f"{' AND '.join(f'ins.{c} = s.{c}' for c in _KEY)}) RETURNING {', '.join(f's.{c}' for c in _KEY)}")
# Without RETURNING and the anti-join: the batch's keys are all new (back-fill, live data) when the row count says
# so; otherwise the savepoint undoes it and _INSERT runs. Same key order, so the same lock order.
_INSERT_NEW = (f"INSERT INTO monitoring_values ({_COLS}) SELECT {_COLS} FROM monitoring_values_in "
               f"ORDER BY {', '.join(_KEY)} ON CONFLICT DO NOTHING")
# hour_start only for manual samples: hourly values get no hour roll-up row (bulk_sql._ctes), and each time zone
# conversion costs per row
_STAGED = ("SELECT outlet_id, pollutant_code, period, value, value_min, value_max, value_converted, flag, "
           f"CASE WHEN period <> '{OWN_MEANS}' THEN date_trunc('hour', measured_at, %(tz)s) END AS hour_start, "
           "date_trunc('day', measured_at, %(tz)s) AS day_start, "
           "date_trunc('month', measured_at, %(tz)s) AS month_start FROM monitoring_values_in")
# sum() of a bigint count is numeric on PostgreSQL: cast back, so the increments stay integers up to the insert
_UPSERT = rollup_upsert_sql(_STAGED, least="LEAST({0}, {1})", greatest="GREATEST({0}, {1})",
                            order_by="ORDER BY 1, 2, 3, 4", count_sum="sum({0})::bigint")


_COPY_TYPES: dict[str, list[int]] = {}  # staging table -> its column type OIDs, for binary COPY


def _copy(cur, table: str, source: str, columns: tuple[str, ...], rows: list[list[Any]], binary: bool = False) -> None:
    """COPY rows into a session-lived staging table. It is created once per connection and emptied by every
    commit (ON COMMIT DELETE ROWS): creating and dropping it in each transaction cost ~10 ms of catalog work per
    batch. DELETE empties it between two batches of one transaction (cheap on a small temp table).

    binary: COPY in binary format, each value dumped as the column's type (read once per process from the table):
    no text to format on the client and to parse on the server (timestamps, floats); ~2 us per value less for
    the value rows. Every value must then be of the column's Python type (datetimes timezone-aware)."""
    cols = ", ".join(columns)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ON COMMIT DELETE ROWS AS SELECT {cols} FROM {source} "
                "WITH NO DATA")
    cur.execute(f"DELETE FROM {table}")
    types = None
    if binary:
        types = _COPY_TYPES.get(table)
        if types is None:
            cur.execute(f"SELECT {cols} FROM {table} WHERE false")
            types = _COPY_TYPES[table] = [c.type_code for c in cur.description]
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN{' (FORMAT BINARY)' if binary else ''}") as copy:
        if types:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def store(rows: list[dict[str, Any]], tz: ZoneInfo) -> tuple[list[dict[str, Any]], dict[tuple, tuple]]:
    """Insert raw values whose key is not stored yet and add them to the roll-ups; returns the inserted rows and
    the new (n_valid, sum_valid, n_conv, sum_conv) per roll-up key (outlet, pollutant, resolution, start)."""
    partitions.ensure_months(partitions.months_of(r["measured_at"] for r in rows))  # before COPY: no row in default
    with raw_cursor() as cur:
        _copy(cur, "monitoring_values_in", "monitoring_values", VALUE_COLUMNS,
              [value_row(r, r["measured_at"]) for r in rows], binary=True)
        cur.execute("SAVEPOINT monitoring_landing")
        cur.execute(_INSERT_NEW)
        if cur.rowcount == len(rows):
            inserted = rows
        else:  # some keys were stored already (a re-sent batch), perhaps by a concurrent one: the exact way
            cur.execute("ROLLBACK TO SAVEPOINT monitoring_landing")
            cur.execute(_INSERT)
            duplicates = set(cur.fetchall())
            inserted = [r for r in rows if (r["outlet_id"], r["pollutant_code"], str(r["period"]), r["measured_at"])
                        not in duplicates]
        cur.execute("RELEASE SAVEPOINT monitoring_landing")
        cur.execute(_UPSERT, {"tz": tz.key}, binary=True)  # binary results: ~2,600 rows of timestamps to read
        totals = {(o, c, res, s): (nv, sv, nc, sc) for o, c, res, s, nv, sv, nc, sc in cur.fetchall()}
        return inserted, totals


def insert_packets(params: list[dict[str, Any]]) -> dict[tuple[str, str, int], int]:
    """Insert packet records that carry a QN; returns (mn, qn, pno) -> id of those inserted (a key already stored,
    also by a concurrent request, is left out: the caller reports it as a duplicate)."""
    cols = ", ".join(PACKET_COLUMNS)
    with raw_cursor() as cur:
        _copy(cur, "monitoring_packets_in", "monitoring_packets", PACKET_COLUMNS,
              [[packet_json(p[c]) if c == "issues" else p[c] for c in PACKET_COLUMNS] for p in params])
        cur.execute(f"INSERT INTO monitoring_packets ({cols}) SELECT {cols} FROM monitoring_packets_in ORDER BY mn, qn, pno "
                    "ON CONFLICT DO NOTHING RETURNING id, mn, qn, pno")
        return {(mn, qn, pno): pid for pid, mn, qn, pno in cur.fetchall()}
