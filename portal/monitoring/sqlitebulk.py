"""SQLite bulk path: plain DB-API executemany under the database write lock, no per-row SQLAlchemy work.

SQLAlchemy's multi-row INSERT ... RETURNING built and typed every parameter and result in Python, which cost more
than SQLite's own work. Here the batch first takes SQLite's write lock (a write that changes nothing), so no other
writer can interleave; then the stored keys of the batch's time range are read with one indexed range query per
series, and only new rows are inserted with sqlite3's executemany (a C loop). Roll-ups are merged in Python with the
stored rows and written back with two executemany statements (INSERT new, UPDATE existing), so the new totals are
known without RETURNING. Runs in the caller's transaction; the mirror of pgcopy.py.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from portal.extensions import db

VALUE_COLUMNS = ("enterprise_id", "outlet_id", "pollutant_code", "period", "measured_at", "value", "value_min",
                 "value_max", "value_converted", "flag", "source", "packet_id", "submission_id")
ROLLUP_SUMS = ("n_all", "n_valid", "sum_valid", "min_valid", "max_valid", "n_conv", "sum_conv")
_UTC = timezone.utc


@lru_cache(maxsize=65536)
def stamp(moment: datetime) -> str:
    """The text SQLAlchemy stores for a UTCDateTime on SQLite (naive UTC, microseconds always written); cached,
    since a batch repeats each instant once per pollutant and outlet."""
    u = moment.astimezone(_UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d} {u.hour:02d}:{u.minute:02d}:{u.second:02d}."
            f"{u.microsecond:06d}")


def _cursor():
    return db.session.connection().connection.dbapi_connection.cursor()


def take_write_lock(cur) -> None:
    """SQLite grants its single write lock to the first write of a transaction, even one that changes nothing."""
    cur.execute("UPDATE monitoring_values SET id = id WHERE id = -1")


def _series(keys: list[tuple]) -> dict[tuple, tuple[str, str]]:
    """(first three key parts) -> (min, max) of the time stamp: one range per series to read back."""
    ranges: dict[tuple, list[str]] = {}
    for *head, moment in keys:
        r = ranges.setdefault(tuple(head), [moment, moment])
        if moment < r[0]:
            r[0] = moment
        elif moment > r[1]:
            r[1] = moment
    return {k: (v[0], v[1]) for k, v in ranges.items()}


def insert_values(rows: list[dict[str, Any]]) -> set[tuple]:
    """Insert raw values whose key is not stored yet; returns the inserted (outlet, pollutant, period, measured_at)
    keys, measured_at as given in the rows."""
    cur = _cursor()
    try:
        take_write_lock(cur)
        keyed = [((r["outlet_id"], r["pollutant_code"], str(r["period"]), stamp(r["measured_at"])), r) for r in rows]
        stored: set[tuple] = set()
        for (outlet_id, code, period), (low, high) in _series([k for k, _ in keyed]).items():
            cur.execute("SELECT measured_at FROM monitoring_values WHERE outlet_id = ? AND pollutant_code = ? "
                        "AND period = ? AND measured_at BETWEEN ? AND ?", (outlet_id, code, period, low, high))
            stored.update((outlet_id, code, period, m) for (m,) in cur.fetchall())
        new = [(k, r) for k, r in keyed if k not in stored]
        cols = ", ".join(VALUE_COLUMNS)
        cur.executemany(f"INSERT INTO monitoring_values ({cols}) VALUES ({', '.join('?' * len(VALUE_COLUMNS))})",
                        [(r["enterprise_id"], r["outlet_id"], r["pollutant_code"], k[2], k[3], r["value"],
                          r.get("value_min"), r.get("value_max"), r.get("value_converted"), r["flag"],
                          str(r["source"]), r.get("packet_id"), r.get("submission_id")) for k, r in new])
        return {(r["outlet_id"], r["pollutant_code"], k[2], r["measured_at"]) for k, r in new}
    finally:
        cur.close()


def _merge(old: list, inc: dict[str, Any]) -> list:
    """Stored sums [n_all, n_valid, sum_valid, min_valid, max_valid, n_conv, sum_conv] plus an increment."""
    low = inc["min_valid"] if old[3] is None else old[3] if inc["min_valid"] is None else min(old[3], inc["min_valid"])
    high = inc["max_valid"] if old[4] is None else old[4] if inc["max_valid"] is None else max(old[4],
                                                                                               inc["max_valid"])
    return [old[0] + inc["n_all"], old[1] + inc["n_valid"], old[2] + inc["sum_valid"], low, high,
            old[5] + inc["n_conv"], old[6] + inc["sum_conv"]]


def upsert_rollups(params: list[dict[str, Any]]) -> dict[tuple, tuple[int, float, int, float]]:
    """Add increments to the roll-ups; returns the new (n_valid, sum_valid, n_conv, sum_conv) per key."""
    cur = _cursor()
    try:
        take_write_lock(cur)
        keyed = [((p["outlet_id"], p["pollutant_code"], str(p["resolution"]), stamp(p["period_start"])), p)
                 for p in params]
        stored: dict[tuple, tuple[int, list]] = {}
        for (outlet_id, code, resolution), (low, high) in _series([k for k, _ in keyed]).items():
            cur.execute(f"SELECT id, period_start, {', '.join(ROLLUP_SUMS)} FROM monitoring_rollups "
                        "WHERE outlet_id = ? AND pollutant_code = ? AND resolution = ? "
                        "AND period_start BETWEEN ? AND ?", (outlet_id, code, resolution, low, high))
            for rid, start, *sums in cur.fetchall():
                stored[(outlet_id, code, resolution, start)] = (rid, sums)
        inserts, updates, totals = [], [], {}
        for key, p in keyed:
            if key in stored:
                rid, old = stored[key]
                sums = _merge(old, p)
                updates.append((*sums, rid))
            else:
                sums = [p[c] for c in ROLLUP_SUMS]
                inserts.append((*key, *sums))
            totals[(p["outlet_id"], p["pollutant_code"], key[2], p["period_start"])] = (sums[1], sums[2], sums[5],
                                                                                       sums[6])
        if inserts:
            cur.executemany("INSERT INTO monitoring_rollups (outlet_id, pollutant_code, resolution, period_start, "
                            f"{', '.join(ROLLUP_SUMS)}) VALUES ({', '.join('?' * (4 + len(ROLLUP_SUMS)))})", inserts)
        if updates:
            cur.executemany(f"UPDATE monitoring_rollups SET {', '.join(f'{c} = ?' for c in ROLLUP_SUMS)} "
                            "WHERE id = ?", updates)
        return totals
    finally:
        cur.close()

