"""Public reads on a real PostgreSQL streaming replica (pg_basebackup -R), read-your-own-writes by WAL position.

Runs in the PostgreSQL pass only (the throw-away primary/replica pair is made with PostgreSQL's own tools; the
SQLite pass would only repeat it)."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal import create_app
from portal.config import TestConfig
from portal.core import replica
from portal.extensions import db
from portal.search import ddl
from tests.cluster import pgpair
from tests.conftest import login_as
from tests.factories import make_enterprise, make_user

pytestmark = pytest.mark.skipif(not os.environ.get("PORTAL_TEST_DATABASE_URL") or pgpair.pg_bin() is None,
                                reason="runs in the PostgreSQL pass, with PostgreSQL's server binaries")


@pytest.fixture(scope="module")
def pair():
    p = pgpair.start()
    yield p
    p.stop()


def _app(pair, replica_url: str):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=pair.url("primary"), DATABASE_REPLICA_URL=replica_url,
                  SEARCH_CACHE_SIZE=0, SERVER_NAME=None)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            ddl.create(conn)
    return app


@pytest.fixture(scope="module")
def rapp(pair):
    app = _app(pair, pair.url("replica"))

    @app.post("/test-only/rename/<uscc>")  # a write made by a request, so the response carries the WAL cookie
    def _rename(uscc):
        from portal.enterprises.models import Enterprise
        ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == uscc))
        ent.name = "改名后的企业有限公司"
        db.session.commit()
        return "ok"

    return app


class Statements:
    """SQL the replica engine ran, without the readiness probe."""

    def __init__(self, engine):
        self.sql: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args):
        if "pg_is_in_recovery" not in statement:
            self.sql.append(statement)

    def take(self) -> list[str]:
        out, self.sql = self.sql, []
        return out


def test_public_reads_on_the_replica_and_your_own_writes_on_the_primary(pair, rapp):
    with rapp.app_context():
        ent = make_enterprise(name="读副本测试企业有限公司")
        uscc = ent.uscc
        db.session.commit()
        seen = Statements(replica.replica_engine())
    pair.wait_replayed()
    writer, stranger = rapp.test_client(), rapp.test_client()

    body = stranger.get(f"/api/v1/enterprises/{uscc}").get_json()
    assert body["data"]["name"] == "读副本测试企业有限公司"
    assert any("enterprises" in s for s in seen.take()), "a public read must run on the replica"

    pair.psql("replica", "SELECT pg_wal_replay_pause()")
    try:
        response = writer.post(f"/test-only/rename/{uscc}")
        assert response.status_code == 200
        cookie = writer.get_cookie(replica.COOKIE)
        assert cookie is not None and "/" in cookie.value
        seen.take()
        # The writer reads its own write: the replica has not replayed it, so the primary answers.
        assert writer.get(f"/api/v1/enterprises/{uscc}").get_json()["data"]["name"] == "改名后的企业有限公司"
        assert not seen.take()
        # Someone else still reads the replica, which is behind.
        assert stranger.get(f"/api/v1/enterprises/{uscc}").get_json()["data"]["name"] == "读副本测试企业有限公司"
        assert seen.take()
    finally:
        pair.psql("replica", "SELECT pg_wal_replay_resume()")
    pair.wait_replayed()
    # Caught up: the writer is back on the replica and the cookie is dropped.
    response = writer.get(f"/api/v1/enterprises/{uscc}")
    assert response.get_json()["data"]["name"] == "改名后的企业有限公司"
    assert seen.take()
    assert writer.get_cookie(replica.COOKIE) is None


def test_signed_in_people_and_writes_stay_on_the_primary(pair, rapp):
    with rapp.app_context():
        ent = make_enterprise()
        user = make_user()
        db.session.commit()
        uscc = ent.uscc
        seen = Statements(replica.replica_engine())
        client = rapp.test_client()
        login_as(client, user)
    pair.wait_replayed()
    seen.take()
    assert client.get(f"/api/v1/enterprises/{uscc}").status_code == 200
    assert not seen.take(), "a signed-in user's reads go to the primary"
    anonymous = rapp.test_client()
    assert anonymous.get("/healthz").status_code in (200, 503)
    assert anonymous.get("/complaints/new").status_code == 200
    assert not seen.take(), "only the public read endpoints use the replica"


def test_statements_that_write_are_never_sent_to_the_replica():
    assert replica._is_write(sa.text("INSERT INTO t VALUES (1)"))
    assert replica._is_write(sa.text("SELECT * FROM t FOR UPDATE"))
    assert replica._is_write(sa.text("SELECT nextval('s')"))
    assert replica._is_write(sa.insert(sa.table("t", sa.column("x"))).values(x=1))
    assert replica._is_write(sa.select(sa.table("t", sa.column("x"))).with_for_update())
    assert not replica._is_write(sa.text("SELECT id FROM t WHERE x = 1"))
    assert not replica._is_write(sa.select(sa.table("t", sa.column("x"))))


def test_an_unreachable_replica_leaves_reads_on_the_primary(pair):
    app = _app(pair, "postgresql+psycopg://postgres@127.0.0.1:9/postgres")  # nothing listens on port 9
    with app.app_context():
        ent = make_enterprise(name="副本不可达企业有限公司")
        db.session.commit()
        uscc = ent.uscc
    response = app.test_client().get(f"/api/v1/enterprises/{uscc}")
    assert response.status_code == 200
    assert response.get_json()["data"]["name"] == "副本不可达企业有限公司"
