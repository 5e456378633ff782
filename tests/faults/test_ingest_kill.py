"""An HJ 212 ingest process SIGKILLed in the middle of a run of request bodies (issue 8, faults).

A child process (tests/faults/ingest_child.py) feeds 2,400 packets (12,000 values) through the service the API view
uses, committing after each body of 100 packets, as the view does per request. It is killed after some bodies have
committed, while the next one is being written. Afterwards: whole bodies only (packets a multiple of the body size),
every stored packet has all five of its values, the hour/day/month roll-ups count exactly the stored values; then
the same packets are sent again: the stored ones answer `duplicate`, the rest are stored, each exactly once.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import time

import pytest

from tests.faults.procs import PYTHON, ROOT, base_env, sigkill

pytestmark = pytest.mark.slow

HOURS, PER_REQUEST, VALUES_PER_PACKET = 800, 100, 5
PACKETS = HOURS * 3


def child(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-m", "tests.faults.ingest_child", *args], cwd=ROOT, env=base_env(),
                            stdout=subprocess.PIPE, text=True, **kwargs)


def state(path) -> dict:
    db = sqlite3.connect(path)
    try:
        packets = db.execute("SELECT count(*) FROM monitoring_packets").fetchone()[0]
        values = db.execute("SELECT count(*) FROM monitoring_values").fetchone()[0]
        per_packet = db.execute("SELECT p.id, p.value_count, count(v.id) FROM monitoring_packets p "
                                "LEFT JOIN monitoring_values v ON v.packet_id = p.id GROUP BY p.id").fetchall()
        rollups = dict(db.execute("SELECT resolution, sum(n_all) FROM monitoring_rollups GROUP BY resolution"))
        # hourly values are their own hour (no hour roll-up row): the readers add them to the hour roll-ups
        rollups["hour"] = rollups.get("hour", 0) + db.execute(
            "SELECT count(*) FROM monitoring_values WHERE period = 'hour' AND value IS NOT NULL").fetchone()[0]
        orphans = db.execute("SELECT count(*) FROM monitoring_values WHERE packet_id NOT IN "
                             "(SELECT id FROM monitoring_packets)").fetchone()[0]
    finally:
        db.close()
    return {"packets": packets, "values": values, "per_packet": per_packet, "rollups": rollups, "orphans": orphans}


def assert_consistent(s: dict) -> None:
    assert s["orphans"] == 0, "no value without its packet"
    assert all(count == VALUES_PER_PACKET and stated == VALUES_PER_PACKET for _, stated, count in s["per_packet"]), \
        "every stored packet has all its values"
    assert s["values"] == s["packets"] * VALUES_PER_PACKET
    for resolution in ("HOUR", "DAY", "MONTH"):
        counted = {k.upper(): v for k, v in s["rollups"].items()}.get(resolution, 0)
        assert counted == s["values"], f"{resolution.lower()} roll-ups count exactly the stored values"


def test_sigkill_mid_ingest_keeps_whole_batches_and_a_resend_stores_the_rest_once(tmp_path):
    path = tmp_path / "ingest.sqlite3"
    url, info = f"sqlite:///{path}", str(tmp_path / "info.json")
    setup = child("setup", url, info)
    setup.communicate(timeout=120)
    assert setup.returncode == 0

    proc = child("ingest", url, info, str(HOURS), str(PER_REQUEST))
    committed = 0
    try:
        for line in proc.stdout:
            if line.startswith("committed"):
                committed = int(line.split()[1])
                if committed == 5:
                    break
        time.sleep(0.05)  # into the sixth body
        sigkill(proc.pid)
        assert proc.wait(timeout=30) == -9
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert committed == 5, "the child reported five commits before the kill"

    killed = state(path)
    assert killed["packets"] % PER_REQUEST == 0, "whole request bodies only, nothing half-written"
    assert 5 * PER_REQUEST <= killed["packets"] < PACKETS, "committed bodies stay; the run was cut short"
    assert_consistent(killed)

    resend = child("ingest", url, info, str(HOURS), str(PER_REQUEST))
    out, _ = resend.communicate(timeout=300)
    assert resend.returncode == 0
    totals = json.loads(out.strip().splitlines()[-1])
    assert totals == {"duplicate": killed["packets"], "accepted": PACKETS - killed["packets"]}

    final = state(path)
    assert final["packets"] == PACKETS
    assert_consistent(final)
