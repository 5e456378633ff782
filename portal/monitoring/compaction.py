"""Minute data past its working life: packed per outlet, pollutant and day; every data type kept for its retention.

- `compact` (job `monitoring-compaction`): CN 2051 minute and CN 2011 real-time rows older than
  MONITORING_COMPACT_AFTER_DAYS (30; 0 turns it off) become one `monitoring_minute_packs` row per outlet × pollutant
  × data type × China-local day (portal/monitoring/packing.py: exact values, ~10 bytes a value instead of ~219).
  Nothing public reads those rows: the public series, the API, exceedance detection and the integrity rules read
  hourly values and the roll-ups, which are left as they were; derived hourly means read only the last hours.
  A late back-fill into a packed day is merged into its pack at the next run (the first stored reading of an
  instant wins, as the value table's unique key does). `readings()` gives the raw records back from both forms.
- `enforce_retention` (job `monitoring-retention`): each data type is kept MONITORING_RETENTION_YEARS[type] years,
  never fewer than RAW_RECORD_RETENTION_YEARS (itself at least 5, 《生态环境监测条例》 art. 26; checked at start).

Both work in bounded steps (MONITORING_COMPACT_MAX_ROWS rows, MONITORING_RETENTION_BATCH rows a statement) and
commit per outlet-day / batch, so a province's backlog is worked off over several runs without a long transaction.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.core.clock import china_tz
from portal.db import utcnow
from portal.extensions import db
from portal.monitoring import packing, rules
from portal.monitoring.models import MonitoringValue
from portal.monitoring.pack_models import MinutePack

PACKED = ("minute", "realtime")
PERIODS = ("realtime", "minute", "hour", "day", "manual")
_COLUMNS = ("enterprise_id", "pollutant_code", "period", "measured_at", "value", "value_min", "value_max",
            "value_converted", "flag", "source", "packet_id")


def _cutoff(now: datetime, days: int) -> datetime:
    return rules.local_period_start(now - timedelta(days=days), "day", china_tz())


def _reading(row) -> packing.Reading:
    return packing.Reading(measured_at=row.measured_at, value=row.value, value_min=row.value_min,
                           value_max=row.value_max, value_converted=row.value_converted, flag=row.flag or "",
                           source=str(row.source or ""), packet_id=row.packet_id)


def compact_outlet_day(outlet_id: int, day_start: datetime, day_end: datetime) -> int:
    """Pack one outlet's minute/real-time rows of one local day and delete them (flushes); returns rows packed."""
    mv = MonitoringValue
    where = (mv.outlet_id == outlet_id, mv.period.in_(PACKED), mv.measured_at >= day_start, mv.measured_at < day_end)
    rows = db.session.execute(sa.select(*[getattr(mv, c) for c in _COLUMNS]).where(*where)).all()
    if not rows:
        return 0
    groups: dict[tuple[str, str], list] = defaultdict(list)
    enterprise = {}
    for row in rows:
        key = (row.pollutant_code, str(row.period))
        groups[key].append(_reading(row))
        enterprise[key] = row.enterprise_id
    day = day_start.astimezone(china_tz()).date()
    for (code, period), readings in groups.items():
        pack = db.session.scalar(sa.select(MinutePack).where(
            MinutePack.outlet_id == outlet_id, MinutePack.pollutant_code == code, MinutePack.period == period,
            MinutePack.day == day))
        if pack is not None:
            readings = packing.merge(packing.unpack(pack.day_start, pack.payload), readings)
        else:
            pack = MinutePack(enterprise_id=enterprise[(code, period)], outlet_id=outlet_id, pollutant_code=code,
                              period=period, day=day, day_start=day_start)
            db.session.add(pack)
        pack.payload = packing.pack(day_start, readings)
        pack.count = len(readings)
    db.session.execute(sa.delete(mv.__table__).where(*where))
    db.session.flush()
    return len(rows)


def compact(now: datetime | None = None) -> dict[str, int]:
    """The job: oldest days first, one outlet-day per commit, until the row budget of this run is spent."""
    days = int(current_app.config.get("MONITORING_COMPACT_AFTER_DAYS", 30))
    if days <= 0:
        return {"rows": 0, "outlet_days": 0}
    budget = int(current_app.config.get("MONITORING_COMPACT_MAX_ROWS", 2_000_000))
    cutoff = _cutoff(now or utcnow(), days)
    tz = china_tz()
    mv = MonitoringValue
    packed = outlet_days = 0
    while packed < budget:
        first = db.session.scalar(sa.select(sa.func.min(mv.measured_at))
                                  .where(mv.period.in_(PACKED), mv.measured_at < cutoff))
        if first is None:
            break
        day_start = rules.local_period_start(first, "day", tz)
        day_end = min(rules.period_end(day_start, "day", tz), cutoff)
        outlets = db.session.scalars(sa.select(mv.outlet_id).distinct().where(
            mv.period.in_(PACKED), mv.measured_at >= day_start, mv.measured_at < day_end)).all()
        for outlet_id in outlets:
            packed += compact_outlet_day(outlet_id, day_start, day_end)
            outlet_days += 1
            db.session.commit()
            if packed >= budget:
                break
    return {"rows": packed, "outlet_days": outlet_days}


def retention_years(config) -> dict[str, int]:
    """Years kept per data type: MONITORING_RETENTION_YEARS over RAW_RECORD_RETENTION_YEARS, never below it."""
    floor = int(config.get("RAW_RECORD_RETENTION_YEARS", 5))
    chosen = dict(config.get("MONITORING_RETENTION_YEARS") or {})
    return {p: max(floor, int(chosen.get(p, floor))) for p in PERIODS}


def _years_ago(now: datetime, years: int) -> datetime:
    local = now.astimezone(china_tz())
    try:
        then = local.replace(year=local.year - years)
    except ValueError:  # 29 February
        then = local.replace(year=local.year - years, day=28)
    return rules.local_period_start(then, "day", china_tz())


def enforce_retention(now: datetime | None = None) -> dict[str, int]:
    """The job: delete values and packs older than their type's retention, in batches, committing each."""
    now = now or utcnow()
    batch = int(current_app.config.get("MONITORING_RETENTION_BATCH", 50_000))
    mv = MonitoringValue.__table__
    removed: dict[str, int] = {}
    for period, years in retention_years(current_app.config).items():
        cut = _years_ago(now, years)
        total = 0
        while True:
            ids = sa.select(mv.c.id).where(mv.c.period == period, mv.c.measured_at < cut).limit(batch)
            n = db.session.execute(sa.delete(mv).where(mv.c.id.in_(ids.scalar_subquery()))).rowcount or 0
            db.session.commit()
            total += n
            if n < batch:
                break
        if period in PACKED:
            total += db.session.execute(sa.delete(MinutePack.__table__).where(
                MinutePack.period == period, MinutePack.day_start < cut)).rowcount or 0
            db.session.commit()
        removed[period] = total
    return removed


def readings(outlet_id: int, code: str, period: str, start: datetime, end: datetime) -> list[packing.Reading]:
    """The raw minute/real-time records of [start, end), from the value table and the packs alike."""
    mv = MonitoringValue
    rows = db.session.execute(sa.select(*[getattr(mv, c) for c in _COLUMNS]).where(
        mv.outlet_id == outlet_id, mv.pollutant_code == code, mv.period == period, mv.measured_at >= start,
        mv.measured_at < end)).all()
    out = [_reading(r) for r in rows]
    packs = db.session.scalars(sa.select(MinutePack).where(
        MinutePack.outlet_id == outlet_id, MinutePack.pollutant_code == code, MinutePack.period == period,
        MinutePack.day_start < end, MinutePack.day_start > start - timedelta(days=2))).all()
    for pack in packs:
        out.extend(r for r in packing.unpack(pack.day_start, pack.payload) if start <= r.measured_at < end)
    return sorted(out, key=lambda r: r.measured_at)
