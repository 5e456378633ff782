"""Demo monitoring: devices for a few dozen outlets and a year of hourly HJ 212 packets sent through the real ingest
service (monitoring.services.ingest_hj212), so exceedance incidents and their credit findings come from the same
detection as live data. A few episodes per outlet are planted in the generated values (a deterministic random
stream); the enterprise explains some incidents and the regulator closes some.

This is a seeding edge like a CLI command: it commits per request body to keep memory flat."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.enterprises.models import Enterprise, Outlet, OutletLimit
from portal.extensions import db
from portal.monitoring import services as monitoring
from portal.monitoring.hj212 import build_frame
from portal.monitoring.models import ExceedanceIncident, IncidentState

DEVICE_PASSWORD = "demo-device"  # the data logger's password of every demo device (not a user credential)
PACKETS_PER_BODY = 2000

# Typical level as a share of the limit, for pollutants whose limit is a maximum.
_TYPICAL_SHARE = 0.45
_CAUSES = (("脱硫塔浆液循环泵故障，处理效率下降。", "已更换备用泵并加密巡检，恢复正常运行。"),
           ("原料含硫量波动，进料配比调整不及时。", "调整配料方案，增加进料化验频次。"),
           ("生化池污泥膨胀，出水水质波动。", "投加药剂并降低进水负荷，三日内恢复。"),
           ("布袋除尘器滤袋破损。", "更换破损滤袋，建立滤袋压差报警。"))


def demo_outlets(prefix: str, count: int) -> list[tuple[Outlet, dict[str, OutletLimit]]]:
    """The first `count` outlets with limits of enterprises under `prefix` (the demo enterprise's first)."""
    stmt = (sa.select(Outlet).join(Enterprise, Enterprise.id == Outlet.enterprise_id)
            .where(Enterprise.region_code.startswith(prefix, autoescape=True))
            .where(sa.exists().where(OutletLimit.outlet_id == Outlet.id))
            .order_by(Outlet.enterprise_id, Outlet.id).limit(count))
    outlets = list(db.session.scalars(stmt))
    limits: dict[int, dict[str, OutletLimit]] = {}
    for lim in db.session.scalars(sa.select(OutletLimit).where(OutletLimit.outlet_id.in_([o.id for o in outlets]))):
        limits.setdefault(lim.outlet_id, {})[lim.pollutant_code] = lim
    return [(o, limits[o.id]) for o in outlets]


def register_devices(actor, outlets: list[tuple[Outlet, dict]]) -> dict[int, str]:
    """One device per outlet through monitoring.services.add_device; returns outlet id → MN."""
    mns = {}
    for outlet, _limits in outlets:
        mn = f"DEMO{outlet.id:010d}"
        monitoring.add_device(actor, mn=mn, password=DEVICE_PASSWORD, uscc=outlet.enterprise.uscc,
                              outlet_code=outlet.code)
        mns[outlet.id] = mn
    db.session.commit()
    return mns


def _episodes(rng: random.Random, hours: int, per_outlet: int) -> list[tuple[int, int, float]]:
    """(first hour, length in hours, multiple of the limit) for the planted exceedance episodes."""
    out = []
    for _ in range(per_outlet):
        start = rng.randrange(24, max(25, hours - 48))
        out.append((start, rng.choice((2, 5, 30)), rng.choice((1.3, 1.6, 2.4))))
    return out


def _value(rng: random.Random, lim: OutletLimit, h: int, boost: float) -> float:
    daily = 1 + 0.15 * math.sin(2 * math.pi * (h % 24) / 24)
    if lim.limit_min is not None and lim.limit_max is not None:  # pH: near the middle; an episode goes above
        mid = (float(lim.limit_min) + float(lim.limit_max)) / 2
        value = mid + rng.uniform(-0.4, 0.4)
        return round(float(lim.limit_max) + 0.3 * boost if boost else value, 2)
    limit = float(lim.limit_value)
    if boost:
        return round(limit * boost * rng.uniform(1.0, 1.1), 2)
    return round(limit * _TYPICAL_SHARE * daily * rng.uniform(0.75, 1.25), 2)


def frames(rng: random.Random, mn: str, limits: dict[str, OutletLimit], first: datetime, hours: int,
           episodes_per_outlet: int):
    """Yield the hourly CN=2061 frames of one device from `first` (local time)."""
    planted = _episodes(rng, hours, episodes_per_outlet)
    targets = sorted(limits)
    for h in range(hours):
        t = first + timedelta(hours=h)
        stamp = t.strftime("%Y%m%d%H%M%S")
        items = []
        for i, code in enumerate(targets):
            boost = next((m for start, length, m in planted
                          if start <= h < start + length and i == (start % len(targets))), 0.0)
            items.append(f"{code}-Avg={_value(rng, limits[code], h, boost)},{code}-Flag=N")
        yield t, build_frame(f"QN={stamp}000;ST=32;CN=2061;PW={DEVICE_PASSWORD};MN={mn};Flag=4;"
                             f"CP=&&DataTime={stamp};{';'.join(items)}&&")


def send_year(outlets: list[tuple[Outlet, dict]], mns: dict[int, str], today: date, days: int, seed: int,
              episodes_per_outlet: int = 3) -> int:
    """Send `days` of hourly data ending yesterday for every outlet; returns the number of values accepted."""
    rng = random.Random(seed)
    first = datetime.combine(today - timedelta(days=days), time(0))
    hours = days * 24
    accepted = 0
    for outlet, limits in outlets:
        body: list[bytes] = []
        for t, frame in frames(rng, mns[outlet.id], limits, first, hours, episodes_per_outlet):
            body.append(frame)
            if len(body) >= PACKETS_PER_BODY:
                accepted += _send(body, t)
                body = []
        if body:
            accepted += _send(body, t)
    return accepted


def _send(body: list[bytes], latest: datetime) -> int:
    """Each request arrives an hour after its newest DataTime, as a logger sends live: the channel treats data
    older than its back-fill window as back-fill (no incidents), which would leave a year of demo data without
    its exceedance episodes."""
    arrived = latest.replace(tzinfo=china_tz()).astimezone(timezone.utc) + timedelta(hours=1)
    results = monitoring.ingest_hj212(b"".join(body), now=arrived)
    db.session.commit()
    bad = [r for r in results if r["result"] != "accepted"]
    if bad:
        raise RuntimeError(f"demo packets refused: {bad[:3]}")
    return sum(r.get("values", 0) for r in results)


def explain_and_close(enterprise_actor, regulator, today: date) -> tuple[int, int]:
    """The demo enterprise explains its incidents but the latest (still to do) and the regulator closes half of the
    explained ones; incidents of other enterprises stay open (they have no demo account to explain them)."""
    incidents = list(db.session.scalars(sa.select(ExceedanceIncident).where(
        ExceedanceIncident.enterprise_id == enterprise_actor.enterprise_id,
        ExceedanceIncident.state == IncidentState.OPEN).order_by(ExceedanceIncident.period_start)))[:-1]
    explained = closed = 0
    tz = china_tz()
    for i, incident in enumerate(incidents):
        cause, measures = _CAUSES[i % len(_CAUSES)]
        reported = min(today, incident.period_start.astimezone(tz).date() + timedelta(days=1))
        monitoring.explain_incident(enterprise_actor, incident, cause=cause, measures=measures, reported_on=reported)
        explained += 1
        if i % 2 == 0:
            monitoring.close_incident(regulator, incident)
            closed += 1
    db.session.commit()
    return explained, closed
