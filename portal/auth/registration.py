"""Self-registration that never reveals whether an account exists (issue 20, ASVS 2.5.x / OWASP enumeration).

Registration starts with an e-mail address only, and the answer is always "check your mail". The mail to an address
with no account carries a single-use link, valid REGISTRATION_LINK_MINUTES [M], that finishes the registration (the
username, name and password are chosen there); the mail to an address that already has an account says so and points
to the password reset instead. So a username that is taken is only ever shown to the holder of a valid link, that is
to someone who controls a mailbox. Only the SHA-256 of the random token is stored. Services flush; views commit.
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
from portal.auth.models import RegistrationToken, User
from portal.db import utcnow
from portal.errors import ValidationFailed
from portal.extensions import db


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def minutes() -> int:
    return int(current_app.config["REGISTRATION_LINK_MINUTES"])


def _base() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def link(token: str) -> str:
    return f"{_base()}/auth/register/{token}"


def _account_with(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.lower()).limit(1))


def start(email: str, locale: str | None = None, now: datetime | None = None) -> None:
    """The public first step (flushes). Exactly one mail is queued whatever the address, and the caller shows the
    same answer in every case."""
    from portal.mail.services import queue_mail

    now = now or utcnow()
    email = (email or "").strip()
    user = _account_with(email)
    with force_locale((user.locale if user is not None else None) or locale
                      or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if user is not None:
            subject = _("Registration on the portal")
            body = _("Someone (probably you) asked to register an account with this address, but the address "
                     "already has an account. No new account was created.\n\n"
                     "If you forgot your password, choose a new one here:\n%(link)s\n\n"
                     "If you did not ask for this, ignore this message.", link=f"{_base()}/auth/forgot")
        else:
            token = secrets.token_urlsafe(32)
            row = RegistrationToken(email=email, token_hash=_hash(token), created_at=now,
                                    expires_at=now + timedelta(minutes=minutes()))
            db.session.add(row)
            db.session.flush()
            subject = _("Registration on the portal")
            body = _("Someone (probably you) asked to register an enterprise account with this address.\n\n"
                     "Open this link within %(minutes)d minutes to choose your username and password; it works "
                     "once:\n%(link)s\n\n"
                     "If you did not ask for this, ignore this message: no account is created.",
                     minutes=minutes(), link=link(token))
    queue_mail(email, subject, body, sealed=True)
    if user is not None:
        record(None, "user.registration_request", user, after={"existing_account": True})
    else:
        record(None, "user.registration_request", object_type="registration_tokens", object_id=row.id,
               after={"existing_account": False})


def valid_token(token: str, now: datetime | None = None) -> RegistrationToken | None:
    now = now or utcnow()
    if not token or len(token) > 128:
        return None
    row = db.session.scalar(sa.select(RegistrationToken).where(RegistrationToken.token_hash == _hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def _invalid() -> ValidationFailed:
    return ValidationFailed({"token": _("This registration link is not valid any more: it was used, or more than "
                                        "%(minutes)d minutes passed. Start the registration again.",
                                        minutes=minutes())})


def finish(token: str, *, username: str, display_name: str, password: str, now: datetime | None = None) -> User:
    """Spend the link and create the account (flushes). A taken username is named here, to the link holder only."""
    from portal.auth.services import register_user

    now = now or utcnow()
    row = valid_token(token, now)
    if row is None:
        raise _invalid()
    if _account_with(row.email) is not None:  # an account took the address since the link was sent
        raise ValidationFailed({"token": _("This address already has an account. Log in, or reset its password.")})
    user = register_user(username=username, display_name=display_name, email=row.email, password=password)
    spent = db.session.execute(sa.update(RegistrationToken).where(
        RegistrationToken.id == row.id, RegistrationToken.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:  # a simultaneous use of the same link won
        raise _invalid()
    db.session.execute(sa.update(RegistrationToken).where(
        sa.func.lower(RegistrationToken.email) == row.email.lower(), RegistrationToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    return user
