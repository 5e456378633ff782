"""The set-based roll-up statement shared by the PostgreSQL and SQLite bulk paths.

A batch's roll-up increments are computed by the database from the batch's rows (GROUP BY per outlet, pollutant and
China-local hour, day and month) and added to the stored roll-ups in the same statement, which returns the new
totals: no Python loop per value, and the sums are exact whatever the order batches arrive in.
"""
from __future__ import annotations

from portal.monitoring import rules

ROLLUP_PERIODS = ("hour", "manual")  # what feeds roll-ups: hourly means and manual samples
RESOLUTIONS = ("hour", "day", "month")
ROLLUP_KEY = ("outlet_id", "pollutant_code", "resolution", "period_start")
ROLLUP_SUMS = ("n_all", "n_valid", "sum_valid", "min_valid", "max_valid", "n_conv", "sum_conv")
_ADDED = ("n_all", "n_valid", "sum_valid", "n_conv", "sum_conv")


def _increments(batch: str, ordered: bool) -> str:
    """SELECT of the roll-up increments (ROLLUP_KEY + ROLLUP_SUMS) of the rows of `batch`, which gives
    outlet_id, pollutant_code, period, value, value_min, value_max, value_converted, flag and the China-local
    hour_start, day_start and month_start of each value. Rows that do not feed roll-ups are left out here; min and
    max take the period's own extremes when the device sent them. `ordered`: by key, one lock order for concurrent
    batches (PostgreSQL; SQLite has a single writer and skips the sort)."""
    valid = f"coalesce(flag, 'N') IN ({', '.join(repr(f) for f in sorted(rules.VALID_FLAGS))})"
    conv = f"{valid} AND value_converted IS NOT NULL"
    feeds = f"period IN ({', '.join(repr(p) for p in ROLLUP_PERIODS)}) AND value IS NOT NULL"
    parts = [f"SELECT outlet_id, pollutant_code, '{resolution}' AS resolution, {resolution}_start AS period_start, "
             f"count(*) AS n_all, sum(CASE WHEN {valid} THEN 1 ELSE 0 END) AS n_valid, "
             f"coalesce(sum(CASE WHEN {valid} THEN value END), 0) AS sum_valid, "
             f"min(CASE WHEN {valid} THEN coalesce(value_min, value) END) AS min_valid, "
             f"max(CASE WHEN {valid} THEN coalesce(value_max, value) END) AS max_valid, "
             f"sum(CASE WHEN {conv} THEN 1 ELSE 0 END) AS n_conv, "
             f"coalesce(sum(CASE WHEN {conv} THEN value_converted END), 0) AS sum_conv "
             f"FROM {batch} WHERE {feeds} "
             f"GROUP BY outlet_id, pollutant_code, {resolution}_start"
             for resolution in RESOLUTIONS]
    return (f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS increments WHERE true"
            + (" ORDER BY 1, 2, 3, 4" if ordered else ""))


def rollup_upsert_sql(rows: str, least: str, greatest: str, ordered: bool = True) -> str:
    """Add the increments of the rows of query `rows` (see _increments) to the stored roll-ups, RETURNING the key and
    the new totals. The rows are read once (a materialized CTE). `least` and `greatest` are the dialect's
    two-argument functions that ignore a NULL side."""
    sums = [f"{c} = t.{c} + excluded.{c}" for c in _ADDED]
    extremes = [f"min_valid = {least.format('t.min_valid', 'excluded.min_valid')}",
                f"max_valid = {greatest.format('t.max_valid', 'excluded.max_valid')}"]
    return (f"WITH batch AS MATERIALIZED ({rows}) "
            f"INSERT INTO monitoring_rollups AS t ({', '.join(ROLLUP_KEY + ROLLUP_SUMS)}) "
            f"{_increments('batch', ordered)} "
            f"ON CONFLICT ({', '.join(ROLLUP_KEY)}) DO UPDATE SET {', '.join(sums + extremes)} "
            f"RETURNING {', '.join(ROLLUP_KEY)}, n_valid, sum_valid, n_conv, sum_conv")
