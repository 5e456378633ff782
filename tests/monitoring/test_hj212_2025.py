"""HJ 212-2025 beside 2017 (issue 19): SM4-encrypted data areas, per-device protocol and key, ST 44/45 series,
heartbeats, raw VOC records, platform-style MNs, the CLI. Packets are encrypted by the tests' own SM4
(hj212_device.py, checked against the GB/T 32907 example), not by the code under test."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.errors import ValidationFailed
from portal.monitoring import devicekeys, services
from portal.monitoring.models import Device, MonitoringValue, ReceivedPacket, RejectedPacket
from tests.factories import make_enterprise, make_limit, make_outlet
from tests.monitoring.hj212_device import sm4_ecb_decrypt, sm4_ecb_encrypt, upload
from tests.monitoring.helpers import PASSWORD
from tests.monitoring.test_listener import connect, running

NOW = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)
KEY_HEX = "0123456789ABCDEFFEDCBA9876543210"
KEY = bytes.fromhex(KEY_HEX)
MN = "A1B2C3D4E5F60718293A4B5C"  # 24 characters, as the platform assigns them
CP = "DataTime=20261101090000;w01018-Avg=35.2,w01018-Flag=N;w21003-Avg=1.5,w21003-Flag=N"


def test_the_tests_sm4_matches_the_standards_example():
    # GB/T 32907-2016 appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210
    assert sm4_ecb_encrypt(KEY, KEY).hex() == "681edf34d206965e86b3e94f536e4246"
    assert sm4_ecb_decrypt(KEY, bytes.fromhex("681edf34d206965e86b3e94f536e4246")) == KEY


def _device(db, mn: str = MN, key: str | None = KEY_HEX) -> Device:
    ent = make_enterprise()
    outlet = make_outlet(ent, "DW001")
    make_limit(outlet, "w01018", "100")
    device = services.add_device(None, mn=mn, password=PASSWORD, uscc=ent.uscc, outlet_code="DW001",
                                 protocol="2025", sm4_key=key)
    db.session.flush()
    return device


def _packet(cn: str = "2061", cp: str = CP, key: bytes | None = KEY, qn: str = "20261101100000001", **kw) -> bytes:
    return upload(MN, PASSWORD, cn, cp, qn=qn, flag=9, sm4_key=key, **kw)  # Flag 9: 2025 edition, reply wanted


def test_an_encrypted_2025_upload_is_decrypted_and_stored(db):
    device = _device(db)
    frame = _packet()
    assert b"w01018" not in frame  # the data area is not readable on the wire
    result = services.ingest_hj212(frame, now=NOW)[0]
    assert result["result"] == "accepted"
    assert {c: v for c, v in db.session.execute(sa.select(MonitoringValue.pollutant_code, MonitoringValue.value))} \
        == {"w01018": 35.2, "w21003": 1.5}
    packet = db.session.scalar(sa.select(ReceivedPacket))
    assert packet.version == "2025"
    assert db.session.get(Device, device.id).last_data_at == NOW


def test_a_utf8_data_area_is_counted_in_bytes_and_read(db):
    _device(db)
    cp = CP + ";w01018-Info=进水口"
    result = services.ingest_hj212(_packet(cp=cp), now=NOW)[0]
    assert result["result"] == "accepted"


def test_the_sm4_key_is_stored_encrypted_and_shown_once(db):
    device = _device(db, key=None)
    shown = device.new_sm4_key
    assert devicekeys.valid_sm4_key(shown) and shown not in device.sm4_key
    assert devicekeys.open_sm4_key(device.sm4_key) == bytes.fromhex(shown)
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "monitoring.device.add"))
    assert "sm4_key" not in audit.after and "password_hash" not in audit.after
    reloaded = db.session.get(Device, device.id)
    db.session.expire(reloaded)
    assert not hasattr(reloaded, "new_sm4_key") or reloaded.new_sm4_key == shown  # only the creating request holds it


def test_a_rotated_key_replaces_the_old_one(db):
    device = _device(db)
    new = services.rotate_sm4_key(None, device, "00112233445566778899AABBCCDDEEFF")
    assert services.ingest_hj212(_packet(), now=NOW)[0]["result"] == "decrypt_failed"
    assert services.ingest_hj212(_packet(key=bytes.fromhex(new), qn="20261101100000002"), now=NOW)[0]["result"] \
        == "accepted"


@pytest.mark.parametrize("frame, reason", [
    (lambda: _packet(key=bytes(16)), "decrypt_failed"),  # another key
    (lambda: _packet(key=None), "protocol_mismatch"),  # a 2025 device sending its data in clear (Flag says 2025)
    (lambda: upload(MN, PASSWORD, "2061", CP, qn="20261101100000001", flag=5), "protocol_mismatch"),  # as 2017
])
def test_a_2025_data_packet_that_does_not_decrypt_is_refused_and_recorded(db, frame, reason):
    device = _device(db)
    result = services.ingest_hj212(frame(), now=NOW, address="192.0.2.9")[0]
    assert result["result"] in ("decrypt_failed", "protocol_mismatch", "malformed_field")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 0
    row = db.session.scalar(sa.select(RejectedPacket))
    assert (row.device_id, row.address) == (device.id, "192.0.2.9")
    assert row.reason in (reason, "decrypt_failed")


def test_a_2017_device_beside_a_2025_device_keeps_sending_in_clear(db):
    _device(db)
    ent = make_enterprise()
    make_outlet(ent, "DW001")
    services.add_device(None, mn="MN2017", password=PASSWORD, uscc=ent.uscc, outlet_code="DW001")
    body = _packet() + upload("MN2017", PASSWORD, "2061", CP, qn="20261101100000001")
    assert [r["result"] for r in services.ingest_hj212(body, now=NOW)] == ["accepted", "accepted"]


def test_power_and_production_condition_series_are_stored_with_their_own_codes(db):
    _device(db)
    power = "DataTime=20261101090000;d20001-Rtd=152.3,d20001-Flag=N;d30001-Rtd=40.1,d30001-Flag=N"
    states = "DataTime=20261101090000;p10001-Rtd=1,p10001-Flag=N"
    body = (_packet("2011", power, st="44", qn="20261101100000011")
            + _packet("2011", states, st="45", qn="20261101100000012"))
    results = services.ingest_hj212(body, now=NOW)
    assert [(r["result"], r["unknown_codes"]) for r in results] == [("accepted", []), ("accepted", [])]
    assert set(db.session.scalars(sa.select(MonitoringValue.pollutant_code))) == {"d20001", "d30001", "p10001"}


def test_a_heartbeat_marks_the_device_alive_and_stores_no_data(db):
    device = _device(db)
    heartbeat = upload(MN, PASSWORD, "9015", "", qn="20261103075900001", flag=9)
    assert services.ingest_hj212(heartbeat, now=NOW)[0]["result"] == "accepted"
    assert db.session.get(Device, device.id).last_heartbeat_at == NOW
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedPacket)) == 0


def test_raw_voc_records_are_kept(db):
    _device(db)
    raw = "DataTime=20261101090000;a24088-RT=1.25,a24088-PeakArea=3321.5,a24088-PeakHeight=120.2"
    result = services.ingest_hj212(_packet("2013", raw, st="27"), now=NOW)[0]
    assert result["result"] == "accepted"
    packet = db.session.scalar(sa.select(ReceivedPacket))
    assert packet.cn == "2013" and "PeakArea=3321.5" in packet.raw


@pytest.mark.parametrize("mn, ok", [("NM100000_0005", True), ("AB-12", True), (MN, True), (MN + "X", False),
                                    ("MN 1", False), ("MN;1", False)])
def test_mns_as_seen_in_the_field_can_be_registered(db, mn, ok):
    ent = make_enterprise()
    make_outlet(ent, "DW001")
    if ok:
        assert services.add_device(None, mn=mn, password=PASSWORD, uscc=ent.uscc, outlet_code="DW001").mn == mn
    else:
        with pytest.raises(ValidationFailed):
            services.add_device(None, mn=mn, password=PASSWORD, uscc=ent.uscc, outlet_code="DW001")


def test_the_listener_answers_an_encrypted_upload_with_a_2025_data_response(app, db):
    _device(db)
    db.session.commit()
    with running(app) as server, connect(server) as client:
        client.send(_packet()[:-2])  # and without CR LF
        reply = client.reply()
        assert (reply.cn, reply.qn, reply.flag, reply.version) == ("9014", "20261101100000001", 8, "2025")
        client.send(upload(MN, PASSWORD, "9015", "Info=运行正常", qn="20261101100000002", flag=9))  # UTF-8, clear
        assert client.reply().qn == "20261101100000002"


def test_the_cli_registers_a_2025_device_prints_its_key_once_and_rotates_it(runner, db):
    ent = make_enterprise()
    make_outlet(ent, "DW001")
    db.session.commit()
    result = runner.invoke(args=["devices", "add", "--mn", "NM100000_0005", "--password", "pw1", "--uscc", ent.uscc,
                                 "--outlet", "DW001", "--protocol", "2025", "--sm4-key", KEY_HEX.lower()])
    assert result.exit_code == 0, result.output
    assert KEY_HEX in result.output and "/api/v1/monitoring/hj212" in result.output and "9212" in result.output
    device = db.session.scalar(sa.select(Device))
    assert device.protocol == "2025" and devicekeys.open_sm4_key(device.sm4_key) == KEY
    bad = runner.invoke(args=["devices", "add", "--mn", "MN2", "--password", "pw1", "--uscc", ent.uscc,
                              "--outlet", "DW001", "--protocol", "2025", "--sm4-key", "XYZ"])
    assert bad.exit_code != 0 and "32 hexadecimal" in bad.output
    rotated = runner.invoke(args=["devices", "rotate-key", "--mn", "NM100000_0005"])
    assert rotated.exit_code == 0, rotated.output
    db.session.expire_all()
    new = rotated.output.strip().rsplit(" ", 1)[-1]
    assert devicekeys.open_sm4_key(db.session.scalar(sa.select(Device.sm4_key))) == bytes.fromhex(new) != KEY
