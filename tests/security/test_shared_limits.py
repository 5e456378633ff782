"""Rate limits per address shared across channels that do the same thing (web, JSON and XML complaint intake) and
across all public PDFs; with Redis they hold across worker processes (issues 20 and 23)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid

import pytest

from portal import ROOT, create_app
from portal.extensions import limiter

REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def limited(app):
    """A second app with limits on (memory storage); the suite's app keeps them off."""
    was_enabled = limiter.enabled
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", COMPLAINT_RATE_LIMIT="3 per minute",
                  PUBLIC_PDF_RATE_LIMIT="2 per minute", RATELIMIT_KEY_PREFIX=f"t{uuid.uuid4().hex}")
    limited_app = create_app(config)
    try:
        with limited_app.app_context():
            yield limited_app.test_client()
            from portal.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        limiter.enabled = was_enabled


def test_web_json_and_xml_intake_share_one_budget_per_address(limited, db):
    codes = [limited.post("/complaints/new", data={}).status_code,
             limited.post("/open311/v2/requests.json", data={"jurisdiction_id": "x"}).status_code,
             limited.post("/open311/v2/requests.xml", data={"jurisdiction_id": "x"}).status_code]
    assert 429 not in codes
    assert limited.post("/complaints/new", data={}).status_code == 429
    assert limited.post("/open311/v2/requests.xml", data={"jurisdiction_id": "x"}).status_code == 429
    assert limited.get("/complaints/new").status_code == 200  # reading the form is not limited


def test_public_pdfs_share_a_budget(limited, db):
    codes = [limited.get("/enterprises/91320826MA1X00000X/summary.pdf").status_code,
             limited.get("/code/91320826MA1X00000X/sign-a4.pdf").status_code]
    assert 429 not in codes
    assert limited.get("/enterprises/91320826MA1X00000X/credit.pdf").status_code == 429


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _worker(storage: str, prefix: str, path: str, count: int) -> list[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "tests.security.limit_child", storage, prefix, path, str(count)],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("storage,shared", [(REDIS, True), ("memory://", False)])
def test_two_worker_processes_share_the_limit_through_redis(storage, shared):
    if storage == REDIS and not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"portal-test-{uuid.uuid4().hex}"
    first = _worker(storage, prefix, "/open311/v2/requests.json", 2)
    second = _worker(storage, prefix, "/open311/v2/requests.xml", 2)
    assert 429 not in first and len(first) == 2
    # Redis: the second worker has one request left of 3; memory://: each worker counts alone (the control).
    assert [c == 429 for c in second] == ([False, True] if shared else [False, False])
    if storage == REDIS:
        import redis

        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"*{prefix}*"))
        assert keys  # the counters really are in Redis
        client.delete(*keys)
