"""Minute data past its working life (issue 23): packed per outlet, pollutant and day, exactly, in ≤ 40 bytes a
value; what the public reads (series, API) is unchanged; a late back-fill merges; retention never under 5 years."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal import InvalidConfiguration, create_app
from portal.config import TestConfig
from portal.monitoring import compaction, packing, services
from portal.monitoring.models import MonitoringRollup, MonitoringValue
from portal.monitoring.pack_models import MinutePack
from tests.monitoring.helpers import PASSWORD, water_setup, packet

DAY = datetime(2026, 10, 1, 16, 0, tzinfo=timezone.utc)  # 2026-10-02 00:00 China time
NOW = DAY + timedelta(days=40)


def _day_of_minutes(seed: int = 7) -> list[packing.Reading]:
    rnd = random.Random(seed)
    out = []
    for minute in range(1440):
        level = 30 + 8 * ((minute % 720) / 720) + rnd.gauss(0, 1.5)
        value = round(level, 3)
        out.append(packing.Reading(measured_at=DAY + timedelta(minutes=minute), value=value,
                                   value_min=round(value - abs(rnd.gauss(0, 0.5)), 3),
                                   value_max=round(value + abs(rnd.gauss(0, 0.5)), 3), value_converted=None,
                                   flag="N" if minute % 97 else "D", source="auto", packet_id=100000 + minute))
    return out


def test_a_pack_gives_back_every_reading_exactly():
    readings = _day_of_minutes()
    readings[5] = packing.Reading(DAY + timedelta(minutes=5), None, None, None, 1e-7, "", "", None)
    readings[6] = packing.Reading(DAY + timedelta(minutes=6), 0.1 + 0.2, 123456.789012345, -0.0, 2.5e-300, "T",
                                  "hj212", 0)
    assert packing.unpack(DAY, packing.pack(DAY, list(reversed(readings)))) == readings


def test_a_realistic_day_packs_under_40_bytes_a_value():
    readings = _day_of_minutes()
    payload = packing.pack(DAY, readings)
    assert len(payload) / len(readings) <= 40, f"{len(payload) / len(readings):.1f} bytes a value"


def test_a_payload_that_is_not_a_pack_is_refused_and_a_reading_outside_its_day_too():
    with pytest.raises(packing.PackError):
        packing.unpack(DAY, b"garbage")
    stray = packing.Reading(DAY - timedelta(minutes=1), 1.0, None, None, None, "N", "hj212", None)
    with pytest.raises(packing.PackError):
        packing.pack(DAY, [stray])


def _minutes(device, day: datetime, minutes: range, value=lambda m: 30 + m % 7, qn_suffix="001"):
    frames = []
    for m in minutes:
        at = (day + timedelta(minutes=m)).astimezone(timezone(timedelta(hours=8)))
        frames.append(packet(device.mn, "2051", at.strftime("%Y%m%d%H%M%S"),
                             {"w01018": f"Avg={value(m)},Flag=N", "w01001": "Avg=7.1,Flag=N"},
                             qn=at.strftime("%Y%m%d%H%M%S") + qn_suffix, pw=PASSWORD))
    return b"".join(frames)


def _snapshot(db, client, ent):
    rollups = sorted(tuple(r) for r in db.session.execute(sa.select(
        MonitoringRollup.outlet_id, MonitoringRollup.pollutant_code, MonitoringRollup.resolution,
        MonitoringRollup.period_start, MonitoringRollup.n_all, MonitoringRollup.n_valid,
        MonitoringRollup.sum_valid)).all())
    api = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?resolution=day&from=2026-10-01&to=2026-10-05")
    assert api.status_code == 200
    return rollups, api.get_json()["data"]


def test_compaction_packs_old_minutes_and_the_public_reads_do_not_change(db, client):
    ent, outlet, device = water_setup(db)
    services.ingest_hj212(_minutes(device, DAY, range(0, 180, 3)), now=NOW)
    services.ingest_hj212(_minutes(device, NOW - timedelta(days=2), range(0, 30, 3)), now=NOW)  # recent: stays
    db.session.commit()
    old = DAY, DAY + timedelta(days=1)
    before_rows = compaction.readings(outlet.id, "w01018", "minute", *old)
    before = _snapshot(db, client, ent)
    assert len(before_rows) == 60

    result = compaction.compact(now=NOW)
    assert result == {"rows": 120, "outlet_days": 1}  # 60 instants × 2 pollutants, the old day only
    mv = MonitoringValue
    assert db.session.scalar(sa.select(sa.func.count()).select_from(mv).where(
        mv.period == "minute", mv.measured_at < NOW - timedelta(days=30))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(mv).where(mv.period == "minute")) == 20
    packs = db.session.scalars(sa.select(MinutePack).order_by(MinutePack.pollutant_code)).all()
    assert [(p.pollutant_code, p.period, str(p.day), p.count) for p in packs] == [
        ("w01001", "minute", "2026-10-02", 60), ("w01018", "minute", "2026-10-02", 60)]
    assert compaction.readings(outlet.id, "w01018", "minute", *old) == before_rows
    assert _snapshot(db, client, ent) == before
    assert compaction.compact(now=NOW) == {"rows": 0, "outlet_days": 0}  # nothing left to pack

    # A late back-fill into the packed day is merged at the next run; an instant already packed keeps its value.
    services.ingest_hj212(_minutes(device, DAY, range(1, 3), value=lambda m: 99), now=NOW)
    services.ingest_hj212(_minutes(device, DAY, range(0, 1), value=lambda m: 55, qn_suffix="002"), now=NOW)
    db.session.commit()
    assert compaction.compact(now=NOW)["rows"] == 6
    merged = compaction.readings(outlet.id, "w01018", "minute", *old)
    assert len(merged) == 62
    assert [r.value for r in merged[:3]] == [30.0, 99.0, 99.0]


def test_retention_deletes_only_what_is_older_than_its_type_keeps(db, app):
    ent, outlet, device = water_setup(db)
    services.ingest_hj212(_minutes(device, DAY, range(0, 6, 3)), now=NOW)
    db.session.commit()
    compaction.compact(now=NOW)
    app.config["MONITORING_RETENTION_YEARS"] = {"minute": 6}
    try:
        in_five_years = NOW.replace(year=NOW.year + 5)
        assert compaction.enforce_retention(now=in_five_years)["minute"] == 0  # minutes are kept 6 years
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MinutePack)) == 2
        removed = compaction.enforce_retention(now=NOW.replace(year=NOW.year + 6))
        assert removed["minute"] == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MinutePack)) == 0
    finally:
        app.config["MONITORING_RETENTION_YEARS"] = {}


def test_a_retention_under_the_legal_minimum_stops_the_start():
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    with pytest.raises(InvalidConfiguration, match="MONITORING_RETENTION_YEARS"):
        create_app({**settings, "MONITORING_RETENTION_YEARS": {"minute": 3}})
    assert compaction.retention_years({"RAW_RECORD_RETENTION_YEARS": 5,
                                       "MONITORING_RETENTION_YEARS": {"hour": 10}})["hour"] == 10
