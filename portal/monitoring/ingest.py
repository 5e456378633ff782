"""Batch ingest of monitoring values: raw values in, roll-ups and the facts for exceedance detection out.

ingest_values() stores a batch (keys already stored, or repeated inside the batch, are skipped), adds the inserted
hourly and manual values to the day/month roll-ups (manual samples also to the hour roll-ups: an hourly value is its
own hourly mean, hours.py merges them for the readers) and returns the inserted rows with the new roll-up totals, so
the caller detects exceedances without a second read. Python touches each value only to pass it to the driver: the
roll-up increments are one set-based INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE ... RETURNING over the
batch's rows (bulk_sql.py), run by the dialect's bulk path (pgcopy.py: COPY into a staging table; sqlitebulk.py:
executemany under the write lock).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.monitoring import pgcopy, rules, sqlitebulk
from portal.monitoring.bulk_sql import ROLLUP_PERIODS
from portal.monitoring.models import MonitoringRollup

CHUNK = 2000


@dataclass
class BatchResult:
    inserted: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    touched_hours: set[tuple[int, str, datetime]] = field(default_factory=set)
    touched_days: set[tuple[int, str, datetime]] = field(default_factory=set)
    # (outlet, pollutant, resolution, start) -> (n_valid, sum_valid, n_conv, sum_conv) after this batch
    totals: dict[tuple, tuple[int, float, int, float]] = field(default_factory=dict)


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def dialect_insert(table: sa.Table):
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def _first_of_each_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A key repeated inside the batch counts once (the first row wins)."""
    first: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        first.setdefault((r["outlet_id"], r["pollutant_code"], r["period"], r["measured_at"]), r)
    return rows if len(first) == len(rows) else list(first.values())


def ingest_values(rows: list[dict[str, Any]], tz: ZoneInfo, judged: bool = True) -> BatchResult:
    """Insert a batch of raw values and keep the roll-ups current; the caller detects exceedances. judged=False
    (back-fill, never judged): the touched periods are not worked out."""
    if not rows:
        return BatchResult()
    unique = _first_of_each_key(rows)
    inserted, totals = (pgcopy if is_postgres() else sqlitebulk).store(unique, tz)
    # hour totals of the roll-up table hold manual samples only (hourly values are their own hour): the hourly
    # means are read merged (hours.totals), never from here
    result = BatchResult(inserted=inserted, duplicates=len(rows) - len(inserted),
                         totals={k: v for k, v in totals.items() if k[2] != "hour"})
    if not judged:
        return result
    for outlet_id, code, resolution, start in result.totals:
        if resolution == "day":
            result.touched_days.add((outlet_id, code, start))
    hour_of = rules.local_period_start
    result.touched_hours = {(r["outlet_id"], r["pollutant_code"], hour_of(r["measured_at"], "hour", tz))
                            for r in inserted if r["value"] is not None and str(r["period"]) in ROLLUP_PERIODS}
    return result


def rollups_for(keys: set[tuple[int, str, datetime]], resolution: str) -> dict[tuple, MonitoringRollup]:
    """Load the roll-up rows of the given (outlet, pollutant, period start) keys."""
    if not keys:
        return {}
    by_outlet: dict[int, set] = defaultdict(set)
    for outlet_id, code, start in keys:
        by_outlet[outlet_id].add(start)
    found: dict[tuple, MonitoringRollup] = {}
    for outlet_id, starts in by_outlet.items():
        stmt = sa.select(MonitoringRollup).where(MonitoringRollup.outlet_id == outlet_id,
                                                 MonitoringRollup.resolution == resolution,
                                                 MonitoringRollup.period_start.between(min(starts), max(starts)))
        for r in db.session.scalars(stmt):
            key = (r.outlet_id, r.pollutant_code, r.period_start)
            if key in keys:
                found[key] = r
    return found
