"""Missing manual results: for every manual line of a confirmed (or since superseded) monitoring plan, each calendar
period of its frequency that ended with no manual result becomes a finding and MONITORING_GAP credit evidence
(自行监测数据缺失). The finding's ref is stable per (outlet, pollutant, frequency, period), so re-runs add nothing."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from portal.audit.services import record
from portal.core.clock import china_today, china_tz
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.monitoring import plan_rules
from portal.monitoring.models import (MonitoringFinding, MonitoringPlan, MonitoringPlanItem, MonitoringValue,
                                      PlanMode, PlanStatus, Source)

KIND = "manual_missing"


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=china_tz()).astimezone(timezone.utc)


def _manual_days(outlet_id: int, code: str, start: date, end: date) -> list[date]:
    """China dates of the manual results of one outlet and pollutant in [start, end)."""
    tz = china_tz()
    stmt = sa.select(MonitoringValue.measured_at).where(
        MonitoringValue.outlet_id == outlet_id, MonitoringValue.pollutant_code == code,
        MonitoringValue.source == Source.MANUAL, MonitoringValue.measured_at >= _utc(start),
        MonitoringValue.measured_at < _utc(end))
    return [m.astimezone(tz).date() for m in db.session.scalars(stmt)]


def find_missing_manual(today: date | None = None, now: datetime | None = None) -> int:
    """Check every manual plan line over the periods that ended (looking back MONITORING_MANUAL_LOOKBACK_DAYS,
    default 400) and record each period without a result once."""
    today = today or china_today()
    now = now or utcnow()
    lookback = today - timedelta(days=int(current_app.config.get("MONITORING_MANUAL_LOOKBACK_DAYS", 400)))
    stmt = (sa.select(MonitoringPlanItem, MonitoringPlan)
            .join(MonitoringPlan, MonitoringPlanItem.plan_id == MonitoringPlan.id)
            .where(MonitoringPlan.status.in_((PlanStatus.CONFIRMED, PlanStatus.SUPERSEDED)),
                   MonitoringPlan.effective_from.is_not(None), MonitoringPlanItem.mode == PlanMode.MANUAL,
                   sa.or_(MonitoringPlan.effective_to.is_(None), MonitoringPlan.effective_to > lookback))
            .order_by(MonitoringPlan.id, MonitoringPlanItem.id))
    added = 0
    for item, plan in db.session.execute(stmt).all():
        periods = plan_rules.due_periods(str(item.frequency), plan.effective_from, plan.effective_to, today,
                                         lookback_from=lookback)
        if not periods:
            continue
        days = _manual_days(item.outlet_id, item.pollutant_code, periods[0][0], periods[-1][1])
        for start, end in periods:
            if any(start <= d < end for d in days):
                continue
            added += _record(plan, item, start, end, now)
    return added


def _record(plan: MonitoringPlan, item: MonitoringPlanItem, start: date, end: date, now: datetime) -> int:
    ref = f"manual:{item.outlet_id}:{item.pollutant_code}:{item.frequency}:{start:%Y%m%d}"
    if db.session.scalar(sa.select(MonitoringFinding.id).where(MonitoringFinding.ref == ref)) is not None:
        return 0
    finding = MonitoringFinding(ref=ref, kind=KIND, enterprise_id=plan.enterprise_id, outlet_id=item.outlet_id,
                                pollutant_code=item.pollutant_code, since=_utc(start), until=_utc(end),
                                detected_at=now)
    db.session.add(finding)
    db.session.flush()
    record(None, "monitoring.manual_missing.found", finding, enterprise_id=plan.enterprise_id)
    last_day = end - timedelta(days=1)
    add_evidence(enterprise_id=plan.enterprise_id, kind=EvidenceKind.MONITORING_GAP,
                 source=EvidenceSource.MONITORING, source_ref=ref, verified=False, finding=True, occurred_on=last_day,
                 message=("monitoring.manual_missing", {"outlet": item.outlet.code, "pollutant": item.pollutant_code,
                                                        "start": start.isoformat(), "end": last_day.isoformat(),
                                                        "frequency": str(item.frequency)}),
                 details={"outlet_id": item.outlet_id, "pollutant_code": item.pollutant_code,
                          "frequency": str(item.frequency), "period_start": start.isoformat(),
                          "period_end": last_day.isoformat(), "plan_version": plan.version})
    return 1


def findings_for(enterprise_id: int, limit: int = 200) -> list[MonitoringFinding]:
    stmt = (sa.select(MonitoringFinding).where(MonitoringFinding.enterprise_id == enterprise_id)
            .order_by(MonitoringFinding.since.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def jurisdiction_findings(jurisdiction: str, limit: int = 200) -> list[MonitoringFinding]:
    stmt = (sa.select(MonitoringFinding).join(Enterprise, MonitoringFinding.enterprise_id == Enterprise.id)
            .where(Enterprise.region_code.startswith(jurisdiction), MonitoringFinding.kind == KIND)
            .order_by(MonitoringFinding.detected_at.desc(), MonitoringFinding.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))
