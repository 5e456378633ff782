"""Hourly means derived from minute (CN 2051) and real-time (CN 2011) data, for devices that send no hourly data
(DOMAIN §5.10 rule 8): they feed the roll-ups, the public series and hourly exceedance detection like a device's own
hourly value, marked source `derived`.

Run by the hourly job for hours that ended at least GRACE ago (a device's own CN 2061 usually follows its hour within
minutes). An hour that already holds an hourly value (the device's own) is never derived, and a derived hour is
stored under the same key as a device hourly value, so a device mean arriving later is a duplicate and the same
exceedance is never counted twice. Minute data win over real-time data of the same hour; only normal (N) values
count; pH is never averaged (it is judged per value on arrival).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.db import utcnow
from portal.extensions import db
from portal.monitoring import ingest, rules
from portal.monitoring.models import MonitoringValue

GRACE = timedelta(minutes=15)
LOOKBACK_HOURS = 6


def derive_hourly_means(now: datetime | None = None, lookback_hours: int = LOOKBACK_HOURS) -> int:
    """Store the derived hourly means of recently ended hours; returns how many were stored."""
    from portal.monitoring import services

    now = now or utcnow()
    tz = china_tz()
    end = rules.local_period_start(now - GRACE, "hour", tz)
    start = end - timedelta(hours=lookback_hours)
    mv = MonitoringValue
    in_range = (mv.measured_at >= start, mv.measured_at < end)
    rows = db.session.execute(sa.select(mv.enterprise_id, mv.outlet_id, mv.pollutant_code, mv.period, mv.measured_at,
                                        mv.value, mv.value_converted, mv.flag)
                              .where(mv.period.in_(("minute", "realtime")), *in_range)).all()
    if not rows:
        return 0
    held = set(db.session.execute(sa.select(mv.outlet_id, mv.pollutant_code, mv.measured_at)
                                  .where(mv.period == "hour", *in_range)).all())
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"minute": [], "realtime": []})
    enterprise: dict[int, int] = {}
    for ent_id, outlet_id, code, period, at, value, conv, flag in rows:
        if code == rules.PH_CODE:
            continue
        enterprise[outlet_id] = ent_id
        groups[(outlet_id, code, rules.local_period_start(at, "hour", tz))][str(period)].append((value, conv, flag))
    derived = []
    for (outlet_id, code, hour), by_period in groups.items():
        if (outlet_id, code, hour) in held:
            continue
        values = by_period["minute"] or by_period["realtime"]
        valid = [(v, c) for v, c, f in values if v is not None and rules.is_valid_flag(f)]
        if not valid:
            continue
        nums = [v for v, _ in valid]
        convs = [c for _, c in valid if c is not None]
        derived.append({"enterprise_id": enterprise[outlet_id], "outlet_id": outlet_id, "pollutant_code": code,
                        "period": "hour", "measured_at": hour, "value": sum(nums) / len(nums),
                        "value_min": min(nums), "value_max": max(nums),
                        "value_converted": sum(convs) / len(convs) if len(convs) == len(nums) else None,
                        "flag": "N", "source": "derived", "packet_id": None})
    if not derived:
        return 0
    specs = services.limit_specs({r["outlet_id"] for r in derived})
    batch = ingest.ingest_values(derived, tz)
    services.detect_exceedances(batch, specs, tz, now)
    return len(batch.inserted)
