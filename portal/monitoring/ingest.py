"""Batch ingest of monitoring values with SQLAlchemy Core: no ORM object per value on the hot path.

ingest_values() inserts a batch (duplicates skipped by the unique key), adds the inserted hourly and manual values
to the hour/day/month roll-ups, and returns what was inserted with the new roll-up totals so the caller can detect
exceedances without a second read. The database work is dialect-specific: COPY + set-based upserts on PostgreSQL
(pgcopy.py), DB-API executemany under the write lock on SQLite (sqlitebulk.py).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.monitoring import pgcopy, rules, sqlitebulk
from portal.monitoring.models import MonitoringRollup

ROLLUP_PERIODS = ("hour", "manual")  # what feeds roll-ups: hourly means and manual samples
CHUNK = 2000


@dataclass
class BatchResult:
    inserted: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    touched_hours: set[tuple[int, str, datetime]] = field(default_factory=set)
    touched_days: set[tuple[int, str, datetime]] = field(default_factory=set)
    # (outlet, pollutant, resolution, start) -> (n_valid, sum_valid, n_conv, sum_conv) after this batch
    totals: dict[tuple, tuple[int, float, int, float]] = field(default_factory=dict)


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def dialect_insert(table: sa.Table):
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def insert_values(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Insert raw values, skipping any already stored; returns the inserted rows and the duplicate count."""
    if not rows:
        return [], 0
    total = len(rows)
    first: dict[tuple, dict[str, Any]] = {}
    for r in rows:  # a key repeated inside the batch counts once (the first row wins)
        first.setdefault((r["outlet_id"], r["pollutant_code"], str(r["period"]), r["measured_at"]), r)
    rows = list(first.values())
    inserted_keys = (pgcopy if _is_postgres() else sqlitebulk).insert_values(rows)
    inserted = [r for r in rows if (r["outlet_id"], r["pollutant_code"], str(r["period"]), r["measured_at"])
                in inserted_keys]
    return inserted, total - len(inserted)


class PeriodStarts(dict):
    """measured_at -> the UTC starts of its China-local (hour, day, month); a batch shares few distinct instants
    (every pollutant of a packet, every outlet of an hour), so each is converted once."""

    def __init__(self, tz: ZoneInfo):
        super().__init__()
        self.tz = tz

    def __missing__(self, moment: datetime) -> tuple[datetime, datetime, datetime]:
        starts = tuple(rules.local_period_start(moment, r, self.tz) for r in RESOLUTIONS)
        self[moment] = starts
        return starts


RESOLUTIONS = ("hour", "day", "month")


def _rollup_increments(rows: Iterable[dict[str, Any]], starts: PeriodStarts) -> dict[tuple, list]:
    acc: dict[tuple, list] = {}
    for row in rows:
        if str(row["period"]) not in ROLLUP_PERIODS or row["value"] is None:
            continue
        valid = rules.is_valid_flag(row["flag"])
        conv = row.get("value_converted")
        for resolution, start in zip(RESOLUTIONS, starts[row["measured_at"]]):
            key = (row["outlet_id"], row["pollutant_code"], resolution, start)
            a = acc.setdefault(key, [0, 0, 0.0, None, None, 0, 0.0])
            a[0] += 1
            if valid:
                v = row["value"]
                low = v if row.get("value_min") is None else row["value_min"]  # the period's true extremes
                high = v if row.get("value_max") is None else row["value_max"]
                a[1] += 1
                a[2] += v
                a[3] = low if a[3] is None else min(a[3], low)
                a[4] = high if a[4] is None else max(a[4], high)
                if conv is not None:
                    a[5] += 1
                    a[6] += conv
    return acc


def update_rollups(rows: Iterable[dict[str, Any]], tz: ZoneInfo, starts: PeriodStarts | None = None
                   ) -> dict[tuple, tuple[int, float, int, float]]:
    """Add newly inserted values to the hour/day/month roll-ups; returns the new totals per roll-up key."""
    acc = _rollup_increments(rows, starts if starts is not None else PeriodStarts(tz))
    if not acc:
        return {}
    params = [{"outlet_id": k[0], "pollutant_code": k[1], "resolution": k[2], "period_start": k[3], "n_all": a[0],
               "n_valid": a[1], "sum_valid": a[2], "min_valid": a[3], "max_valid": a[4], "n_conv": a[5],
               "sum_conv": a[6]} for k, a in sorted(acc.items())]  # one lock order for concurrent batches
    return (pgcopy if _is_postgres() else sqlitebulk).upsert_rollups(params)


def ingest_values(rows: list[dict[str, Any]], tz: ZoneInfo) -> BatchResult:
    """Insert a batch of raw values and keep the roll-ups current; the caller detects exceedances."""
    inserted, duplicates = insert_values(rows)
    starts = PeriodStarts(tz)
    result = BatchResult(inserted=inserted, duplicates=duplicates, totals=update_rollups(inserted, tz, starts))
    for row in inserted:
        if str(row["period"]) in ROLLUP_PERIODS:
            key = (row["outlet_id"], row["pollutant_code"])
            hour, day, _month = starts[row["measured_at"]]
            result.touched_hours.add((*key, hour))
            result.touched_days.add((*key, day))
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
