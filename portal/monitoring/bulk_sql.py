"""What the PostgreSQL and SQLite bulk paths share: the column lists, the shape of a value row and the set-based
roll-up statement.

A batch's roll-up increments are computed by the database from the batch's rows and added to the stored roll-ups in
the same statement, which returns the new totals: no Python loop per value. Both run on a raw DB-API cursor
(raw_cursor), whose errors come out as SQLAlchemy's like any other statement's. Each row's validity and contributions
are worked out once (batch), the manual samples summed per China-local hour (hours), every row per day (days) and
the days per month, so the expensive per-row work happens once and not once per resolution. Hourly values are their
own hourly means and get no hour roll-up row: at back-fill rates that row cost as much as the value (hours.py merges
them back for the readers).
"""
from __future__ import annotations

import json

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.monitoring import rules

VALUE_COLUMNS = ("enterprise_id", "outlet_id", "pollutant_code", "period", "measured_at", "value", "value_min",
                 "value_max", "value_converted", "flag", "source", "packet_id", "submission_id")
PACKET_COLUMNS = ("mn", "qn", "cn", "device_id", "received_at", "value_count", "unknown_codes", "pno", "pnum",
                  "version", "result", "backfill", "issues", "raw")


def packet_json(value):
    """The packet's `issues` list as JSON text, for the raw DB-API paths (COPY, sqlite3 executemany)."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


ROLLUP_PERIODS = ("hour", "manual")  # what feeds roll-ups: hourly means and manual samples
OWN_MEANS = "hour"  # hourly means feed the day and month roll-ups, and are their own hour (no hour roll-up row)
RESOLUTIONS = ("hour", "day", "month")
ROLLUP_KEY = ("outlet_id", "pollutant_code", "resolution", "period_start")
ROLLUP_SUMS = ("n_all", "n_valid", "sum_valid", "min_valid", "max_valid", "n_conv", "sum_conv")
_ADDED = ("n_all", "n_valid", "sum_valid", "n_conv", "sum_conv")


def _sums(count_sum: str) -> str:
    """The sums of sums (days from hours, months from days); count_sum formats the sum of an integer count."""
    counts = {c: count_sum.format(c) for c in ("n_all", "n_valid", "n_conv")}
    return (f"{counts['n_all']} AS n_all, {counts['n_valid']} AS n_valid, sum(sum_valid) AS sum_valid, "
            f"min(min_valid) AS min_valid, max(max_valid) AS max_valid, {counts['n_conv']} AS n_conv, "
            "sum(sum_conv) AS sum_conv")


def _ctes(rows: str, count_sum: str) -> str:
    """batch: the feeding rows of query `rows` (outlet_id, pollutant_code, period, value, value_min, value_max,
    value_converted, flag, hour_start, day_start, month_start) with their valid contributions; min and max take the
    period's own extremes when the device sent them. hours: the sums per local hour of the manual samples only: an
    hourly value (a device's CN 2061 mean, a derived mean) is its own hourly mean and gets no hour roll-up row
    (hours.py merges the two for the readers; `rows` may leave hour_start NULL for them). days: the sums per local
    day of every feeding row."""
    valid = f"coalesce(flag, 'N') IN ({', '.join(repr(f) for f in sorted(rules.VALID_FLAGS))})"
    feeds = f"period IN ({', '.join(repr(p) for p in ROLLUP_PERIODS)}) AND value IS NOT NULL"
    sums = ("count(*) AS n_all, sum(v) AS n_valid, coalesce(sum(vv), 0) AS sum_valid, min(lo) AS min_valid, "
            "max(hi) AS max_valid, count(cv) AS n_conv, coalesce(sum(cv), 0) AS sum_conv FROM batch")
    return (f"WITH batch AS MATERIALIZED (SELECT outlet_id, pollutant_code, period, hour_start, day_start, "
            f"month_start, CASE WHEN {valid} THEN 1 ELSE 0 END AS v, CASE WHEN {valid} THEN value END AS vv, "
            f"CASE WHEN {valid} THEN coalesce(value_min, value) END AS lo, "
            f"CASE WHEN {valid} THEN coalesce(value_max, value) END AS hi, "
            f"CASE WHEN {valid} THEN value_converted END AS cv FROM ({rows}) AS r WHERE {feeds}), "
            f"hours AS MATERIALIZED (SELECT outlet_id, pollutant_code, hour_start, {sums} "
            f"WHERE period <> '{OWN_MEANS}' GROUP BY outlet_id, pollutant_code, hour_start), "
            f"days AS MATERIALIZED (SELECT outlet_id, pollutant_code, day_start, month_start, {sums} "
            "GROUP BY outlet_id, pollutant_code, day_start, month_start) ")


def _increments(order_by: str, count_sum: str) -> str:
    """SELECT of the increments (ROLLUP_KEY + ROLLUP_SUMS) from the CTEs, in the order `order_by` (an ORDER BY
    clause or nothing)."""
    sums = ", ".join(ROLLUP_SUMS)
    parts = [f"SELECT outlet_id, pollutant_code, 'hour' AS resolution, hour_start AS period_start, {sums} FROM hours",
             f"SELECT outlet_id, pollutant_code, 'day', day_start, {sums} FROM days",
             f"SELECT outlet_id, pollutant_code, 'month', month_start, {_sums(count_sum)} FROM days "
             "GROUP BY outlet_id, pollutant_code, month_start"]
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS increments WHERE true {order_by}"


def rollup_upsert_sql(rows: str, least: str, greatest: str, order_by: str = "", count_sum: str = "sum({0})") -> str:
    """Add the increments of the rows of query `rows` (see _ctes) to the stored roll-ups, RETURNING the key and the
    new totals. `least` and `greatest` are the dialect's two-argument functions that ignore a NULL side; `order_by`
    gives concurrent batches one lock order where writers run side by side (PostgreSQL); `count_sum` formats the sum
    of a count (PostgreSQL's sum(bigint) is numeric: "sum({0})::bigint" keeps integer arithmetic)."""
    sums = [f"{c} = t.{c} + excluded.{c}" for c in _ADDED]
    extremes = [f"min_valid = {least.format('t.min_valid', 'excluded.min_valid')}",
                f"max_valid = {greatest.format('t.max_valid', 'excluded.max_valid')}"]
    return (f"{_ctes(rows, count_sum)}INSERT INTO monitoring_rollups AS t ({', '.join(ROLLUP_KEY + ROLLUP_SUMS)}) "
            f"{_increments(order_by, count_sum)} "
            f"ON CONFLICT ({', '.join(ROLLUP_KEY)}) DO UPDATE SET {', '.join(sums + extremes)} "
            f"RETURNING {', '.join(ROLLUP_KEY)}, n_valid, sum_valid, n_conv, sum_conv")


def value_row(r: dict[str, Any], measured_at: Any) -> tuple:
    """A value dict as a VALUE_COLUMNS tuple; measured_at as the dialect wants it (a datetime or SQLite's text)."""
    return (r["enterprise_id"], r["outlet_id"], r["pollutant_code"], str(r["period"]), measured_at, r["value"],
            r.get("value_min"), r.get("value_max"), r.get("value_converted"), r["flag"], str(r["source"]),
            r.get("packet_id"), r.get("submission_id"))


@contextmanager
def raw_cursor() -> Iterator[Any]:
    """A DB-API cursor on the session's connection, in the caller's transaction. The driver's own errors are raised
    as SQLAlchemy's wrapped exceptions (OperationalError for a deadlock or a lost connection, IntegrityError, ...),
    as every ORM statement's are, so the error handlers (503, not 500), the HJ 212 listener and commit_retrying see
    one kind of error."""
    conn = db.session.connection()
    dialect = conn.dialect
    cur = conn.connection.dbapi_connection.cursor()
    try:
        yield cur
    except dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cur.close()
