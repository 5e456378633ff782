"""HJ 212 intake (issue 19): nothing lost (split uploads, per-item issues), nothing false (DataTime window,
impossible values, back-fill), 2005 codes mapped, device daily means judged once. Packets come from the independent
logger in hj212_device.py (its own CRC)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from portal.enterprises.models import Averaging
from portal.monitoring import services
from portal.monitoring.models import (Basis, ExceedanceIncident, MonitoringValue, ReceivedPacket, RejectedPacket)
from portal.reference.services import load_reference, pollutant_rows
from tests.factories import make_enterprise, make_limit, make_outlet
from tests.monitoring.hj212_device import upload
from tests.monitoring.helpers import PASSWORD, water_setup

NOW = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)  # 2026-11-03 08:00 China time


def _count(db, model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _values(db) -> dict[str, float]:
    return {c: v for c, v in db.session.execute(sa.select(MonitoringValue.pollutant_code, MonitoringValue.value))}


def test_each_part_of_a_split_upload_is_stored_and_the_upload_is_complete_at_pnum(db):
    _, _, device = water_setup(db)
    qn = "20261101100000001"
    parts = [upload(device.mn, PASSWORD, "2061", f"DataTime=20261101090000;{cp}", qn=qn, flag=7,
                    extra=f"PNUM=2;PNO={n};")
             for n, cp in ((1, "w01018-Avg=35.2,w01018-Flag=N"), (2, "w21003-Avg=1.5,w21003-Flag=N"))]
    first = services.ingest_hj212(parts[0], now=NOW)[0]
    second = services.ingest_hj212(parts[1], now=NOW)[0]
    again = services.ingest_hj212(parts[1], now=NOW)[0]
    assert (first["result"], first["parts"]) == ("accepted", "1/2")
    assert (second["result"], second["parts"]) == ("accepted", "2/2")
    assert again["result"] == "duplicate"  # answered again, stored once
    assert _values(db) == {"w01018": 35.2, "w21003": 1.5}
    assert sorted(db.session.scalars(sa.select(ReceivedPacket.pno))) == [1, 2]


def test_a_repeated_code_and_unknown_fields_store_the_clear_items_and_report_the_rest(db):
    _, _, device = water_setup(db)
    load_reference()  # the noise codes (LA, L10 ...)
    cp = ("DataTime=20261101090000;w01018-Avg=35.2,w01018-ValidNum=24,w01018-Flag=N;w00000-Avg=1.2;w00000-Avg=900;"
          "w21003-Avg=1.5,w21003-Flag=N;LA-Data=55,LA-DayData=58;x99999-Avg=3")
    result = services.ingest_hj212(upload(device.mn, PASSWORD, "2061", cp, qn="20261101100000001"), now=NOW)[0]
    assert result["result"] == "partial"
    assert {(i["key"], i["issue"]) for i in result["issues"]} == {
        ("w01018-ValidNum", "extra_field"), ("w00000-Avg", "ambiguous_duplicate"), ("LA-DayData", "extra_field"),
        ("x99999", "unknown_code")}
    assert _values(db) == {"w01018": 35.2, "w21003": 1.5, "LA": 55.0, "x99999": 3.0}  # neither flow copy
    stored = db.session.scalar(sa.select(ReceivedPacket))
    assert stored.result == "partial" and "w00000-Avg=900" in stored.raw
    assert {i["issue"] for i in stored.issues} >= {"ambiguous_duplicate", "extra_field"}


def test_impossible_values_are_refused_per_item(db):
    _, _, device = water_setup(db)
    cp = ("DataTime=20261101090000;w01018-Avg=1e308;w21003-Avg=-0.5;w01001-Avg=nan;w21011-Avg=0.2;"
          "a01012-Avg=-3.5")
    result = services.ingest_hj212(upload(device.mn, PASSWORD, "2061", cp, qn="20261101100000001"), now=NOW)[0]
    assert result["result"] == "partial"
    assert [(i["key"], i["issue"]) for i in result["issues"] if i["issue"] != "unknown_code"] == [
        ("w01001-Avg", "malformed_value"), ("w01018-Avg", "out_of_range"), ("w21003-Avg", "out_of_range")]
    assert _values(db) == {"w21011": 0.2, "a01012": -3.5}  # a temperature may be negative


def test_a_packet_dated_in_the_future_or_long_ago_is_refused_with_nothing_stored_or_derived(db):
    _, _, device = water_setup(db)
    for when in ("20300101090000", "19000101000000", "29991231230000", "20261103082000"):  # last: 20 min ahead
        frame = upload(device.mn, PASSWORD, "2061", f"DataTime={when};w01018-Avg=900,w01018-Flag=N",
                       qn=f"{when[:14]}001")
        assert services.ingest_hj212(frame, now=NOW)[0]["result"] == "bad_time"
    assert _count(db, ReceivedPacket) == 0 and _count(db, MonitoringValue) == 0
    assert _count(db, ExceedanceIncident) == 0
    assert [r for r in db.session.scalars(sa.select(RejectedPacket.reason))] == ["bad_time"] * 4
    from portal.monitoring import partitions

    assert not any("2030" in name or "2999" in name or "1900" in name for name, _, _ in partitions.describe())


def test_a_clock_a_few_minutes_ahead_is_tolerated(db):
    _, _, device = water_setup(db)
    frame = upload(device.mn, PASSWORD, "2061", "DataTime=20261103080500;w01018-Avg=30", qn="20261103080500001")
    assert services.ingest_hj212(frame, now=NOW)[0]["result"] == "accepted"


def _daily_water(db, limit: str = "60"):
    ent = make_enterprise()
    outlet = make_outlet(ent, "DW001")
    make_limit(outlet, "w01018", limit, Averaging.DAILY)
    device = services.add_device(None, mn="MN_DAILY-01", password=PASSWORD, uscc=ent.uscc, outlet_code="DW001")
    db.session.flush()
    return outlet, device


def test_old_data_is_stored_as_back_fill_and_opens_nothing_by_itself(db):
    _, device = _daily_water(db)
    frame = upload(device.mn, PASSWORD, "2031", "DataTime=20261001000000;w01018-Avg=500,w01018-Flag=N",
                   qn="20261001000000001")
    result = services.ingest_hj212(frame, now=NOW)[0]
    assert result["result"] == "accepted" and result["backfill"] is True
    assert _values(db) == {"w01018": 500.0}
    assert db.session.scalar(sa.select(ReceivedPacket.backfill)) is True
    assert _count(db, ExceedanceIncident) == 0


def test_a_device_daily_mean_over_the_daily_limit_opens_one_incident_also_with_the_portals_own_mean(db):
    outlet, device = _daily_water(db)
    daily = upload(device.mn, PASSWORD, "2031", "DataTime=20261101000000;w01018-Avg=70,w01018-Flag=N",
                   qn="20261102000000001")
    assert services.ingest_hj212(daily, now=NOW)[0]["result"] == "accepted"
    hourly = b"".join(upload(device.mn, PASSWORD, "2061", f"DataTime=20261101{h:02d}0000;w01018-Avg=80,w01018-Flag=N",
                             qn=f"20261101{h:02d}0000001") for h in range(24))
    services.ingest_hj212(hourly, now=NOW)  # the portal's recomputed daily mean (80) is over the limit too
    incidents = db.session.scalars(sa.select(ExceedanceIncident)).all()
    # one incident for the one exceeding day: the episode keeps its peak (the portal's mean), counted once
    assert [(i.pollutant_code, i.basis, i.value, i.occurrences) for i in incidents] == [
        ("w01018", Basis.DAILY_MEAN, 80.0, 1)]
    assert incidents[0].period_start == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)


def test_a_device_daily_mean_under_the_limit_or_flagged_opens_nothing(db):
    _, device = _daily_water(db)
    body = (upload(device.mn, PASSWORD, "2031", "DataTime=20261101000000;w01018-Avg=50,w01018-Flag=N",
                   qn="20261102000000001")
            + upload(device.mn, PASSWORD, "2031", "DataTime=20261102000000;w01018-Avg=90,w01018-Flag=D",
                     qn="20261102000000002"))
    assert [r["result"] for r in services.ingest_hj212(body, now=NOW)] == ["accepted", "accepted"]
    assert _count(db, ExceedanceIncident) == 0


def test_a_2005_cod_packet_is_mapped_and_judged_against_the_cod_limit(db):
    _, device = _daily_water(db)
    segment = f"ST=32;CN=2031;PW={PASSWORD};MN={device.mn};CP=&&DataTime=20261101000000;011-Avg=70,011-Flag=N;" \
              f"060-Avg=2.0&&"
    from tests.monitoring.hj212_device import frame

    result = services.ingest_hj212(frame(segment), now=NOW)[0]
    assert result["result"] == "accepted" and result["unknown_codes"] == []
    assert _values(db) == {"w01018": 70.0, "w21003": 2.0}
    issues = db.session.scalar(sa.select(ReceivedPacket.issues))
    assert {"key": "011", "issue": "mapped_code", "value": "w01018"} in issues  # the original code is kept
    assert db.session.scalar(sa.select(ReceivedPacket.version)) == "2005"
    assert _count(db, ExceedanceIncident) == 1


def test_ozone_is_a05024_and_a21030_is_not_a_reference_code():
    codes = {r["code"]: r for r in pollutant_rows()}
    assert codes["a05024"]["name_en"] == "Ozone (O3)"
    assert "a21030" not in codes


def test_a_byte_swapped_crc_is_refused_and_diagnosed_for_the_regulator(db):
    _, _, device = water_setup(db)
    from tests.monitoring.hj212_device import frame

    swapped = frame(f"QN=20261101100000001;ST=32;CN=2061;PW={PASSWORD};MN={device.mn};Flag=5;"
                    f"CP=&&DataTime=20261101090000;w01018-Avg=1&&", swap_crc=True)
    assert services.ingest_hj212(swapped, now=NOW, address="192.0.2.5")[0]["result"] == "crc_byte_swapped"
    row = db.session.scalar(sa.select(RejectedPacket))
    assert (row.reason, row.mn, row.address) == ("crc_byte_swapped", device.mn, "192.0.2.5")
    assert _count(db, ReceivedPacket) == 0


def test_a_command_the_portal_does_not_read_is_kept_raw_and_marked_not_answered(db):
    _, _, device = water_setup(db)
    frame = upload(device.mn, PASSWORD, "1011", "SystemTime=20261103080000", qn="20261103080000001")
    result = services.ingest_hj212(frame, now=NOW)[0]
    assert result["result"] == "kept"
    from portal.monitoring.listener import ANSWERED

    assert "kept" not in ANSWERED
    packet = db.session.scalar(sa.select(ReceivedPacket))
    assert (packet.cn, packet.result, packet.raw) == ("1011", "kept", "SystemTime=20261103080000")
    assert packet.issues == [{"key": "CN", "issue": "unknown_command", "value": "1011"}]
