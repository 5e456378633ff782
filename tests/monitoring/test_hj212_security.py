"""The HJ 212 channel under attack (issue 19): cheap constant-time device checks, one answer for unknown device and
wrong password, per-address limits on the HTTP endpoint and the listener. Packets come from the independent logger
in hj212_device.py."""
from __future__ import annotations

import select
import socket
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.monitoring import devicekeys, services
from portal.monitoring.guard import AddressGuard
from portal.monitoring.models import Device, RejectedPacket, UnknownSender
from tests.monitoring.hj212_device import upload
from tests.monitoring.helpers import PASSWORD, water_setup
from tests.monitoring.test_listener import Client, qn, running

NOW = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)
CP = "DataTime=20261101090000;w01018-Avg=35.2,w01018-Flag=N"


def _lines(mn: str, count: int, pw: str) -> bytes:
    return b"".join(upload(f"{mn}{i:04d}" if mn != "same" else "MNW0001", pw, "2061", CP,
                           qn=f"2026110110{i:07d}") for i in range(count))


def test_two_hundred_unauthorised_lines_cost_less_than_a_second_of_cpu(db):
    water_setup(db)
    body = _lines("GUESS", 100, "123456") + _lines("same", 100, "wrong-guess")
    started = time.process_time()
    results = services.ingest_hj212(body, now=NOW, address="203.0.113.9")
    spent = time.process_time() - started
    assert [r["result"] for r in results] == ["unauthorised"] * 200
    assert spent < 1.0, f"{spent:.2f} s of CPU for 200 unauthorised lines"
    # the registered device's 100 refusals are kept for its page; the 100 unknown MNs as one row each, bounded
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RejectedPacket)) == 100
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UnknownSender)) == 100


def test_refusals_beyond_the_per_call_bound_are_counted_in_the_last_row(db):
    water_setup(db)
    services.ingest_hj212(_lines("same", 150, "wrong-guess"), now=NOW, address="203.0.113.9")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RejectedPacket)) == 100  # bounded, last says more
    last = db.session.scalars(sa.select(RejectedPacket).order_by(RejectedPacket.id.desc())).first()
    assert "+50 more" in last.detail and last.address == "203.0.113.9"


def test_the_verifier_is_keyed_and_constant_time_and_never_the_password(db):
    _, _, device = water_setup(db)
    assert device.password_hash.startswith("h1$") and PASSWORD not in device.password_hash
    assert devicekeys.check_verifier(device.password_hash, device.mn, PASSWORD)
    assert not devicekeys.check_verifier(device.password_hash, device.mn, PASSWORD + "x")
    assert not devicekeys.check_verifier(device.password_hash, "OTHERMN", PASSWORD)  # bound to the MN
    assert not devicekeys.check_verifier(None, device.mn, PASSWORD)


def test_a_device_registered_with_argon2_gets_a_verifier_on_its_first_correct_packet(db):
    from portal.auth.services import hash_password

    _, _, device = water_setup(db)
    device.password_hash = hash_password(PASSWORD)
    db.session.flush()
    result = services.ingest_hj212(upload(device.mn, PASSWORD, "2061", CP, qn=qn(1)), now=NOW)
    assert result[0]["result"] == "accepted"
    assert db.session.get(Device, device.id).password_hash.startswith("h1$")


def test_the_endpoint_answers_unknown_device_and_wrong_password_alike(app, client, db):
    _, _, device = water_setup(db)
    db.session.commit()
    unknown = client.post("/api/v1/monitoring/hj212", data=upload("NOSUCHMN", PASSWORD, "2061", CP, qn=qn(1)))
    wrong = client.post("/api/v1/monitoring/hj212", data=upload(device.mn, "nope", "2061", CP, qn=qn(1)))
    strip = [{k: v for k, v in r.items() if k not in ("mn",)} for r in (unknown.get_json()["results"][0],
                                                                       wrong.get_json()["results"][0])]
    assert strip[0] == strip[1] and strip[0]["result"] == "unauthorised"
    assert "reason" not in unknown.get_data(as_text=True)
    reasons = db.session.scalars(sa.select(RejectedPacket.reason).order_by(RejectedPacket.id)).all()
    assert reasons == ["wrong_password"]  # the regulator's pages say which
    assert db.session.execute(sa.select(UnknownSender.mn, UnknownSender.reason)).all() == [
        ("NOSUCHMN", "unknown_device")]


@pytest.fixture
def guarded(app):
    app.extensions["hj212_guard"] = AddressGuard(max_failures=5, window=60, block_seconds=60, rate=1, burst=50)
    yield app.extensions["hj212_guard"]
    del app.extensions["hj212_guard"]


def test_an_address_with_too_many_failed_authentications_is_refused_but_others_are_not(app, client, db, guarded):
    _, _, device = water_setup(db)
    db.session.commit()
    bad = b"".join(upload(device.mn, f"guess{i}", "2061", CP, qn=qn(i)) for i in range(6))
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.post("/api/v1/monitoring/hj212", data=bad, environ_base=attacker).status_code == 200
    refused = client.post("/api/v1/monitoring/hj212", data=upload(device.mn, PASSWORD, "2061", CP, qn=qn(9)),
                          environ_base=attacker)
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_failures"
    other = client.post("/api/v1/monitoring/hj212", data=upload(device.mn, PASSWORD, "2061", CP, qn=qn(9)),
                        environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.get_json()["results"][0]["result"] == "accepted"


def test_an_address_sending_more_lines_than_its_budget_is_refused(app, client, db, guarded):
    _, _, device = water_setup(db)
    db.session.commit()
    body = b"".join(upload(device.mn, PASSWORD, "2061", CP, qn=qn(i)) for i in range(60))
    response = client.post("/api/v1/monitoring/hj212", data=body, environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"


def _from(address: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((address, 0))
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    return sock


def test_one_address_holding_many_connections_does_not_block_another_device(app, db):
    _, _, device = water_setup(db)
    db.session.commit()
    with running(app, max_connections=20, max_per_address=3) as server:
        hogs = [_from("127.0.0.5", server.port) for _ in range(10)]  # only 3 are kept open
        try:
            closed: set[socket.socket] = set()
            for _ in range(300):  # until the 7 beyond the per-address maximum are closed (the 3 kept never are)
                open_ = [s for s in hogs if s not in closed]
                for sock in select.select(open_, [], [], 0.1)[0]:
                    try:
                        data = sock.recv(1)
                    except ConnectionResetError:
                        data = b""
                    if data == b"":
                        closed.add(sock)
                if len(closed) >= 7:
                    break
            assert len(closed) == 7
            genuine = Client.__new__(Client)
            genuine.sock, genuine.pending = _from("127.0.0.6", server.port), b""
            try:
                genuine.send(upload(device.mn, PASSWORD, "2061", CP, qn=qn(1)))
                assert genuine.reply().qn == qn(1)
            finally:
                genuine.close()
        finally:
            for sock in hogs:
                sock.close()


def test_the_listener_disconnects_an_address_after_too_many_failed_authentications(app, db):
    _, _, device = water_setup(db)
    db.session.commit()
    guard = AddressGuard(max_failures=3, window=60, block_seconds=60)
    with running(app, guard=guard) as server:
        attacker = Client.__new__(Client)
        attacker.sock, attacker.pending = _from("127.0.0.7", server.port), b""
        attacker.send(b"".join(upload(device.mn, f"guess{i}", "2061", CP, qn=qn(i)) for i in range(5)))
        assert attacker.closed_by_peer()
        attacker.close()
        again = _from("127.0.0.7", server.port)
        assert again.recv(1) == b""  # refused while blocked
        again.close()
        genuine = Client.__new__(Client)
        genuine.sock, genuine.pending = _from("127.0.0.8", server.port), b""
        genuine.send(upload(device.mn, PASSWORD, "2061", CP, qn=qn(9)))
        assert genuine.reply().qn == qn(9)
        genuine.close()
