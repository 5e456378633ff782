"""Shared builders for monitoring tests."""
from __future__ import annotations

import time

import sqlalchemy as sa

from portal.enterprises.models import Averaging
from portal.monitoring import services
from portal.monitoring.hj212 import build_frame
from tests.factories import make_enterprise, make_limit, make_outlet

PASSWORD = "123456"


def water_setup(db, mn="MNW0001", region_code="320826"):
    ent = make_enterprise(region_code=region_code)
    outlet = make_outlet(ent, "DW001")
    make_limit(outlet, "w01018", "100", Averaging.DAILY)
    make_limit(outlet, "w01001", None, Averaging.INSTANT, limit_min=6, limit_max=9, unit="无量纲")
    device = services.add_device(None, mn=mn, password=PASSWORD, uscc=ent.uscc, outlet_code="DW001")
    db.session.flush()
    return ent, outlet, device


def gas_setup(db, mn="MNA0001", reference_o2=None):
    ent = make_enterprise()
    outlet = make_outlet(ent, "DA001")
    make_limit(outlet, "a21026", "50", Averaging.HOURLY, standard_code="GB 13223-2011", reference_o2=reference_o2)
    device = services.add_device(None, mn=mn, password=PASSWORD, uscc=ent.uscc, outlet_code="DA001")
    db.session.flush()
    return ent, outlet, device


def packet(mn, cn, when, items, qn=None, pw=PASSWORD):
    """items: {"w01018": "Avg=35.2,Flag=N"} → a framed packet."""
    cp = ";".join(",".join(f"{code}-{part}" for part in spec.split(",")) for code, spec in items.items())
    head = f"QN={qn};" if qn else ""
    return build_frame(f"{head}ST=32;CN={cn};PW={pw};MN={mn};Flag=4;CP=&&DataTime={when};{cp}&&")


def hourly_row(outlet, measured_at, value: float) -> dict:
    """A value dict as the ingest store takes it: one hourly w01018 value of the outlet's device."""
    return {"enterprise_id": outlet.enterprise_id, "outlet_id": outlet.id, "pollutant_code": "w01018",
            "period": "hour", "measured_at": measured_at, "value": value, "value_min": None, "value_max": None,
            "value_converted": None, "flag": "N", "source": "auto", "packet_id": None, "submission_id": None}


def someone_waits_for_a_lock(db, tries: int = 400) -> bool:
    """PostgreSQL: poll until another session of this database waits for a lock (False after tries × 25 ms)."""
    with db.engine.connect() as probe:
        for _ in range(tries):
            if probe.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND wait_event_type = 'Lock'").scalar():
                return True
            time.sleep(0.025)
    return False


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


def deadlock() -> sa.exc.OperationalError:
    """The error SQLAlchemy raises when PostgreSQL aborts a transaction as a deadlock victim."""
    return sa.exc.OperationalError("INSERT ...", {}, _Deadlock("deadlock detected"))


def merged_hours(db) -> dict:
    """Every hour as the readers see it (hours.merged: hourly values merged with the manual samples' hour roll-ups):
    (outlet, pollutant, UTC start) -> [n_all, n_valid, sum_valid, min, max, n_conv, sum_conv]."""
    from datetime import datetime, timezone

    from portal.monitoring import hours
    from portal.monitoring.models import MonitoringRollup, MonitoringValue

    outlets = set(db.session.scalars(sa.select(MonitoringValue.outlet_id).distinct()))
    codes = set(db.session.scalars(sa.select(MonitoringValue.pollutant_code).distinct()))
    outlets |= set(db.session.scalars(sa.select(MonitoringRollup.outlet_id).distinct()))
    codes |= set(db.session.scalars(sa.select(MonitoringRollup.pollutant_code).distinct()))
    found = hours.merged(outlets, codes, datetime(2000, 1, 1, tzinfo=timezone.utc),
                         datetime(2100, 1, 1, tzinfo=timezone.utc))
    return {(o, c, at.astimezone(timezone.utc)): [n_all, n_valid, s, lo, hi, n_conv, s_conv]
            for (o, c), points in found.items() for at, n_all, n_valid, s, n_conv, s_conv, lo, hi in points}
