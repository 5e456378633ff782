"""Hourly means derived from minute and real-time data (issue 19): they feed the roll-ups (public series) and
hourly exceedance detection; a device's own hourly mean is never doubled by a derived one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from portal.monitoring import services
from portal.monitoring.derived import derive_hourly_means
from portal.monitoring.models import Basis, ExceedanceIncident, MonitoringValue
from tests.monitoring.hj212_device import upload
from tests.monitoring.helpers import PASSWORD, gas_setup, merged_hours

T = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 China time: the 09:00 hour has ended


def _minutes(device, values, cn="2051", hour="09", flag="N", field="Avg"):
    return b"".join(upload(device.mn, PASSWORD, cn, f"DataTime=20261101{hour}{m:02d}00;a21026-{field}={v},"
                                                    f"a21026-Flag={flag}", st="31", qn=f"20261101{hour}{m:02d}00{cn[-2:]}1")
                    for m, v in zip(range(0, 60, 10), values))


def test_minute_data_over_an_hourly_limit_derive_a_mean_that_opens_one_incident(db):
    _, outlet, device = gas_setup(db)
    services.ingest_hj212(_minutes(device, [60, 70, 80, 60, 70, 80]), now=T)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExceedanceIncident)) == 0  # minute values alone
    assert derive_hourly_means(T + timedelta(minutes=20)) == 1
    assert derive_hourly_means(T + timedelta(minutes=80)) == 0  # idempotent
    value = db.session.scalar(sa.select(MonitoringValue).where(MonitoringValue.period == "hour"))
    assert (value.value, value.source, value.value_min, value.value_max) == (70.0, "derived", 60.0, 80.0)
    [(n_all, n_valid, total, *_)] = merged_hours(db).values()  # the public series reads hours merged
    assert (n_all, total / n_valid) == (1, 70.0)
    incidents = db.session.scalars(sa.select(ExceedanceIncident)).all()
    assert [(i.basis, i.value) for i in incidents] == [(Basis.HOURLY_MEAN, 70.0)]


def test_a_device_hourly_mean_is_never_doubled_by_a_derived_one(db):
    _, _, device = gas_setup(db)
    body = _minutes(device, [60, 70, 80, 60, 70, 80]) + upload(
        device.mn, PASSWORD, "2061", "DataTime=20261101090000;a21026-Avg=72,a21026-Flag=N", st="31",
        qn="20261101100000001")
    services.ingest_hj212(body, now=T)
    assert derive_hourly_means(T + timedelta(minutes=20)) == 0
    assert [(i.value,) for i in db.session.scalars(sa.select(ExceedanceIncident))] == [(72.0,)]
    late = upload(device.mn, PASSWORD, "2061", "DataTime=20261101090000;a21026-Avg=72", st="31",
                  qn="20261101100000002")
    assert services.ingest_hj212(late, now=T)[0]["result"] == "accepted"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExceedanceIncident)) == 1


def test_flagged_minutes_do_not_count_and_an_hour_still_running_is_not_derived(db):
    _, _, device = gas_setup(db)
    services.ingest_hj212(_minutes(device, [90] * 6, flag="D"), now=T)
    services.ingest_hj212(_minutes(device, [90] * 6, cn="2011", hour="10", field="Rtd"), now=T + timedelta(hours=1))
    assert derive_hourly_means(T + timedelta(minutes=50)) == 0  # 09: all flagged; 10: still running
    assert derive_hourly_means(T + timedelta(hours=1, minutes=20)) == 1  # 10:00 from real-time data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExceedanceIncident)) == 1
