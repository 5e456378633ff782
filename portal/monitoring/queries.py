"""Read side: per outlet and pollutant time series from the roll-ups (public charts, the API and CSV)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.clock import china_today, china_tz
from portal.db import UTCDateTime
from portal.enterprises.models import Enterprise, Outlet, OutletLimit
from portal.errors import DomainError
from portal.extensions import db
from portal.monitoring import hours, rules
from portal.monitoring.models import ExceedanceIncident, MonitoringRollup, MonitoringValue

RESOLUTIONS = ("hour", "day", "month")
MAX_SPAN_DAYS = {"hour": 92, "day": 366 * 5 + 1, "month": 366 * 20}
DEFAULT_SPAN_DAYS = {"hour": 7, "day": 90, "month": 365 * 2}
INCIDENTS_PER_SERIES = 500
# Roll-up period starts are read as the driver returns them and converted by UTCDateTime once per distinct start in
# _points (the series of a page share them); converting every row cost ~1.4 ms of a 90-day page on PostgreSQL.
_UTC = UTCDateTime()
_DRIVER_DATETIME = _UTC.impl


class BadQuery(DomainError):
    code = "invalid_parameter"


@dataclass(frozen=True)
class SeriesQuery:
    outlet: str = ""
    pollutant: str = ""
    start: date | None = None
    end: date | None = None
    resolution: str = "day"


def parse_query(args: dict[str, str]) -> SeriesQuery:
    """Validate the query parameters; every error names its parameter."""
    resolution = args.get("resolution") or "day"
    if resolution not in RESOLUTIONS:
        raise BadQuery(_("must be one of hour, day, month."), field="resolution")
    dates = {}
    for name in ("from", "to"):
        raw = args.get(name) or ""
        try:
            dates[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise BadQuery(_("must be a date written YYYY-MM-DD."), field=name) from None
    end = dates["to"] or china_today()
    start = dates["from"] or end - timedelta(days=DEFAULT_SPAN_DAYS[resolution])
    if start > end:
        raise BadQuery(_("must not be after “to”."), field="from")
    if (end - start).days > MAX_SPAN_DAYS[resolution]:
        raise BadQuery(_("the range is too long for this resolution; at most %(n)d days.",
                         n=MAX_SPAN_DAYS[resolution]), field="from")
    return SeriesQuery(outlet=(args.get("outlet") or "").strip().upper(),
                       pollutant=(args.get("pollutant") or "").strip(), start=start, end=end, resolution=resolution)


def data_span(enterprise_id: int) -> tuple[date, date] | None:
    """The China days of the enterprise's first and latest reported values (index lookups), or None without any."""
    first, latest = db.session.execute(
        sa.select(sa.func.min(MonitoringValue.measured_at), sa.func.max(MonitoringValue.measured_at))
        .where(MonitoringValue.enterprise_id == enterprise_id)).one()
    if latest is None:
        return None
    return _china_day(first), _china_day(latest)


def _china_day(value: Any) -> date:
    value = _UTC.process_result_value(value, None) if not isinstance(value, datetime) else value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(china_tz()).date()


def _bounds(query: SeriesQuery) -> tuple[datetime, datetime]:
    tz = china_tz()
    return (datetime.combine(query.start, time(), tz),
            datetime.combine(query.end + timedelta(days=1), time(), tz))


def monitored_pairs(enterprise: Enterprise, use_loaded: bool = False) -> list[tuple[Outlet, OutletLimit]]:
    """Every outlet/pollutant the permit sets a limit for (the series the public page shows), by outlet code and
    pollutant code. use_loaded: read them from enterprise.outlets and their limits when the caller has loaded both
    (the public page does; the relationships have the same order), without a query."""
    if use_loaded and "outlets" not in sa.inspect(enterprise).unloaded and all(
            "limits" not in sa.inspect(o).unloaded for o in enterprise.outlets):
        return [(o, lim) for o in enterprise.outlets for lim in o.limits]
    stmt = (sa.select(Outlet, OutletLimit).join(OutletLimit, OutletLimit.outlet_id == Outlet.id)
            .where(Outlet.enterprise_id == enterprise.id).order_by(Outlet.code, OutletLimit.pollutant_code))
    return [(o, lim) for o, lim in db.session.execute(stmt)]


def _spec(lim: OutletLimit) -> rules.LimitSpec:
    f = (lambda v: None if v is None else float(v))
    return rules.LimitSpec(averaging=str(lim.averaging), limit_value=f(lim.limit_value), limit_min=f(lim.limit_min),
                           limit_max=f(lim.limit_max), reference_o2=f(lim.reference_o2),
                           pollutant_code=lim.pollutant_code)


def series(enterprise: Enterprise, query: SeriesQuery,
           monitored: list[tuple[Outlet, OutletLimit]] | None = None) -> list[dict[str, Any]]:
    """Roll-up points per outlet/pollutant with the limit and exceedance marks (mean vs limit, or min/max vs a
    range for pH, which is never averaged). `monitored` is monitored_pairs(enterprise) when the caller has it."""
    pairs = [(o, lim) for o, lim in (monitored if monitored is not None else monitored_pairs(enterprise))
             if (not query.outlet or o.code == query.outlet) and (not query.pollutant or
                                                                 lim.pollutant_code == query.pollutant)]
    if (query.outlet or query.pollutant) and not pairs:
        field = "pollutant" if query.pollutant else "outlet"
        raise BadQuery(_("no monitored outlet and pollutant of this enterprise matches."), field=field)
    start, end = _bounds(query)
    tz = china_tz()
    outlet_ids = {o.id for o, _ in pairs}
    codes = {lim.pollutant_code for _, lim in pairs}
    r = MonitoringRollup  # one query for every series (a round trip per series cost more than the rows)
    rows: dict[tuple[int, str], list] = defaultdict(list)
    if query.resolution == "hour":  # hourly values are their own hour: no roll-up row of their own (hours.py)
        rows.update(hours.merged(outlet_ids, codes, start, end))
    for outlet_id, code, *columns in () if query.resolution == "hour" else db.session.connection().execute(
            sa.select(r.outlet_id, r.pollutant_code, sa.type_coerce(r.period_start, _DRIVER_DATETIME), r.n_all,
                      r.n_valid, r.sum_valid, r.n_conv, r.sum_conv, r.min_valid, r.max_valid)
            .where(r.outlet_id.in_(outlet_ids), r.pollutant_code.in_(codes), r.resolution == query.resolution,
                   r.period_start >= start, r.period_start < end)
            .order_by(r.outlet_id, r.pollutant_code, r.period_start)).all():  # Core: no ORM row loading
        rows[(outlet_id, code)].append(columns)
    if query.resolution in ("day", "month"):
        _add_device_daily_means(rows, outlet_ids, codes, start, end, tz, query.resolution)
    incidents = _incidents(outlet_ids, codes, start, end, tz)
    out, periods = [], {}
    for outlet, lim in pairs:
        spec = _spec(lim)
        key = (outlet.id, lim.pollutant_code)
        out.append({"outlet": outlet.code, "outlet_name": outlet.name, "pollutant": lim.pollutant_code,
                    "pollutant_name": lim.pollutant.name if lim.pollutant else lim.pollutant_code, "unit": lim.unit,
                    "averaging": str(lim.averaging), "limit_value": spec.limit_value, "limit_min": spec.limit_min,
                    "limit_max": spec.limit_max, "reference_o2": spec.reference_o2,
                    "standard": lim.standard_code, "resolution": query.resolution,
                    "points": _points(rows.get(key, ()), spec, tz, periods),
                    "incidents": incidents.get(key, [])})
    return out


def _points(rows: Iterable[tuple], spec: rules.LimitSpec, tz: ZoneInfo,
            periods: dict[datetime, str] | None = None) -> list[dict[str, Any]]:
    """Roll-up columns (start, n_all, n_valid, sum_valid, n_conv, sum_conv, min, max) as chart/table points. Plain
    tuples and one loop: a 90-day page has ~1,200 points and attribute access per point was most of its time.
    `start` is the driver's value (see _DRIVER_DATETIME); `periods` caches the local ISO string of each period start
    across the series of one page (they share them)."""
    is_range, check, mean_of = spec.is_range, rules.check, rules.compared_mean
    periods = {} if periods is None else periods
    out = []
    append = out.append
    for start, n_all, n_valid, sum_valid, n_conv, sum_conv, low, high in rows:
        if is_range:
            mean = None
            exceeds = check(low, spec) is not None or check(high, spec) is not None
        else:
            mean = mean_of(n_valid, sum_valid, n_conv, sum_conv, spec)
            exceeds = check(mean, spec) is not None
        period = periods.get(start)
        if period is None:  # once per period start: the UTC column type's conversion, then local time
            period = periods[start] = _UTC.process_result_value(start, None).astimezone(tz).isoformat()
        append({"period": period, "mean": _round(mean), "min": _round(low), "max": _round(high), "valid": n_valid,
                "total": n_all, "exceeds": exceeds})
    return out


def _add_device_daily_means(rows: dict[tuple[int, str], list], outlet_ids: set[int], codes: set[str],
                            start: datetime, end: datetime, tz: ZoneInfo, resolution: str) -> None:
    """A device's own daily means (CN 2031) stand for the periods the portal has no roll-up of (no hourly or manual
    data: a daily-only device). resolution day: one point per day; month: the mean of the month's daily means
    (valid/total count days). A period with a roll-up keeps the portal's mean alone, so nothing is counted twice.
    Only normal values count as valid, as in the roll-ups."""
    v = MonitoringValue
    found = db.session.execute(
        sa.select(v.outlet_id, v.pollutant_code, v.measured_at, v.value, v.value_converted, v.flag)
        .where(v.outlet_id.in_(outlet_ids), v.pollutant_code.in_(codes), v.period == "day",
               v.measured_at >= start - timedelta(days=1), v.measured_at < end + timedelta(days=32))
        .order_by(v.outlet_id, v.pollutant_code, v.measured_at)).all()
    if not found:
        return
    held = {key: {_UTC.process_result_value(r[0], None) for r in columns} for key, columns in rows.items()}
    sums: dict[tuple, list] = {}
    days: set[tuple] = set()
    for outlet_id, code, measured_at, value, converted, flag in found:
        key, day = (outlet_id, code), rules.local_period_start(measured_at, "day", tz)
        period = rules.local_period_start(measured_at, resolution, tz)
        if value is None or not (start <= period < end) or period in held.get(key, ()) or (key, day) in days:
            continue
        days.add((key, day))
        acc = sums.setdefault((key, period), [0, 0, 0.0, 0, 0.0, None, None])
        acc[0] += 1
        if rules.is_valid_flag(flag):
            acc[1] += 1
            acc[2] += value
            if converted is not None:
                acc[3] += 1
                acc[4] += converted
            acc[5] = value if acc[5] is None else min(acc[5], value)
            acc[6] = value if acc[6] is None else max(acc[6], value)
    for (key, period), (n_all, n_valid, total, n_conv, conv, low, high) in sums.items():
        rows[key].append((period, n_all, n_valid, total, n_conv, conv, low, high))
    for key in {k for k, _ in sums}:
        rows[key].sort(key=lambda r: _UTC.process_result_value(r[0], None))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _incidents(outlet_ids: set[int], codes: set[str], start: datetime, end: datetime, tz: ZoneInfo
               ) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """Exceedance incidents of the range per (outlet, pollutant), at most INCIDENTS_PER_SERIES each."""
    stmt = (sa.select(ExceedanceIncident).where(
        ExceedanceIncident.outlet_id.in_(outlet_ids), ExceedanceIncident.pollutant_code.in_(codes),
        ExceedanceIncident.period_start >= start, ExceedanceIncident.period_start < end)
        .order_by(ExceedanceIncident.period_start).limit(INCIDENTS_PER_SERIES * max(1, len(outlet_ids) * len(codes))))
    found: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for i in db.session.scalars(stmt):
        bucket = found[(i.outlet_id, i.pollutant_code)]
        if len(bucket) < INCIDENTS_PER_SERIES:
            bucket.append({"period": i.period_start.astimezone(tz).isoformat(), "basis": str(i.basis),
                           "value": _round(i.value), "multiple": i.multiple, "state": str(i.state)})
    return found


def csv_rows(data: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for s in data:
        for p in s["points"]:
            rows.append([s["outlet"], s["pollutant"], s["pollutant_name"], s["unit"], p["period"], p["mean"],
                         p["min"], p["max"], p["valid"], p["total"], s["limit_value"], s["limit_min"],
                         s["limit_max"], "1" if p["exceeds"] else "0"])
    return rows
