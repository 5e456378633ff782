"""The listener at province scale (issue 19): several processes share one port (SO_REUSEPORT), frames of many
connections are ingested together (one commit for many frames), the open-file limit is raised to the connections it
may hold. Throughput and latency are measured by bench/listener.py, not here."""
from __future__ import annotations

import concurrent.futures
import resource
import threading

import pytest

from portal.monitoring.listener import Hj212Listener, raise_fd_limit
from tests.monitoring.test_listener import Client, device, qn, running, stored, upload  # noqa: F401  (fixture)


def test_two_listeners_share_one_port_and_both_answer(app, db, device):  # noqa: F811
    with running(app, reuse_port=True) as first:
        with running(app, reuse_port=True, port=first.port) as second:
            assert second.port == first.port
            clients = [Client(first.port) for _ in range(8)]  # the kernel spreads them over both processes
            try:
                for n, client in enumerate(clients, start=1):
                    client.send(upload(device.mn, qn(n)))
                assert [c.reply().qn for c in clients] == [qn(n) for n in range(1, 9)]
            finally:
                for client in clients:
                    client.close()
    assert stored(db) == 8


def test_a_second_listener_without_reuse_port_cannot_take_the_port(app, db, device):  # noqa: F811
    with running(app) as first:
        other = Hj212Listener(app, host="127.0.0.1", port=first.port, idle_seconds=60, max_connections=5, workers=1)
        # In a thread of its own, as the listener runs in its own process: the test thread may hold the event loop
        # an earlier (browser) test left running, and asyncio.run refuses to start inside it.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            with pytest.raises(OSError):
                pool.submit(other.run, install_signals=False).result(timeout=30)


def test_frames_of_several_connections_waiting_together_go_into_one_ingest_call(app, db, device,  # noqa: F811
                                                                                monkeypatch):
    calls: list[int] = []
    release = threading.Event()
    original = Hj212Listener.ingest_requests

    def counted(self, requests):
        calls.append(len(requests))
        if len(calls) == 1:
            release.wait(30)  # hold the first call so that the next frames queue up behind it
        return original(self, requests)

    monkeypatch.setattr(Hj212Listener, "ingest_requests", counted)
    with running(app, workers=1) as server:
        clients = [Client(server.port) for _ in range(4)]
        try:
            clients[0].send(upload(device.mn, qn(1)))
            while not calls:
                threading.Event().wait(0.01)
            for n, client in enumerate(clients[1:], start=2):
                client.send(upload(device.mn, qn(n)))
            while server._queue.qsize() < 3:  # all three wait for the one worker
                threading.Event().wait(0.01)
            release.set()
            assert [c.reply().qn for c in clients] == [qn(n) for n in range(1, 5)]
        finally:
            for client in clients:
                client.close()
    assert calls == [1, 3]  # the three waiting requests went into one ingest call (one commit)
    assert stored(db) == 4


def test_the_open_file_limit_is_raised_towards_the_connections_held():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        wanted = min(hard, soft + 10) if hard != resource.RLIM_INFINITY else soft + 10
        assert raise_fd_limit(wanted) >= wanted
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

