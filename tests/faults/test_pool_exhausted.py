"""Every pooled database connection busy (a load peak): the request that waited pool_timeout gets a clear 503 with
Retry-After, as for an outage, never a 500; once a connection is free again it is served."""
from __future__ import annotations

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db as _db
from portal.search import ddl


def test_an_exhausted_connection_pool_gives_503_not_500(tmp_path):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'pool.sqlite3'}", INSTANCE_PATH=str(tmp_path),
                  SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2})
    app = create_app(config)
    with app.app_context():
        _db.create_all()
        with _db.engine.begin() as conn:
            ddl.create(conn)
        held = _db.engine.connect()  # the only connection of the pool
        try:
            client = app.test_client()
            api = client.get("/api/v1/enterprises?q=化工")
            assert api.status_code == 503 and api.headers["Retry-After"] == "30"
            assert api.get_json()["error"]["code"] == "service_unavailable"
            page = client.get("/search?q=化工&lang=zh")
            assert page.status_code == 503 and "请一分钟后重试" in page.get_data(as_text=True)
        finally:
            held.close()
        assert client.get("/api/v1/enterprises?q=化工").status_code == 200
        _db.engine.dispose()
