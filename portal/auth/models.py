from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum, utcnow
from portal.extensions import db


class Role(enum.StrEnum):
    ENTERPRISE_STAFF = "enterprise_staff"
    ENTERPRISE_SIGNATORY = "enterprise_signatory"
    REGULATOR = "regulator"
    REGULATOR_LEAD = "regulator_lead"
    ADMIN = "admin"

    @property
    def is_enterprise(self) -> bool:
        return self in (Role.ENTERPRISE_STAFF, Role.ENTERPRISE_SIGNATORY)

    @property
    def is_regulator(self) -> bool:
        return self in (Role.REGULATOR, Role.REGULATOR_LEAD)


class BindingStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    # Regulators: a GB/T 2260 region-code prefix ("3208" = 淮安市, "320826" = 涟水县, "32" = 江苏省).
    jurisdiction_code: Mapped[str | None] = mapped_column(sa.String(6))
    # Enterprise users: set only once a regulator approved the binding.
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()

    enterprise = relationship("Enterprise", foreign_keys=[enterprise_id])

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def can(self, permission: str) -> bool:
        """For templates only (hiding buttons); routes check with @require and object predicates."""
        from portal.auth.permissions import ROLE_PERMISSIONS

        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class EnterpriseBinding(TimestampMixin, db.Model):
    """A user's request to act for an enterprise; a regulator of the enterprise's jurisdiction decides."""

    __tablename__ = "enterprise_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    requested_role: Mapped[Role] = mapped_column(str_enum(Role))
    status: Mapped[BindingStatus] = mapped_column(str_enum(BindingStatus), default=BindingStatus.PENDING)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")

    user = relationship("User", foreign_keys=[user_id])
    enterprise = relationship("Enterprise")
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class UserSession(db.Model):
    """One login (a browser session). The cookie carries a random id whose SHA-256 is stored here; the user loader
    accepts a cookie only while its row is open, so logout, a password change or reset, a factor reset and a
    deactivation end sessions at once, whoever holds a copy of the cookie."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    sid_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    factor: Mapped[str | None] = mapped_column(sa.String(16))  # second factor used at login: totp, recovery_code
    address: Mapped[str | None] = mapped_column(sa.String(45))
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(sa.String(32))


class PasswordResetToken(db.Model):
    """A single-use password-reset link: only the SHA-256 of the random token is kept."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # email, admin, cli
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    user = relationship("User", foreign_keys=[user_id])


class RegistrationToken(db.Model):
    """A single-use link that finishes a self-registration, mailed to the address given; only its SHA-256 is kept.
    The account is created only when the link is used, so asking reveals nothing about existing accounts."""

    __tablename__ = "registration_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class TotpFactor(TimestampMixin, db.Model):
    """An account's TOTP second factor (RFC 6238). The shared secret is sealed with the reporter key; last_step
    refuses a code that was already used (replay)."""

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    secret_sealed: Mapped[str] = mapped_column(sa.Text)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class RecoveryCode(db.Model):
    """A one-time recovery code for a lost authenticator, stored as its SHA-256."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column()


class LoginThrottle(db.Model):
    """Failed logins counted per account name AND client address (NIST 800-63B §5.2.2): an outsider's guesses lock
    the account only for the outsider's address, never for its owner elsewhere. Names that match no account are
    counted the same way, so a lock says nothing about whether an account exists."""

    __tablename__ = "login_throttles"
    __table_args__ = (sa.UniqueConstraint("account_key", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(45))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
