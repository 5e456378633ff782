"""The hourly monitoring job: hourly means derived from minute data, data gaps and silences (silence.py) of automatic
devices and daily means of days that have ended."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.audit.services import record
from portal.core.clock import china_tz
from portal.core.storage import remove_older_than
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.enterprises.models import OutletLimit
from portal.extensions import db
from portal.monitoring import hours, rules, services
from portal.monitoring.manual import upload_store
from portal.monitoring.models import Basis, Device, MonitoringFinding, MonitoringRollup


def _last_valid_hours(outlet_ids: set[int]) -> dict[tuple[int, str], datetime]:
    return hours.last_valid(outlet_ids)  # hourly values merged with the hour roll-ups of manual samples


def find_gaps(now: datetime | None = None) -> int:
    """Every monitored pollutant of an outlet with an active device and no valid hourly value for
    MONITORING_GAP_HOURS hours becomes a finding and verified MONITORING_GAP evidence (once per gap)."""
    now = now or utcnow()
    threshold = int(current_app.config.get("MONITORING_GAP_HOURS", 24))
    devices = list(db.session.scalars(sa.select(Device).where(Device.is_active.is_(True)).order_by(Device.id)))
    if not devices:
        return 0
    outlet_ids = {d.outlet_id for d in devices}
    limits = db.session.execute(sa.select(OutletLimit.outlet_id, OutletLimit.pollutant_code)
                                .where(OutletLimit.outlet_id.in_(outlet_ids))).all()
    last_valid = _last_valid_hours(outlet_ids)
    by_outlet = {d.outlet_id: d for d in devices}
    added = 0
    for outlet_id, code in limits:
        device = by_outlet[outlet_id]
        last = last_valid.get((outlet_id, code))
        since = last + timedelta(hours=1) if last else device.created_at
        hours = rules.gap_hours(last if last else device.created_at - timedelta(hours=1), now, threshold)
        if hours is None:
            continue
        ref = f"gap:{device.id}:{code}:{since.astimezone(china_tz()).strftime('%Y%m%d%H')}"
        if db.session.scalar(sa.select(MonitoringFinding.id).where(MonitoringFinding.ref == ref)) is not None:
            continue
        finding = MonitoringFinding(ref=ref, kind="gap", enterprise_id=device.enterprise_id, outlet_id=outlet_id,
                                    pollutant_code=code, since=since, detected_at=now)
        db.session.add(finding)
        db.session.flush()
        record(None, "monitoring.gap.found", finding)
        add_evidence(enterprise_id=device.enterprise_id, kind=EvidenceKind.MONITORING_GAP,
                     source=EvidenceSource.MONITORING, source_ref=ref, verified=False, finding=True,
                     occurred_on=since.astimezone(china_tz()).date(),
                     message=("monitoring.gap", {"outlet": device.outlet.code, "pollutant": code, "hours": hours}),
                     details={"device_mn": device.mn, "pollutant_code": code, "since": since.isoformat(),
                              "hours": hours})
        added += 1
    return added


def judge_ended_days(now: datetime | None = None, lookback_days: int = 3) -> int:
    """Daily means are judged once the day is over; ingest skips days still running, this catches them up."""
    now = now or utcnow()
    tz = china_tz()
    stmt = sa.select(MonitoringRollup.outlet_id, MonitoringRollup.pollutant_code, MonitoringRollup.period_start) \
        .where(MonitoringRollup.resolution == "day", MonitoringRollup.period_start >= now - timedelta(days=lookback_days))
    keys = {(o, c, s) for o, c, s in db.session.execute(stmt)}
    if not keys:
        return 0
    specs = services.limit_specs({k[0] for k in keys})
    media = services.outlet_media({k[0] for k in keys})
    return len(services.check_means(keys, "day", Basis.DAILY_MEAN, specs, media, tz, now))


def remove_stale_uploads(max_age_hours: int = 24) -> int:
    """Uploaded files wait for the user's confirmation; ones never confirmed are deleted after a day."""
    return remove_older_than(upload_store(), max_age_hours * 3600)


def hourly_checks(now: datetime | None = None) -> str:
    from portal.monitoring.missing import find_missing_manual

    from portal.monitoring.derived import derive_hourly_means
    from portal.monitoring.silence import find_silences

    derived = derive_hourly_means(now)
    gaps = find_gaps(now)
    silences = find_silences(now)
    days = judge_ended_days(now)
    manual = find_missing_manual(now=now)
    stale = remove_stale_uploads()
    return (f"{derived} derived hourly means, {gaps} new gaps, {silences} new silences, {days} daily-mean exceedances, {manual} missing manual results, "
            f"{stale} stale uploads removed")
