"""Job `auth-housekeeping`: purge what the account machinery no longer needs after AUTH_RETENTION_DAYS [M] (90):
ended or expired sessions, spent or expired password-reset and registration links, and login throttles that were
neither updated nor locked in that time. One audit record per run says how many rows of each kind went.
Flushes only; the job runner commits."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.audit.services import record
from portal.auth.models import LoginThrottle, PasswordResetToken, RegistrationToken, UserSession
from portal.db import utcnow
from portal.extensions import db


def _delete(stmt) -> int:
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0


def purge(now: datetime | None = None) -> str:
    now = now or utcnow()
    days = int(current_app.config["AUTH_RETENTION_DAYS"])
    cutoff = now - timedelta(days=days)
    # A session never ended by hand is dead SESSION_ABSOLUTE_HOURS after its login.
    dead_before = cutoff - timedelta(hours=int(current_app.config["SESSION_ABSOLUTE_HOURS"]))
    counts = {
        "user_sessions": _delete(sa.delete(UserSession).where(sa.or_(
            UserSession.ended_at < cutoff, sa.and_(UserSession.ended_at.is_(None), UserSession.created_at < dead_before)))),
        "password_reset_tokens": _delete(sa.delete(PasswordResetToken).where(sa.or_(
            PasswordResetToken.used_at < cutoff, PasswordResetToken.expires_at < cutoff))),
        "registration_tokens": _delete(sa.delete(RegistrationToken).where(sa.or_(
            RegistrationToken.used_at < cutoff, RegistrationToken.expires_at < cutoff))),
        "login_throttles": _delete(sa.delete(LoginThrottle).where(
            LoginThrottle.updated_at < cutoff,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < cutoff))),
    }
    record(None, "auth.housekeeping", object_type="auth_housekeeping", object_id=now.date().isoformat(),
           after={"retention_days": days, "deleted": counts})
    db.session.flush()
    return "deleted " + ", ".join(f"{n} {name}" for name, n in counts.items())
