"""Public reads on a PostgreSQL streaming replica, with read-your-own-writes.

PORTAL_DATABASE_REPLICA_URL names a hot standby of the primary (PostgreSQL's own streaming replication). When it is
set, an anonymous GET/HEAD to a public read endpoint (search, the enterprise page, the APIs, open data, feeds; the
list is REPLICA_READ_BLUEPRINTS / REPLICA_READ_ENDPOINTS) reads from the replica; everything else — signed-in users,
every write, every CLI command and job — stays on the primary.

Read-your-own-writes: a request that committed a write answers with a cookie holding the primary's WAL position
after the commit (`pg_current_wal_insert_lsn()`, which covers the commit record). A later public read carrying
that cookie goes to the replica only once the replica has replayed that position (`pg_last_wal_replay_lsn()`);
until then it reads from the primary. The cookie is dropped when the replica has caught up. A client forging the cookie can only make its own reads go to the primary.

Within one request, a statement that writes (an ORM flush, a DML statement, SQL text that is not a plain SELECT)
goes to the primary and so does every later statement of that request. A replica that cannot be reached, or whose
replay lags more than REPLICA_MAX_LAG_SECONDS behind what it has received, is left alone for a few seconds (a
per-process health note, not state a request relies on: losing it only costs a probe).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from flask_sqlalchemy.session import Session

log = logging.getLogger(__name__)

COOKIE = "portal_lsn"
_ENGINE_KEY = "portal.replica_engine"
_READ_SQL = re.compile(r"^\s*(select|with|show|explain)\b", re.IGNORECASE)
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|merge|for\s+update|for\s+share|nextval|setval|lock)\b",
                          re.IGNORECASE)
_LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")

DEFAULT_BLUEPRINTS = ("search", "api", "enterprises_api", "credit_api", "disclosures_api", "monitoring_api",
                      "opendata", "feeds", "envcode", "audit_public", "open311", "enterprise_page", "maps")
DEFAULT_ENDPOINTS = ("enterprises.public",)

_health_lock = threading.Lock()
_down_until: dict[str, float] = {}


def _is_write(clause: Any) -> bool:
    if clause is None:
        return False
    if getattr(clause, "is_dml", False) or getattr(clause, "is_ddl", False):
        return True
    if isinstance(clause, sa.sql.elements.TextClause):
        text = clause.text
        return not _READ_SQL.match(text) or bool(_WRITE_WORDS.search(text))
    if isinstance(clause, sa.sql.Select) and clause._for_update_arg is not None:
        return True
    return False


class RoutingSession(Session):
    """db.session's class: statements of a replica-eligible request go to the replica until the first write."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.info.get("replica") and not self.info.get("wrote"):
            if self._flushing or _is_write(clause):
                self.info["wrote"] = True
            else:
                engine = replica_engine()
                if engine is not None:
                    return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def replica_engine() -> sa.Engine | None:
    return current_app.extensions.get(_ENGINE_KEY)


def _mark_down(url: str, seconds: float) -> None:
    with _health_lock:
        _down_until[url] = time.monotonic() + seconds


def _is_down(url: str) -> bool:
    with _health_lock:
        return _down_until.get(url, 0.0) > time.monotonic()


def _eligible() -> bool:
    if request.method not in ("GET", "HEAD") or request.endpoint is None:
        return False
    blueprint = request.endpoint.rpartition(".")[0]
    config = current_app.config
    if (blueprint not in config.get("REPLICA_READ_BLUEPRINTS", DEFAULT_BLUEPRINTS)
            and request.endpoint not in config.get("REPLICA_READ_ENDPOINTS", DEFAULT_ENDPOINTS)):
        return False
    # Signed-in people act on what they just changed: always the primary. The session cookie alone tells (no query).
    from flask import session as cookie_session
    return "_user_id" not in cookie_session


def _replica_ready(engine: sa.Engine, wanted_lsn: str | None) -> tuple[bool, bool]:
    """(use the replica, it has replayed wanted_lsn). One small query on the replica."""
    url = engine.url.render_as_string(hide_password=True)
    if _is_down(url):
        return False, False
    max_lag = float(current_app.config.get("REPLICA_MAX_LAG_SECONDS", 30))
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT pg_is_in_recovery(), "
                "COALESCE(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), true) "
                "OR COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) <= :lag, "
                "CASE WHEN CAST(:lsn AS text) IS NULL THEN true "
                "ELSE pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn) END"),
                {"lag": max_lag, "lsn": wanted_lsn}).one()
    except sa.exc.SQLAlchemyError:
        log.warning("replica unreachable; public reads go to the primary for 10 s")
        _mark_down(url, 10.0)
        return False, False
    fresh, replayed = bool(row[1]), bool(row[2])
    if not fresh:
        log.warning("replica lags more than %s s; public reads go to the primary for 5 s", max_lag)
        _mark_down(url, 5.0)
        return False, False
    return True, replayed


def _before_request() -> None:
    from portal.extensions import db

    engine = replica_engine()
    if engine is None or not _eligible():
        return
    cookie = request.cookies.get(COOKIE)
    wanted = cookie if cookie and _LSN.match(cookie) else None
    usable, replayed = _replica_ready(engine, wanted)
    if cookie and (replayed or not wanted):
        g._replica_drop_cookie = True
    if usable and replayed:
        db.session.info["replica"] = True
        g._replica_used = True


def _after_request(response: Response) -> Response:
    from portal.extensions import db

    if g.pop("_replica_drop_cookie", False):
        response.delete_cookie(COOKIE)
    if g.pop("_replica_committed_write", False):
        try:
            with db.engine.connect() as conn:
                lsn = conn.execute(sa.text("SELECT pg_current_wal_insert_lsn()::text")).scalar()
        except sa.exc.SQLAlchemyError:
            lsn = None
        if lsn:
            response.set_cookie(COOKIE, lsn, max_age=int(current_app.config.get("REPLICA_COOKIE_SECONDS", 600)),
                                httponly=True, samesite="Lax", secure=request.is_secure)
    return response


def _teardown(_exc) -> None:
    from portal.extensions import db

    db.session.info.pop("replica", None)
    db.session.info.pop("wrote", None)


def _after_commit(session) -> None:
    if session.info.pop("_replica_pending_write", False):
        try:
            g._replica_committed_write = True
        except RuntimeError:  # no request: CLI, jobs
            pass


def _after_flush(session, _context) -> None:
    session.info["_replica_pending_write"] = True
    if session.info.get("replica"):
        session.info["wrote"] = True


def _after_rollback(session) -> None:
    session.info.pop("_replica_pending_write", None)


def init_app(app: Flask) -> None:
    """Create the replica engine when PORTAL_DATABASE_REPLICA_URL / DATABASE_REPLICA_URL is set (PostgreSQL only)."""
    url = app.config.get("DATABASE_REPLICA_URL") or ""
    if not url:
        return
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("postgresql"):
        raise RuntimeError("PORTAL_DATABASE_REPLICA_URL must name a PostgreSQL streaming replica")
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.extensions[_ENGINE_KEY] = sa.create_engine(url, **options)
    from sqlalchemy import event
    from portal.extensions import db

    with app.app_context():
        session_factory = db.session.session_factory
    for name, fn in (("after_flush", _after_flush), ("after_commit", _after_commit),
                     ("after_soft_rollback", lambda s, _t: _after_rollback(s))):
        event.listen(session_factory.class_, name, fn)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown)
