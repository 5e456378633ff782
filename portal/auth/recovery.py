"""Password reset (ASVS V2.5): a single-use link valid PASSWORD_RESET_MINUTES [M] (30), by e-mail on request, or
forced by an administrator, or printed by `flask users reset-password USERNAME` for a person without mail.

Only the SHA-256 of the random token is stored (a cheap hash is right for 256 random bits). Asking for a link gives
the same answer whether or not the account exists. Using a link sets the new password, spends every open link of
the account, ends all its sessions and clears its login throttle; all of it audited. Services flush; views commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth import sessions
from portal.auth.models import LoginThrottle, PasswordResetToken, User
from portal.db import utcnow
from portal.errors import ValidationFailed
from portal.extensions import db

EMAIL, ADMIN, CLI = "email", "admin", "cli"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _minutes() -> int:
    return int(current_app.config["PASSWORD_RESET_MINUTES"])


def issue(user: User, channel: str, requested_by: User | None = None, now: datetime | None = None) -> str:
    """A new reset token for the account (flushes); returns the token in clear, never stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_hash(token), channel=channel,
                                      requested_by_id=requested_by.id if requested_by else None, created_at=now,
                                      expires_at=now + timedelta(minutes=_minutes())))
    db.session.flush()
    return token


def link(token: str) -> str:
    """The absolute link (PUBLIC_BASE_URL); built by hand so the CLI, which has no request, can print it too."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/auth/reset/{token}"


def _find_account(identifier: str) -> User | None:
    from portal.auth.services import find_user

    identifier = (identifier or "").strip()
    user = find_user(identifier)
    if user is None and "@" in identifier:
        matches = list(db.session.scalars(sa.select(User).where(sa.func.lower(User.email) == identifier.lower())
                                          .limit(2)))
        user = matches[0] if len(matches) == 1 else None
    return user


def request_by_email(identifier: str) -> None:
    """The public 'forgot password' form: a link goes to the account's address, if there is such an active account
    with an address. The caller shows the same message in every case."""
    user = _find_account(identifier)
    if user is None or not user.is_active_account or not user.email:
        return
    token = issue(user, EMAIL)
    _mail(user, token)
    record(None, "user.password_reset_request", user, after={"channel": EMAIL})


def _mail(user: User, token: str) -> None:
    from portal.mail.services import queue_mail

    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Reset your portal password")
        body = _("Someone (probably you) asked to reset the password of the account %(name)s.\n\n"
                 "Open this link within %(minutes)d minutes to choose a new password; it works once:\n%(link)s\n\n"
                 "If you did not ask for this, ignore this message: your password stays as it is.",
                 name=user.username, minutes=_minutes(), link=link(token))
    queue_mail(user.email, subject, body, sealed=True)


def force(actor: User | str, user: User) -> str | None:
    """An administrator (or the CLI) forces a reset: the old password stops working, every session ends, and a
    link is mailed to the account's address if it has one (returns None), else returned to show once."""
    from portal.auth.services import hash_password

    by = actor if isinstance(actor, User) else None
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it: only the link gets in
    ended = sessions.end_all(user, "password_reset_forced")
    token = issue(user, ADMIN if by is not None else CLI, requested_by=by)
    record(actor, "user.password_reset_force", user,
           after={"channel": ADMIN if by is not None else CLI, "mailed": bool(user.email and by is not None),
                  "sessions_ended": ended})
    if by is not None and user.email:
        _mail(user, token)
        return None
    return token


def valid_token(token: str, now: datetime | None = None) -> PasswordResetToken | None:
    now = now or utcnow()
    if not token or len(token) > 128:
        return None
    row = db.session.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == _hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= now or not row.user.is_active_account:
        return None
    return row


def reset(token: str, new_password: str, now: datetime | None = None) -> User:
    """Spend the link: set the new password, spend the account's other links, end all its sessions."""
    from portal.auth.services import _require_good_password, hash_password

    now = now or utcnow()
    row = valid_token(token, now)
    if row is None:
        raise ValidationFailed({"token": _("This link is not valid any more: it was used, or more than %(minutes)d "
                                           "minutes passed. Ask for a new one.", minutes=_minutes())})
    user = row.user
    _require_good_password(new_password, user.username, field="new_password")
    spent = db.session.execute(sa.update(PasswordResetToken).where(
        PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:  # a simultaneous use of the same link won
        raise ValidationFailed({"token": _("This link was just used. Ask for a new one if that was not you.")})
    db.session.execute(sa.update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))
    user.password_hash = hash_password(new_password)
    user.failed_logins, user.locked_until = 0, None
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.account_key == user.username.lower()))
    ended = sessions.end_all(user, "password_reset")
    db.session.flush()
    record(user, "user.password_reset", user, after={"password_changed": True, "channel": row.channel,
                                                     "sessions_ended": ended})
    return user
