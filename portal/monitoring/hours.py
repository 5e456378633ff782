"""Hourly means as every reader sees them: the hour roll-up rows merged with the hourly values.

An hourly value (a device's CN 2061 mean, or a mean derived from its minute data) is its own hourly mean, so the
ingest writes no hour roll-up row for it (bulk_sql._ctes): at back-fill rates that row cost as much as the value
itself. Hour roll-up rows hold the manual samples only. The readers (public series and API, hourly exceedance
detection, the gap job, the integrity scan) read an hour as the sum of both, which is exactly what the hour roll-up
held before: n_all, n_valid, sum_valid, min/max (the device's own Min/Max when sent), n_conv, sum_conv of the hour's
hourly values and manual samples, only normal values valid. Day and month roll-ups still hold everything.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.extensions import db
from portal.monitoring import rules
from portal.monitoring.bulk_sql import OWN_MEANS
from portal.monitoring.models import MonitoringRollup, MonitoringValue

HOUR = timedelta(hours=1)
# (start, n_all, n_valid, sum_valid, n_conv, sum_conv, min, max): the column order of queries._points
Point = tuple


def _valid_sql(flag):
    return sa.func.coalesce(flag, "N").in_(sorted(rules.VALID_FLAGS))


def merged(outlet_ids: set[int], codes: set[str], start: datetime, end: datetime) -> dict[tuple[int, str], list]:
    """(outlet, pollutant) -> the hours starting in [start, end) (hour boundaries) as Points, in time order."""
    if not outlet_ids or not codes:
        return {}
    tz = china_tz()
    acc: dict[tuple[int, str, datetime], list] = {}
    v = MonitoringValue
    for outlet_id, code, at, value, low, high, conv, flag in db.session.execute(
            sa.select(v.outlet_id, v.pollutant_code, v.measured_at, v.value, v.value_min, v.value_max,
                      v.value_converted, v.flag)
            .where(v.outlet_id.in_(outlet_ids), v.pollutant_code.in_(codes), v.period == OWN_MEANS,
                   v.value.is_not(None), v.measured_at >= start, v.measured_at < end)):
        a = acc.setdefault((outlet_id, code, rules.local_period_start(at, "hour", tz)), [0, 0, 0.0, 0, 0.0, None, None])
        a[0] += 1
        if rules.is_valid_flag(flag):
            low, high = value if low is None else low, value if high is None else high
            a[1], a[2] = a[1] + 1, a[2] + value
            if conv is not None:
                a[3], a[4] = a[3] + 1, a[4] + conv
            a[5] = low if a[5] is None else min(a[5], low)
            a[6] = high if a[6] is None else max(a[6], high)
    r = MonitoringRollup
    for outlet_id, code, at, n_all, n_valid, sum_valid, n_conv, sum_conv, low, high in db.session.execute(
            sa.select(r.outlet_id, r.pollutant_code, r.period_start, r.n_all, r.n_valid, r.sum_valid, r.n_conv,
                      r.sum_conv, r.min_valid, r.max_valid)
            .where(r.outlet_id.in_(outlet_ids), r.pollutant_code.in_(codes), r.resolution == "hour",
                   r.period_start >= start, r.period_start < end)):
        a = acc.setdefault((outlet_id, code, at), [0, 0, 0.0, 0, 0.0, None, None])
        a[0], a[1], a[2], a[3], a[4] = a[0] + n_all, a[1] + n_valid, a[2] + sum_valid, a[3] + n_conv, a[4] + sum_conv
        a[5] = low if a[5] is None else a[5] if low is None else min(a[5], low)
        a[6] = high if a[6] is None else a[6] if high is None else max(a[6], high)
    out: dict[tuple[int, str], list] = defaultdict(list)
    for (outlet_id, code, at) in sorted(acc):
        out[(outlet_id, code)].append((at, *acc[(outlet_id, code, at)]))
    return out


def totals(keys: Iterable[tuple[int, str, datetime]]) -> dict[tuple[int, str, datetime], tuple]:
    """(outlet, pollutant, hour start) -> (n_valid, sum_valid, n_conv, sum_conv) of the hours that hold data."""
    by_outlet: dict[int, set] = defaultdict(set)
    for outlet_id, code, start in keys:
        by_outlet[outlet_id].add((code, start))
    found = {}
    for outlet_id, wanted in by_outlet.items():
        starts = [s for _, s in wanted]
        for (o, code), points in merged({outlet_id}, {c for c, _ in wanted}, min(starts), max(starts) + HOUR).items():
            for at, _n_all, n_valid, sum_valid, n_conv, sum_conv, _low, _high in points:
                if (code, at) in wanted:
                    found[(o, code, at)] = (n_valid, sum_valid, n_conv, sum_conv)
    return found


def last_valid(outlet_ids: set[int]) -> dict[tuple[int, str], datetime]:
    """(outlet, pollutant) -> the start of the newest hour holding a valid hourly value or manual sample."""
    if not outlet_ids:
        return {}
    tz = china_tz()
    v, r = MonitoringValue, MonitoringRollup
    found = {(o, c): rules.local_period_start(at, "hour", tz) for o, c, at in db.session.execute(
        sa.select(v.outlet_id, v.pollutant_code, sa.func.max(v.measured_at))
        .where(v.outlet_id.in_(outlet_ids), v.period == OWN_MEANS, v.value.is_not(None), _valid_sql(v.flag))
        .group_by(v.outlet_id, v.pollutant_code))}
    for o, c, at in db.session.execute(
            sa.select(r.outlet_id, r.pollutant_code, sa.func.max(r.period_start))
            .where(r.outlet_id.in_(outlet_ids), r.resolution == "hour", r.n_valid > 0)
            .group_by(r.outlet_id, r.pollutant_code)):
        found[(o, c)] = max(found.get((o, c), at), at)
    return found


def newest_per_outlet(start: datetime, end: datetime) -> dict[int, datetime]:
    """outlet -> the start of its newest hour with hourly data (any flag) or a manual sample in [start, end]."""
    tz = china_tz()
    v, r = MonitoringValue, MonitoringRollup
    found = {o: rules.local_period_start(at, "hour", tz) for o, at in db.session.execute(
        sa.select(v.outlet_id, sa.func.max(v.measured_at))
        .where(v.period == OWN_MEANS, v.value.is_not(None), v.measured_at >= start, v.measured_at <= end)
        .group_by(v.outlet_id))}
    for o, at in db.session.execute(
            sa.select(r.outlet_id, sa.func.max(r.period_start))
            .where(r.resolution == "hour", r.period_start >= start, r.period_start <= end)
            .group_by(r.outlet_id)):
        found[o] = max(found.get(o, at), at)
    return found
