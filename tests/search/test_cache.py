"""The search API response cache: served again only while no watched table has changed, in any process."""
import pytest
import sqlalchemy as sa

from portal.credit.models import CreditSchemeVersion, CreditStanding
from portal.credit.services import seed_schemes
from portal.db import utcnow
from portal.search import cache
from portal.search.models import DataChange
from tests.factories import make_enterprise


def names(client, url="/api/v1/enterprises?q=化工"):
    response = client.get(url)
    assert response.status_code == 200
    return [d["name"] for d in response.get_json()["data"]]


@pytest.fixture
def counted():
    before = dict(cache.stats)
    yield lambda: {k: cache.stats[k] - before[k] for k in before}


def test_repeat_is_a_hit_and_an_orm_write_invalidates(client, db, counted):
    make_enterprise("华能化工有限公司")
    db.session.commit()
    assert names(client) == ["华能化工有限公司"]
    assert names(client) == ["华能化工有限公司"]
    assert counted() == {"hits": 1, "misses": 1}
    make_enterprise("精细化工有限公司")
    db.session.commit()
    assert sorted(names(client)) == ["华能化工有限公司", "精细化工有限公司"]
    assert counted()["misses"] == 2


def test_a_write_by_another_process_is_seen(client, db):
    """Another worker's commit is only visible through the version row: emulate it with a Core write."""
    ent = make_enterprise("华能化工有限公司")
    db.session.commit()
    assert names(client) == ["华能化工有限公司"]
    with db.engine.begin() as conn:
        conn.execute(sa.update(ent.__table__).where(ent.__table__.c.id == ent.id).values(name="华能化工集团"))
        cache.bump(conn)
    db.session.expire_all()  # the test shares the request's session; another process would not
    assert names(client) == ["华能化工集团"]


def test_uncommitted_and_rolled_back_writes_leave_the_version_alone(client, db):
    make_enterprise("华能化工有限公司")
    db.session.commit()
    before = cache.version()
    make_enterprise("回滚化工有限公司")
    db.session.flush()
    db.session.rollback()
    assert cache.version() == before


def test_orm_bulk_update_of_a_watched_table_bumps(client, db):
    seed_schemes()
    ent = make_enterprise("华能化工有限公司")
    version = db.session.scalars(sa.select(CreditSchemeVersion)).first()
    db.session.flush()
    db.session.add(CreditStanding(enterprise_id=ent.id, scheme_version_id=version.id, score=90, grade="blue",
                                  as_of=utcnow().date(), computed_at=utcnow()))
    db.session.commit()
    assert client.get("/api/v1/enterprises?q=化工").get_json()["data"][0]["grade"] == "blue"
    db.session.execute(sa.update(CreditStanding).where(CreditStanding.enterprise_id == ent.id).values(grade="red"))
    db.session.commit()
    assert client.get("/api/v1/enterprises?q=化工").get_json()["data"][0]["grade"] == "red"


def test_unwatched_writes_keep_the_cache(client, db, counted):
    from tests.factories import make_user
    make_enterprise("华能化工有限公司")
    db.session.commit()
    names(client)
    before = cache.version()
    make_user()
    db.session.commit()
    assert cache.version() == before
    names(client)
    assert counted() == {"hits": 1, "misses": 1}


def test_errors_are_never_cached_and_parameters_are_part_of_the_key(client, db, counted):
    make_enterprise("华能化工有限公司")
    db.session.commit()
    for _ in range(2):
        assert client.get("/api/v1/enterprises?grade=purple").status_code == 400
    assert names(client, "/api/v1/enterprises?q=华能") == ["华能化工有限公司"]
    assert names(client, "/api/v1/enterprises?q=精细") == []
    assert counted()["hits"] == 0


def test_prune_keeps_the_newest_version(client, db):
    for name in ("甲化工有限公司", "乙化工有限公司"):
        make_enterprise(name)
        db.session.commit()
    newest = cache.version()
    assert cache.prune()["deleted"] >= 1
    assert cache.version() == newest
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DataChange)) == 1


def test_cache_off(app, client, db, counted):
    make_enterprise("华能化工有限公司")
    db.session.commit()
    app.config["SEARCH_CACHE_SIZE"] = 0
    try:
        names(client)
        names(client)
    finally:
        app.config["SEARCH_CACHE_SIZE"] = 2048
    assert counted() == {"hits": 0, "misses": 0}


# ---------------------------------------------------------------- shared in Redis (CACHE_REDIS_URL)

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def redis_cache(app):
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    app.config["CACHE_REDIS_URL"] = REDIS_URL
    yield client
    app.config["CACHE_REDIS_URL"] = ""
    client.flushdb()


def test_with_redis_every_process_serves_the_body_built_once(client, db, counted, redis_cache):
    make_enterprise("华能化工有限公司")
    db.session.commit()
    assert names(client) == ["华能化工有限公司"]
    keys = list(redis_cache.scan_iter(match="portal:apicache:*"))
    assert len(keys) == 1
    with cache._lock:
        assert not cache._entries, "with Redis configured nothing is kept in this process"
    # What another host stored under the same version is what this process serves.
    tag, _, body = redis_cache.get(keys[0]).partition(b"\n")
    redis_cache.set(keys[0], tag + b"\n" + body.replace("华能化工有限公司".encode("unicode_escape"),
                                                        b"FROM-REDIS").replace("华能化工有限公司".encode(), b"FROM-REDIS"))
    assert names(client) == ["FROM-REDIS"]
    assert counted() == {"hits": 1, "misses": 1}
    # A committed write changes the version: the Redis entry is stale and rebuilt.
    make_enterprise("精细化工有限公司")
    db.session.commit()
    assert sorted(names(client)) == ["华能化工有限公司", "精细化工有限公司"]
    assert counted()["misses"] == 2


def test_an_unreachable_redis_costs_a_miss_not_an_error(app, client, db):
    app.config["CACHE_REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there
    try:
        make_enterprise("华能化工有限公司")
        db.session.commit()
        assert names(client) == ["华能化工有限公司"]
        assert names(client) == ["华能化工有限公司"]
    finally:
        app.config["CACHE_REDIS_URL"] = ""
