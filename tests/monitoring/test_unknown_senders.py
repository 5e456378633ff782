"""Refused frames of unregistered MNs (issue 19): aggregated per MN x address x reason, capped, shown to administrators
and province-level regulators with a link to register the MN; CN 1001 (platform-assigned MN) and CN 1014 (key
exchange) kept as data. Packets come from the independent logger in hj212_device.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from portal.auth.models import Role
from portal.monitoring import services
from portal.monitoring.models import Device, ReceivedPacket, RejectedPacket, UnknownSender
from tests.conftest import login_as
from tests.factories import make_enterprise, make_outlet, make_user
from tests.monitoring.hj212_device import upload
from tests.monitoring.helpers import PASSWORD, water_setup

NOW = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)
CP = "DataTime=20261101090000;w01018-Avg=35.2,w01018-Flag=N"


def _unknown(mn: str, count: int = 1) -> bytes:
    return b"".join(upload(mn, PASSWORD, "2061", CP, qn=f"2026110110{i:07d}") for i in range(count))


def _rows(db):
    return {(r.mn, r.address, r.reason): r for r in db.session.scalars(sa.select(UnknownSender))}


def test_a_flood_from_one_unknown_mn_is_one_row_that_counts_and_keeps_first_and_last_seen(db):
    water_setup(db)
    results = services.ingest_hj212(_unknown("NOSUCHMN", 300), now=NOW, address="198.51.100.7", channel="tcp")
    assert {r["result"] for r in results} == {"unauthorised"}
    services.ingest_hj212(_unknown("NOSUCHMN", 2), now=NOW + timedelta(hours=1), address="198.51.100.7")
    services.ingest_hj212(_unknown("NOSUCHMN"), now=NOW, address="198.51.100.8")
    rows = _rows(db)
    assert set(rows) == {("NOSUCHMN", "198.51.100.7", "unknown_device"), ("NOSUCHMN", "198.51.100.8", "unknown_device")}
    row = rows[("NOSUCHMN", "198.51.100.7", "unknown_device")]
    assert (row.count, row.first_seen, row.last_seen) == (302, NOW, NOW + timedelta(hours=1))
    assert "CN=2061" in row.detail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RejectedPacket)) == 0


def test_the_list_is_capped_and_what_arrives_once_full_is_counted_in_one_overflow_row(app, db, monkeypatch):
    water_setup(db)
    monkeypatch.setitem(app.config, "HJ212_UNKNOWN_SENDERS_MAX", 5)
    body = b"".join(_unknown(f"GUESS{i:04d}") for i in range(12))
    services.ingest_hj212(body, now=NOW, address="203.0.113.9")
    services.ingest_hj212(_unknown("OTHER0001", 3), now=NOW, address="203.0.113.10")
    services.ingest_hj212(_unknown("GUESS0000", 2), now=NOW, address="203.0.113.9")  # an existing row still counts
    rows = _rows(db)
    assert len(rows) == 6  # five kept and one overflow row for the reason
    assert rows[("*", "*", "unknown_device")].count == 7 + 3
    assert rows[("GUESS0000", "203.0.113.9", "unknown_device")].count == 3


def test_a_frame_of_a_registered_mn_goes_to_its_device_page_not_to_the_unknown_list(db):
    _, _, device = water_setup(db)
    bad_crc = upload(device.mn, PASSWORD, "2061", CP, qn="20261101100000001")[:-6] + b"0000\r\n"
    services.ingest_hj212(bad_crc + upload(device.mn, "wrong", "2061", CP), now=NOW)
    assert db.session.execute(sa.select(RejectedPacket.reason, RejectedPacket.device_id)).all() == [
        ("bad_crc", device.id), ("wrong_password", device.id)]
    assert _rows(db) == {}


def test_a_platform_mn_request_from_an_unregistered_logger_is_listed_with_its_fingerprint(db):
    water_setup(db)
    frame = upload("TEMP0001", "123456", "1001", "CPUID=BFEBFBFF000906EA;MAC=00-1B-44-11-3A-B7", qn="20261101100000001",
                   flag=9)
    result = services.ingest_hj212(frame, now=NOW, address="198.51.100.7")[0]
    assert result["result"] == "unauthorised"  # the same answer as any unknown MN
    row = _rows(db)[("TEMP0001", "198.51.100.7", "mn_request")]
    assert "CPUID=BFEBFBFF000906EA" in row.detail and "MAC=00-1B-44-11-3A-B7" in row.detail


def test_admins_and_province_regulators_see_the_list_with_a_link_to_register_the_mn(app, client, db):
    water_setup(db)
    services.ingest_hj212(_unknown("NEWLOGGER_01", 4), now=NOW, address="198.51.100.7")
    db.session.commit()
    province = make_user(Role.REGULATOR, jurisdiction_code="32")
    login_as(client, province)
    page = client.get("/monitoring/unknown-devices")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "NEWLOGGER_01" in text and "198.51.100.7" in text and ">4<" in text
    assert "/monitoring/devices?mn=NEWLOGGER_01#add-device" in text
    form = client.get("/monitoring/devices?mn=NEWLOGGER_01").get_data(as_text=True)
    assert 'value="NEWLOGGER_01"' in form  # the registration form comes prefilled

    admin = make_user(Role.ADMIN)
    db.session.commit()
    login_as(client, admin)
    page = client.get("/monitoring/unknown-devices")
    assert page.status_code == 200 and "NEWLOGGER_01" in page.get_data(as_text=True)
    assert "?mn=NEWLOGGER_01" not in page.get_data(as_text=True)  # an administrator registers no device
    assert 'href="/monitoring/unknown-devices"' in client.get("/home").get_data(as_text=True)  # on the home


def test_city_regulators_and_enterprises_are_refused_the_list(app, client, db):
    ent, _, _ = water_setup(db)
    users = [make_user(Role.REGULATOR, jurisdiction_code="3208"), make_user(Role.REGULATOR_LEAD,
                                                                            jurisdiction_code="320826"),
             make_user(Role.ENTERPRISE_STAFF, enterprise=ent)]
    db.session.commit()
    for user in users:
        login_as(client, user)
        assert client.get("/monitoring/unknown-devices").status_code == 403


def test_a_key_exchange_is_kept_marked_not_understood_its_key_masked_and_never_applied(db):
    key_hex = "0123456789ABCDEFFEDCBA9876543210"
    ent = make_enterprise()
    make_outlet(ent, "DW001")
    device = services.add_device(None, mn="KEYX0001", password=PASSWORD, uscc=ent.uscc, outlet_code="DW001",
                                 protocol="2025", sm4_key=key_hex)
    db.session.flush()
    sealed = device.sm4_key
    new_key = "FEDCBA98765432100123456789ABCDEF"
    frame = upload("KEYX0001", PASSWORD, "1014", f"NewKey={new_key}", qn="20261101100000001", flag=9,
                   sm4_key=bytes.fromhex(key_hex))
    result = services.ingest_hj212(frame, now=NOW)[0]
    assert result["result"] == "kept"  # stored, and not answered as data
    packet = db.session.scalar(sa.select(ReceivedPacket))
    assert packet.cn == "1014" and {"key": "CN", "issue": "not_understood", "value": "1014"} in packet.issues
    assert packet.raw == "NewKey=<32>" and new_key not in (packet.raw or "")
    assert db.session.get(Device, device.id).sm4_key == sealed  # no key taken from it
