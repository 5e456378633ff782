"""Server-side sessions (OWASP ASVS V3): every login is a row in user_sessions, and the signed cookie only carries
a random session id with its login and last-activity times.

The user loader (services.load_user) accepts a cookie only while its row is open and both timeouts hold:
- idle: SESSION_IDLE_MINUTES_PRIVILEGED (regulators, leads, administrators) or SESSION_IDLE_MINUTES (others) [M];
- absolute: SESSION_ABSOLUTE_HOURS after the login, however active the session was.
The last-activity time lives in the signed cookie, so a stale copy of a cookie cannot be revived, and a session
costs one indexed read per request and no write.
Services flush; the calling view or CLI commits.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request, session

from portal.auth.models import Role, User, UserSession
from portal.db import utcnow
from portal.extensions import db

SID_KEY, LOGIN_AT_KEY, SEEN_KEY = "_sid", "_login_at", "_seen"
SEEN_RESOLUTION = 30  # seconds: the cookie's activity time is refreshed at most this often
PRIVILEGED = (Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN)


def configure(app: Flask) -> None:
    """PORTAL_HTTPS=true: Secure cookies with the __Host- prefix (the browser then refuses the cookie over plain HTTP,
    from a sub-domain or with another path)."""
    if app.config.get("HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_DOMAIN"] = None
        app.config["SESSION_COOKIE_PATH"] = "/"
        name = app.config.get("SESSION_COOKIE_NAME") or "portal_session"
        if not name.startswith("__Host-"):
            app.config["SESSION_COOKIE_NAME"] = "__Host-" + name


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def create(user: User, factor: str | None = None, address: str | None = None) -> str:
    """Open a session row and return its secret id (flushes)."""
    sid = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, sid_hash=_hash(sid), factor=factor, address=(address or "")[:45]
                               or None, created_at=utcnow()))
    db.session.flush()
    return sid


def cookie_fields(sid: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    return {SID_KEY: sid, LOGIN_AT_KEY: _stamp(now), SEEN_KEY: _stamp(now)}


def start(user: User, factor: str | None = None) -> None:
    """Log in on this request: a fresh cookie session (no fixation) with a new server-side row."""
    from flask_login import login_user

    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    sid = create(user, factor, request.remote_addr)
    session.update(cookie_fields(sid))
    login_user(user)


def idle_limit(user: User) -> timedelta:
    config = current_app.config
    minutes = config["SESSION_IDLE_MINUTES_PRIVILEGED"] if user.role in PRIVILEGED else config["SESSION_IDLE_MINUTES"]
    return timedelta(minutes=int(minutes))


def current_row(user: User) -> UserSession | None:
    """The open session row of this request's cookie if it belongs to `user` and is within both timeouts."""
    sid = session.get(SID_KEY)
    login_at, seen = session.get(LOGIN_AT_KEY), session.get(SEEN_KEY)
    if not isinstance(sid, str) or not isinstance(login_at, int) or not isinstance(seen, int):
        return None
    now = _stamp(utcnow())
    if now - seen > idle_limit(user).total_seconds():
        return None
    if now - login_at > int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600:
        return None
    row = db.session.scalar(sa.select(UserSession).where(UserSession.sid_hash == _hash(sid)))
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN_KEY] = now
    return row


def check(user: User | None) -> User | None:
    """For the user loader: the user if this cookie's session is still valid, else None (and the cookie is cleared)."""
    if user is None or not user.is_active_account:
        return None
    row = current_row(user)
    if row is None:
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        return None
    request.portal_session = row  # per request (tests share one app context, and so g, between requests)
    return user


def current() -> UserSession | None:
    """This request's open session row (set by the user loader), or None."""
    if not has_request_context():
        return None
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    return getattr(request, "portal_session", None)


def end_current(reason: str = "logout") -> None:
    row = current()
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), reason
        db.session.flush()


def end_all(user: User, reason: str, keep: UserSession | None = None) -> int:
    """End every open session of an account (except `keep`); returns how many were ended (flushes)."""
    stmt = (sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = db.session.execute(stmt)
    return result.rowcount or 0


def open_sessions(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))) or 0
