"""A device's own daily means (CN 2031) in the public daily series (issue 19): a daily-only device shows its days,
each exactly once; a day the portal has hourly data of keeps the portal's mean (never both)."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.monitoring.hj212_device import upload
from tests.monitoring.helpers import PASSWORD, water_setup
from portal.monitoring import services

NOW = datetime(2026, 11, 4, 0, 0, tzinfo=timezone.utc)


def _daily(device, day, value, flag="N", n=1):
    return upload(device.mn, PASSWORD, "2031", f"DataTime=202611{day}000000;w01018-Avg={value},w01018-Flag={flag}",
                  qn=f"202611{day}00000000{n}")


def _points(client, ent):
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?outlet=DW001&pollutant=w01018"
                          "&from=2026-11-01&to=2026-11-03&resolution=day")
    assert response.status_code == 200
    [series] = response.json["data"]
    return [(p["period"][:10], p["mean"], p["valid"], p["total"], p["exceeds"]) for p in series["points"]]


def test_a_daily_only_devices_means_appear_in_the_public_daily_series_exactly_once(client, db):
    ent, _, device = water_setup(db)
    body = _daily(device, "01", 70) + _daily(device, "02", 130) + _daily(device, "03", 90, flag="D")
    assert [r["result"] for r in services.ingest_hj212(body, now=NOW)] == ["accepted"] * 3
    services.ingest_hj212(_daily(device, "01", 70, n=2), now=NOW)  # a re-sent daily mean is a duplicate
    db.session.commit()
    assert _points(client, ent) == [("2026-11-01", 70.0, 1, 1, False), ("2026-11-02", 130.0, 1, 1, True),
                                    ("2026-11-03", None, 0, 1, False)]


def test_a_day_with_the_portals_hourly_data_keeps_the_portals_mean_only(client, db):
    ent, _, device = water_setup(db)
    hourly = b"".join(upload(device.mn, PASSWORD, "2061", f"DataTime=20261101{h:02d}0000;w01018-Avg=80,w01018-Flag=N",
                             qn=f"20261101{h:02d}0000001") for h in range(24))
    services.ingest_hj212(hourly + _daily(device, "01", 70) + _daily(device, "02", 60), now=NOW)
    db.session.commit()
    assert _points(client, ent) == [("2026-11-01", 80.0, 24, 24, False), ("2026-11-02", 60.0, 1, 1, False)]


def test_hourly_series_do_not_take_daily_means(client, db):
    ent, _, device = water_setup(db)
    services.ingest_hj212(_daily(device, "01", 70), now=NOW)
    db.session.commit()
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?outlet=DW001&pollutant=w01018"
                          "&from=2026-11-01&to=2026-11-03&resolution=hour")
    assert response.json["data"][0]["points"] == []


def _month(client, ent):
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?outlet=DW001&pollutant=w01018"
                          "&from=2026-11-01&to=2026-11-30&resolution=month")
    return [(p["period"][:7], p["mean"], p["valid"], p["total"]) for p in response.json["data"][0]["points"]]


def test_a_daily_only_month_is_the_mean_of_its_daily_means(client, db):
    ent, _, device = water_setup(db)
    body = _daily(device, "01", 70) + _daily(device, "02", 130) + _daily(device, "03", 90, flag="D")
    services.ingest_hj212(body, now=NOW)
    db.session.commit()
    assert _month(client, ent) == [("2026-11", 100.0, 2, 3)]


def test_a_month_with_the_portals_hourly_data_keeps_the_portals_mean_only(client, db):
    ent, _, device = water_setup(db)
    hourly = b"".join(upload(device.mn, PASSWORD, "2061", f"DataTime=20261101{h:02d}0000;w01018-Avg=80,w01018-Flag=N",
                             qn=f"20261101{h:02d}0000001") for h in range(24))
    services.ingest_hj212(hourly + _daily(device, "02", 20), now=NOW)
    db.session.commit()
    assert _month(client, ent) == [("2026-11", 80.0, 24, 24)]
