from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
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
