"""Integrity objects for the route-authorisation matrix and the integrity tests: hourly data stored through the
monitoring ingest, and a flag already warned (so both the regulator and the enterprise may open it)."""
from __future__ import annotations

from datetime import timedelta

from portal.core.clock import china_tz
from portal.integrity.models import IntegrityFlag, IntegrityFlagEvent
from portal.integrity.rules import FlagState, Series
from portal.monitoring import services as monitoring
from portal.monitoring.ingest import ingest_values
from tests.integrity.series import T0


def store(outlet, code: str, s: Series, extra_flags: dict | None = None) -> None:
    """Store a dense series as hourly automatic values (missing hours are not stored)."""
    rows = []
    for i, v in enumerate(s.values):
        if v is None and not s.flags[i]:
            continue
        rows.append({"enterprise_id": outlet.enterprise_id, "outlet_id": outlet.id, "pollutant_code": code,
                     "period": "hour", "measured_at": s.start + timedelta(hours=i), "value": v, "value_min": None,
                     "value_max": None, "value_converted": None, "flag": s.flags[i] or "N", "source": "auto",
                     "packet_id": None, "submission_id": None})
    ingest_values(rows, china_tz())


def add_device(ent, outlet, mn: str):
    return monitoring.add_device(None, mn=mn, password="123456", uscc=ent.uscc, outlet_code=outlet.code)


def make_flag(db, ent, outlet, state: FlagState = FlagState.WARNED, rule: str = "R1") -> IntegrityFlag:
    flag = IntegrityFlag(rule_id=rule, dedupe_key=f"{outlet.id}:w01018:@world{ent.id}", enterprise_id=ent.id,
                         region_code=ent.region_code, outlet_id=outlet.id, pollutant_code="w01018",
                         window_start=T0, window_end=T0 + timedelta(hours=30), measure=0.8, threshold=2.0,
                         params={"min_hours": 24}, details={"kind": "narrow"},
                         series={"start": T0.isoformat(), "values": [35.0] * 30, "flags": ["N"] * 30, "extra": {}},
                         state=state)
    db.session.add(flag)
    db.session.flush()
    if state is not FlagState.OPEN:
        db.session.add(IntegrityFlagEvent(flag_id=flag.id, state=state, note="请说明"))
        db.session.flush()
    return flag


def make_anomaly_report(db, ent, device, state=None, noticed_at=None):
    """An Art. 23 report, REPORTED unless another state is asked for (filed now, noticed an hour before)."""
    from portal.db import utcnow
    from portal.integrity.anomaly_rules import AnomalyCause, AnomalyState
    from portal.integrity.models import TransmissionAnomalyReport

    now = utcnow()
    noticed = noticed_at or now - timedelta(hours=1)
    report = TransmissionAnomalyReport(
        enterprise_id=ent.id, region_code=ent.region_code, device_id=device.id, noticed_at=noticed, reported_at=now,
        report_due_at=noticed + timedelta(hours=12), repair_due_on=(noticed + timedelta(days=7)).date(),
        cause=AnomalyCause.NETWORK, description="数采仪网络中断", manual_substitute="每6小时手工采样",
        state=state or AnomalyState.REPORTED)
    if report.state != AnomalyState.REPORTED:
        report.repaired_at, report.repair_note = now, "更换网络模块"
    db.session.add(report)
    db.session.flush()
    return report


def integrity_objects(db, ent) -> dict:
    from portal.integrity.anomaly_rules import AnomalyState

    outlet = ent.outlets[0]
    device = add_device(ent, outlet, f"ANOMALY{ent.id:010d}")
    return {"flag_id": make_flag(db, ent, outlet).id,
            "anomaly_id": make_anomaly_report(db, ent, device, AnomalyState.REPAIRED).id}
