"""The S3 backend against a real S3-protocol server: moto's server (moto[server], requirements-dev.txt) in its own
process on a free port, one bucket per test. Tests that need it are skipped only when the server cannot start."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from portal import create_app
from portal.core import storage

ACCESS = "portal-test"
SECRET = "portal-test-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"moto[server] is not installed: {exc}")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60  # start-up only; no assertion depends on timing
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.skip("moto's S3 server did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def s3_settings(endpoint: str, bucket: str) -> dict:
    return {"STORAGE": "s3", "STORAGE_S3_ENDPOINT": endpoint, "STORAGE_S3_BUCKET": bucket,
            "STORAGE_S3_ACCESS_KEY": ACCESS, "STORAGE_S3_SECRET_KEY": SECRET, "STORAGE_S3_PREFIX": "portal"}


@pytest.fixture
def s3(app, s3_endpoint, monkeypatch):
    """The session app (host A) switched to the S3 backend on a new, empty bucket; yields the settings."""
    import boto3

    bucket = f"portal-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=ACCESS,
                 aws_secret_access_key=SECRET).create_bucket(Bucket=bucket)
    settings = s3_settings(s3_endpoint, bucket)
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("portal_storage", None)
    yield settings
    app.extensions.pop("portal_storage", None)


@pytest.fixture
def host_b(app, s3, tmp_path):
    """A second app instance: same database and bucket, its own instance directory and none of host A's
    directories, as on another machine."""
    from tests.conftest import PortalTestClient

    config = {k: v for k, v in app.config.items() if k.isupper()}
    for setting, _default in storage.AREAS.values():
        config[setting] = ""
    config.update(s3)
    other = create_app(config)
    other.instance_path = str(tmp_path / "host-b-instance")
    other.test_client_class = PortalTestClient
    Path(other.instance_path).mkdir()
    yield other
    with other.app_context():
        from portal.extensions import db

        db.engine.dispose()


@pytest.fixture(params=["filesystem", "s3"])
def backend(request, app, tmp_path, monkeypatch):
    """Each test run once per backend: the area's directory under tmp_path, or a fresh bucket."""
    if request.param == "s3":
        request.getfixturevalue("s3")
    else:
        for setting, _default in storage.AREAS.values():
            monkeypatch.setitem(app.config, setting, str(tmp_path / setting.lower()))
        monkeypatch.setitem(app.config, "STORAGE", "filesystem")
    return request.param
