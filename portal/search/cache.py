"""A per-process cache of public search API responses, correct to the last committed write.

Public search traffic repeats itself (the same names, the same region browses), and a cached page costs what a
trivial endpoint costs. Correctness comes from a data version instead of a timer: every transaction that writes a
table the search reads appends one row to search_data_changes (ORM flushes and ORM bulk statements are caught by
the session events below; the few Core bulk writers call bump()). A request first reads the newest row (one
primary-key lookup) and serves a cached body only if it was built under that same version; so a write committed by
any process is visible to the next request everywhere. A TTL (SEARCH_CACHE_TTL) bounds the damage of a writer
that bypasses both paths. Only successful JSON bodies of anonymous GETs are cached, never errors or HTML pages.

Where it lives: in each process by default (bounded LRU, SEARCH_CACHE_SIZE entries); in Redis when CACHE_REDIS_URL
is set (PORTAL_CACHE_REDIS_URL), so every worker on every host shares one cache and a body built once is served
everywhere. A Redis entry holds the data version it was built under and expires after SEARCH_CACHE_TTL; a Redis that
does not answer costs a miss (the request is built from the database), never an error.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import threading
import time
from collections import OrderedDict
from typing import Callable

import sqlalchemy as sa
from flask import Response, current_app, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.search.models import DataChange

# Tables whose rows change what /api/v1/enterprises returns (identity, filters, sort keys, grade).
WATCHED = frozenset({"enterprises", "permits", "key_unit_years", "regions", "industries", "credit_standings",
                     "credit_list_entries", "exceedance_incidents", "disclosure_obligations", "evidence"})
_FLAG = "search_data_changed"

log = logging.getLogger(__name__)
_lock = threading.Lock()
_entries: OrderedDict[tuple, tuple[tuple, float, bytes]] = OrderedDict()
stats = {"hits": 0, "misses": 0}


def bump(connection: sa.Connection) -> None:
    """Record that search data changed, in the writer's transaction (so it is visible exactly when the data is)."""
    connection.execute(sa.insert(DataChange.__table__).values(at=utcnow()))


_VERSION_SQL = sa.text("SELECT id, at FROM search_data_changes ORDER BY id DESC LIMIT 1")


def version() -> tuple:
    """(id, at) of the newest change row: the timestamp tells apart an id reused after the table was emptied.
    Plain SQL on the session's connection: this runs on every cached request, so no ORM machinery."""
    from portal.extensions import db
    row = db.session.connection().execute(_VERSION_SQL).first()
    return (row[0], str(row[1])) if row else (0, None)


def prune() -> dict[str, int]:
    """Job: keep only the newest row (the version never goes backwards)."""
    from portal.extensions import db
    newest = db.session.scalar(sa.select(sa.func.max(DataChange.id)))
    deleted = 0
    if newest is not None:
        deleted = db.session.execute(sa.delete(DataChange).where(DataChange.id < newest)).rowcount or 0
    db.session.commit()
    return {"deleted": deleted}


def clear() -> None:
    with _lock:
        _entries.clear()
    client = _redis()
    if client is not None:
        try:
            keys = list(client.scan_iter(match=_REDIS_PREFIX + "*", count=1000))
            if keys:
                client.delete(*keys)
        except Exception:  # noqa: BLE001 — an unreachable cache is an empty cache
            log.warning("API cache: Redis did not answer while clearing")


_REDIS_PREFIX = "portal:apicache:"
_clients: dict[str, object] = {}


def _redis():
    """The Redis client for CACHE_REDIS_URL (one per URL and process; redis-py pools its connections)."""
    url = current_app.config.get("CACHE_REDIS_URL") or ""
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        _clients[url] = client
    return client


def _redis_key(key: tuple) -> str:
    return _REDIS_PREFIX + hashlib.sha256(repr(key).encode()).hexdigest()


def _redis_get(client, key: tuple, current: tuple) -> bytes | None:
    try:
        raw = client.get(_redis_key(key))
    except Exception:  # noqa: BLE001
        log.warning("API cache: Redis did not answer; building the response")
        return None
    if not raw:
        return None
    tag, _, body = raw.partition(b"\n")
    return body if tag == repr(current).encode() else None


def _redis_put(client, key: tuple, current: tuple, body: bytes, ttl: int) -> None:
    try:
        client.set(_redis_key(key), repr(current).encode() + b"\n" + body, ex=max(1, int(ttl)))
    except Exception:  # noqa: BLE001
        log.warning("API cache: Redis did not answer; response not cached")


def serve(build: Callable[[], Response]) -> Response:
    """The cached body for this request under the current data version, or build() (cached when it is a 200)."""
    size = current_app.config.get("SEARCH_CACHE_SIZE", 0)
    if not size or request.method != "GET":
        return build()
    # Success bodies hold no translated text (only errors do, and they are never cached): no locale in the key.
    key = (request.host_url, request.path, request.query_string)
    current, now = version(), time.monotonic()
    ttl = current_app.config.get("SEARCH_CACHE_TTL", 300)
    client = _redis()
    if client is not None:
        body = _redis_get(client, key, current)
        if body is not None:
            stats["hits"] += 1
            return Response(body, mimetype="application/json")
        response = build()
        stats["misses"] += 1
        if response.status_code == 200 and not response.is_streamed:
            _redis_put(client, key, current, response.get_data(), ttl)
        return response
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0] == current and now - hit[1] < ttl:
            _entries.move_to_end(key)
            stats["hits"] += 1
            return Response(hit[2], mimetype="application/json")
    response = build()
    stats["misses"] += 1
    if response.status_code == 200 and not response.is_streamed:
        body = response.get_data()
        with _lock:
            _entries[key] = (current, now, body)
            _entries.move_to_end(key)
            while len(_entries) > size:
                _entries.popitem(last=False)
    return response


# ---------------------------------------------------------------- session events (installed on import)


def _touches_watched(session: Session) -> bool:
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if getattr(type(obj), "__tablename__", None) in WATCHED:
            return True
    return False


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    if not session.info.get(_FLAG) and _touches_watched(session):
        bump(session.connection())
        session.info[_FLAG] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete) or state.session.info.get(_FLAG):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.local_table.name in WATCHED:
        bump(state.session.connection())
        state.session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session) -> None:
    session.info.pop(_FLAG, None)
