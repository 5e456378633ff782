"""The HJ 212 TCP listener on a real socket: framing over a byte stream, the CN=9014 data response, rejections,
limits and a graceful stop.

The listener runs in a thread on the suite's database (SQLite file or PostgreSQL); its ingest workers have their own
app contexts and sessions, so the tests commit their setup and read with a fresh transaction. "No response" is
shown without waiting for silence: responses come back in order, so the first one must belong to the good frame
sent after the bad ones.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading

import pytest
import sqlalchemy as sa

from portal.monitoring import services
from portal.monitoring.hj212 import build_frame, parse_frame
from portal.monitoring.listener import MAX_LINE, FrameReader, Hj212Listener, data_response, header_fields, split_line
from portal.monitoring.models import MonitoringValue, ReceivedPacket
from tests.monitoring.helpers import deadlock, packet, water_setup

WHEN = "20250301090000"


def upload(mn: str, qn: str | None, value: str = "35.2", flag: int = 5, pw: str = "123456") -> bytes:
    """An hourly water upload; flag 5 = 2017 edition with bit A (the device wants a data response)."""
    frame = packet(mn, 2061, WHEN, {"w01018": f"Avg={value},Flag=N"}, qn=qn, pw=pw)
    return build_frame(frame[6:-6].decode().replace("Flag=4", f"Flag={flag}", 1))


def qn(n: int) -> str:
    return f"2025030110000{n:04d}"


class Client:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self):
        """The next response frame, CRC-checked and parsed."""
        while b"\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            assert chunk, "the listener closed the connection instead of answering"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\r\n")
        return parse_frame(line + b"\r\n")

    def closed_by_peer(self) -> bool:
        try:
            while chunk := self.sock.recv(65536):
                self.pending += chunk
        except ConnectionResetError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()


@contextlib.contextmanager
def running(app, **options):
    server = Hj212Listener(app, host="127.0.0.1", **{"port": 0, "idle_seconds": 60, "max_connections": 20,
                                                     "workers": 2, **options})
    thread = threading.Thread(target=server.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    assert server.ready.wait(30), "the listener did not start"
    try:
        yield server
    finally:
        server.stop()
        thread.join(30)
        assert not thread.is_alive()


@contextlib.contextmanager
def connect(server):
    client = Client(server.port)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def device(db):
    _, _, device = water_setup(db)
    db.session.commit()
    return device


@pytest.fixture
def server(app, db, device):
    with running(app) as server:
        yield server


def stored(db, model=ReceivedPacket) -> int:
    db.session.commit()  # a fresh transaction sees the listener's commits
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# ---------------------------------------------------------------- pure framing

def test_a_stream_fed_byte_by_byte_with_garbage_yields_exactly_its_frames():
    first, second = upload("MNW0001", qn(1)), upload("MNW0001", qn(2), value="7")
    stream = b"noise without frame\r\n\x00\xff##xx" + first + b"#" + second
    reader, frames = FrameReader(), []
    for i in range(len(stream)):
        frames += reader.feed(stream[i:i + 1])
    assert frames == [first, second]
    assert reader.discarded == len(b"noise without frame" + b"\x00\xff##xx" + b"#")  # line ends are not counted


def test_a_truncated_frame_is_cut_at_the_next_frame_start_so_that_frame_survives():
    good = upload("MNW0001", qn(1))
    pieces = split_line(good[:40] + good)
    assert pieces == [good[:40] + b"\r\n", good]


def test_an_over_long_run_is_cut_at_its_declared_length_and_the_buffer_stays_bounded():
    reader = FrameReader()
    frames = reader.feed(b"##9999" + b"x" * MAX_LINE)
    assert frames == [b"##9999" + b"x" * 10003 + b"\r\n"]  # refused by the parser (CRC), not held
    assert len(reader.buffer) < MAX_LINE
    assert FrameReader().feed(build_frame("x" * 9999)) == [build_frame("x" * 9999)]


def test_a_frame_without_crlf_is_taken_as_soon_as_its_crc_arrives():
    frame = upload("MNW0001", qn(1))
    reader = FrameReader()
    assert reader.feed(frame[:-3]) == []
    assert reader.feed(frame[-3:-2]) == [frame]  # the last CRC byte; no CR LF needed
    assert not reader.pending


def test_the_data_response_echoes_qn_pw_mn_with_st_91_flag_4_and_an_empty_cp():
    fields = header_fields(upload("MNW0001", qn(3)))
    response = parse_frame(data_response(fields))
    assert (response.qn, response.st, response.cn, response.pw, response.mn, response.flag) == (
        qn(3), "91", "9014", "123456", "MNW0001", 4)
    assert response.segment.endswith("CP=&&&&")
    assert data_response(header_fields(upload("MNW0001", qn(3), flag=4))) is None
    no_qn = parse_frame(data_response(header_fields(upload("MNW0001", None, flag=1))))
    assert no_qn.qn is None and no_qn.cn == "9014"


# ---------------------------------------------------------------- on a socket

def test_an_accepted_upload_gets_a_9014_response_with_its_qn_and_its_value_is_stored(server, db, device):
    with connect(server) as client:
        client.send(upload(device.mn, qn(1)))
        response = client.reply()
    assert (response.cn, response.st, response.qn, response.mn, response.flag) == ("9014", "91", qn(1), device.mn, 4)
    assert stored(db) == 1
    assert db.session.scalar(sa.select(MonitoringValue.value)) == pytest.approx(35.2)


def test_two_frames_in_one_send_are_both_stored_and_answered_in_order(server, db, device):
    with connect(server) as client:
        client.send(upload(device.mn, qn(1)) + upload(device.mn, qn(2), value="36"))
        assert [client.reply().qn, client.reply().qn] == [qn(1), qn(2)]
    assert stored(db) == 2


def test_a_frame_split_across_two_sends_is_reassembled(server, db, device):
    frame = upload(device.mn, qn(1))
    with connect(server) as client:
        client.send(frame[:25])
        client.send(frame[25:])
        assert client.reply().qn == qn(1)
    assert stored(db) == 1


def test_garbage_before_and_between_frames_is_skipped(server, db, device):
    with connect(server) as client:
        client.send(b"hello listener\r\n\x00\x01\xfe##zz" + upload(device.mn, qn(1)) + b"junk"
                    + upload(device.mn, qn(2))[:30] + upload(device.mn, qn(3)))
        assert [client.reply().qn, client.reply().qn] == [qn(1), qn(3)]
    assert stored(db) == 2


def test_bad_crc_unknown_device_and_wrong_password_get_no_response_and_store_nothing(server, db, device, caplog):
    bad_crc = upload(device.mn, qn(1))[:-6] + b"0000\r\n"
    caplog.set_level(logging.WARNING, logger="portal.monitoring.listener")
    with connect(server) as client:
        client.send(bad_crc + upload("NOSUCHMN", qn(2)) + upload(device.mn, qn(3), pw="not-the-secret"))
        client.send(upload(device.mn, qn(4)))
        assert client.reply().qn == qn(4), "the rejected packets were not answered"
    assert stored(db) == 1
    assert db.session.scalar(sa.select(ReceivedPacket.qn)) == qn(4)
    rejections = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejections) == 3
    assert f"bad_crc mn={device.mn} qn={qn(1)}" in rejections[0]
    assert f"unknown_device mn=NOSUCHMN qn={qn(2)}" in rejections[1]  # the log and the rejection row say which
    assert f"wrong_password mn={device.mn} qn={qn(3)}" in rejections[2]
    assert "not-the-secret" not in caplog.text


def test_a_duplicate_qn_is_answered_again_but_stored_once(server, db, device):
    frame = upload(device.mn, qn(1))
    with connect(server) as client:
        client.send(frame)
        assert client.reply().qn == qn(1)
        client.send(frame)
        assert client.reply().qn == qn(1), "a resend whose first response was lost is answered"
    assert stored(db) == 1
    assert stored(db, MonitoringValue) == 1


def test_an_upload_without_flag_bit_a_is_stored_without_a_response(server, db, device):
    with connect(server) as client:
        client.send(upload(device.mn, qn(1), flag=4) + upload(device.mn, qn(2)))
        assert client.reply().qn == qn(2)
    assert stored(db) == 2


def test_an_over_long_garbage_frame_is_refused_and_the_connection_keeps_serving(server, db, device):
    with connect(server) as client:
        client.send(b"##9999" + b"A" * (MAX_LINE + 10))
        client.send(upload(device.mn, qn(1)))
        assert client.reply().qn == qn(1)
    assert stored(db) == 1


def test_a_frame_without_crlf_is_answered_at_once(server, db, device):
    with connect(server) as client:
        client.send(upload(device.mn, qn(1))[:-2])  # the logger omits CR LF and waits
        assert client.reply().qn == qn(1)
    assert stored(db) == 1


def test_a_frame_that_never_completes_closes_the_connection(app, db, device):
    with running(app, frame_seconds=0.2) as server, connect(server) as client:
        client.send(upload(device.mn, qn(1))[:40])
        assert client.closed_by_peer()


def test_a_batch_that_raises_is_rolled_back_and_retried_in_halves_around_the_bad_frame(server, db, device, monkeypatch):
    real = services.ingest_hj212

    def poisoned(body: bytes, now=None, **kw):
        if b"MN=POISON" in body:
            raise RuntimeError("simulated storage failure")
        return real(body, now, **kw)

    monkeypatch.setattr(services, "ingest_hj212", poisoned)
    with connect(server) as client:
        client.send(upload("POISON", qn(1)) + upload(device.mn, qn(2)))
        assert client.reply().qn == qn(2)
        client.send(upload(device.mn, qn(3)))
        assert client.reply().qn == qn(3)
    assert stored(db) == 2


def test_a_database_outage_answers_nothing_so_the_devices_resend_and_the_listener_keeps_serving(server, db, device,
                                                                                             monkeypatch):
    real, failed = services.ingest_hj212, threading.Event()

    def outage(body: bytes, now=None, **kw):
        if b"MN=DOWN" in body:
            failed.set()
            raise sa.exc.OperationalError("INSERT ...", {}, Exception("server closed the connection"))
        return real(body, now, **kw)

    monkeypatch.setattr(services, "ingest_hj212", outage)
    with connect(server) as client:
        client.send(upload("DOWN", qn(1)) + upload(device.mn, qn(2)))
        assert failed.wait(30)  # the connection reads again only once that batch is answered (here: with nothing)
        client.send(upload(device.mn, qn(3)))
        assert client.reply().qn == qn(3), "nothing of the failed batch was answered"
    assert stored(db) == 1


def test_a_batch_aborted_by_a_deadlock_runs_again_and_is_answered(server, db, device, monkeypatch):
    real, calls = services.ingest_hj212, []

    def victim_once(body: bytes, now=None, **kw):
        calls.append(body)
        result = real(body, now, **kw)
        if len(calls) == 1:  # PostgreSQL aborts the first attempt after it wrote
            raise deadlock()
        return result

    monkeypatch.setattr(services, "ingest_hj212", victim_once)
    with connect(server) as client:
        client.send(upload(device.mn, qn(1)))
        assert client.reply().qn == qn(1)
    assert len(calls) == 2 and calls[0] == calls[1]  # the same batch, whole, not halves
    assert stored(db) == 1


def test_connections_beyond_the_maximum_are_closed_at_once(app, db, device):
    with running(app, max_connections=1) as server, connect(server) as first:
        first.send(upload(device.mn, qn(1)))
        assert first.reply().qn == qn(1)  # the first connection is being served
        with connect(server) as second:
            assert second.closed_by_peer()
        first.send(upload(device.mn, qn(2)))
        assert first.reply().qn == qn(2)


def test_an_idle_connection_is_closed(app, db, device):
    with running(app, idle_seconds=0.2) as server, connect(server) as client:
        assert client.closed_by_peer()


@pytest.mark.slow
def test_the_cli_listener_is_its_own_process_and_stops_on_sigterm(app, db, device):
    from tests.faults.procs import PYTHON, ROOT, base_env, free_port, wait_for

    port = free_port()
    # device verifiers are keyed with HJ212_DEVICE_KEY, else REPORTER_KEY: the child gets the suite's key as its
    # device key (its own REPORTER_KEY stays a real one, as the app refuses the repository's test key outside tests)
    env = {**base_env(PORTAL_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                      PORTAL_HJ212_DEVICE_KEY=app.config.get("HJ212_DEVICE_KEY") or app.config["REPORTER_KEY"]),
           "PORTAL_LOG_LEVEL": "INFO"}
    proc = subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", "devices", "listen", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def connected():
            try:
                return Client(port)
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                return None

        client = wait_for(connected, timeout=120, what="the listener to accept connections")
        try:
            client.send(upload(device.mn, qn(1)))
            assert client.reply().qn == qn(1)
        finally:
            client.close()
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert "HJ 212 listener stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert stored(db) == 1
