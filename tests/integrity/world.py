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


def integrity_objects(db, ent) -> dict:
    outlet = ent.outlets[0]
    return {"flag_id": make_flag(db, ent, outlet).id}
