"""Database unavailable (issue 8): PostgreSQL reached through a proxy that is cut and restored with real sockets.
While it is down every page answers a clear 503 (HTML for people, JSON for the API, Retry-After), never a 500;
once it is back the same process serves again without a restart (pool pre-ping replaces the dead connections)."""
from __future__ import annotations

import socket

import psycopg
import pytest

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db as _db
from portal.search import ddl
from tests.faults.tcpproxy import CuttableProxy

PG = ("127.0.0.1", 5432)
DB_NAME = "portal_faults"


def _pg_answers() -> bool:
    try:
        socket.create_connection(PG, timeout=1).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _pg_answers(), reason="PostgreSQL is not listening on 127.0.0.1:5432")


@pytest.fixture
def outage_app(tmp_path):
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    proxy = CuttableProxy(PG).start()
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{DB_NAME}",
                  INSTANCE_PATH=str(tmp_path), SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 3}})
    app = create_app(config)
    with app.app_context():
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        _db.create_all()
        with _db.engine.begin() as conn:
            ddl.create(conn)
    yield app, proxy
    proxy.cut()
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_outage_gives_503_and_recovers_without_a_restart(outage_app):
    app, proxy = outage_app
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/search?q=化工").status_code == 200

    proxy.cut()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "database unavailable"
    page = client.get("/search?q=化工&lang=zh")
    assert page.status_code == 503
    assert "数据库暂时无法连接，请一分钟后重试。" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] == "30"
    api = client.get("/api/v1/enterprises?q=化工")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "service_unavailable"
    assert client.get("/?lang=en").status_code == 503

    proxy.restore()
    assert client.get("/healthz").status_code == 200
    assert client.get("/search?q=化工").status_code == 200
    assert client.get("/api/v1/enterprises?q=化工").status_code == 200
