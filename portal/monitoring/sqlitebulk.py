"""SQLite bulk path: plain DB-API executemany under the database write lock, roll-ups in one SQL statement.

The batch first takes SQLite's write lock (a write that changes nothing), so no other writer can interleave and every
row id above the table's current maximum is this batch's. The values go in with sqlite3's executemany (a C loop) and
ON CONFLICT DO NOTHING for keys already stored; the China-local period starts of the batch's few distinct instants go
into a small temporary table; then one INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE ... RETURNING
(bulk_sql.py) adds the new rows to the roll-ups and returns the totals. Runs in the caller's transaction; the
mirror of pgcopy.py.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from portal.monitoring import rules
from portal.monitoring.bulk_sql import (PACKET_COLUMNS, RESOLUTIONS, VALUE_COLUMNS, packet_json, raw_cursor,
                                        rollup_upsert_sql, value_row)

_UTC = timezone.utc
_INSERT = (f"INSERT INTO monitoring_values ({', '.join(VALUE_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(VALUE_COLUMNS))}) ON CONFLICT DO NOTHING")
_NEW_ROWS = ("SELECT m.outlet_id, m.pollutant_code, m.period, m.value, m.value_min, m.value_max, m.value_converted, "
             "m.flag, p.hour_start, p.day_start, p.month_start FROM monitoring_values AS m "
             "CROSS JOIN temp.monitoring_instants AS p WHERE m.id > :after AND p.measured_at = m.measured_at")
_UPSERT = rollup_upsert_sql(_NEW_ROWS, least="coalesce(min({0}, {1}), {0}, {1})",
                            greatest="coalesce(max({0}, {1}), {0}, {1})")  # one writer: no lock order needed


@lru_cache(maxsize=65536)
def stamp(moment: datetime) -> str:
    """The text SQLAlchemy stores for a UTCDateTime on SQLite (naive UTC, microseconds always written); cached,
    since a batch repeats each instant once per pollutant and outlet."""
    u = moment.astimezone(_UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d} {u.hour:02d}:{u.minute:02d}:{u.second:02d}."
            f"{u.microsecond:06d}")


def take_write_lock(cur) -> None:
    """SQLite grants its single write lock to the first write of a transaction, even one that changes nothing."""
    cur.execute("UPDATE monitoring_values SET id = id WHERE id = -1")


def _instants(cur, moments: set[datetime], tz: ZoneInfo) -> dict[str, datetime]:
    """Fill temp.monitoring_instants with the local hour/day/month starts of the batch's instants; returns
    stamp -> datetime of every start, to read the RETURNING of the roll-up statement back. The columns are declared
    DATETIME like monitoring_values.measured_at: with TEXT affinity on one side the join could not use the key."""
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS monitoring_instants (measured_at DATETIME PRIMARY KEY, "
                "hour_start DATETIME NOT NULL, day_start DATETIME NOT NULL, month_start DATETIME NOT NULL)")
    cur.execute("DELETE FROM temp.monitoring_instants")
    starts: dict[str, datetime] = {}
    rows = []
    for moment in moments:
        periods = [rules.local_period_start(moment, r, tz) for r in RESOLUTIONS]
        texts = [stamp(p) for p in periods]
        starts.update(zip(texts, periods))
        rows.append((stamp(moment), *texts))
    cur.executemany("INSERT INTO temp.monitoring_instants VALUES (?, ?, ?, ?)", rows)
    return starts


def store(rows: list[dict[str, Any]], tz: ZoneInfo) -> tuple[list[dict[str, Any]], dict[tuple, tuple]]:
    """Insert raw values whose key is not stored yet and add them to the roll-ups; returns the inserted rows and
    the new (n_valid, sum_valid, n_conv, sum_conv) per roll-up key (outlet, pollutant, resolution, start)."""
    with raw_cursor() as cur:
        take_write_lock(cur)
        after = cur.execute("SELECT coalesce(max(id), 0) FROM monitoring_values").fetchone()[0]
        starts = _instants(cur, {r["measured_at"] for r in rows}, tz)
        params = [value_row(r, stamp(r["measured_at"])) for r in rows]
        cur.executemany(_INSERT, params)
        inserted = rows
        if cur.rowcount != len(rows):  # some keys were stored already
            new = set(cur.execute("SELECT outlet_id, pollutant_code, period, measured_at FROM monitoring_values "
                                  "WHERE id > ?", (after,)).fetchall())
            inserted = [r for r, p in zip(rows, params) if p[1:5] in new]
        cur.execute(_UPSERT, {"after": after})
        totals = {(o, c, res, starts[s]): (nv, sv, nc, sc) for o, c, res, s, nv, sv, nc, sc in cur.fetchall()}
        return inserted, totals


def insert_packets(params: list[dict[str, Any]]) -> list[int | None]:
    """Insert packet records under the write lock; returns each one's id, None for a (MN, QN, PNO) already stored (the
    caller reports it as a duplicate). The new rows are those above the previous max(id), in insertion order."""
    with raw_cursor() as cur:
        take_write_lock(cur)
        after = cur.execute("SELECT coalesce(max(id), 0) FROM monitoring_packets").fetchone()[0]
        cur.executemany(f"INSERT INTO monitoring_packets ({', '.join(PACKET_COLUMNS)}) VALUES "
                        f"({', '.join('?' * len(PACKET_COLUMNS))}) ON CONFLICT DO NOTHING",
                        [[stamp(p[c]) if c == "received_at" else packet_json(p[c]) if c == "issues" else p[c]
                         for c in PACKET_COLUMNS] for p in params])
        new = cur.execute("SELECT id, mn, qn, pno FROM monitoring_packets WHERE id > ? ORDER BY id",
                          (after,)).fetchall()
        by_key = {(mn, qn, pno): pid for pid, mn, qn, pno in new if qn is not None}
        without_qn = iter([pid for pid, _, qn, _ in new if qn is None])  # never a conflict: NULLs are distinct
        return [by_key.get((p["mn"], p["qn"], p["pno"])) if p["qn"] else next(without_qn) for p in params]
