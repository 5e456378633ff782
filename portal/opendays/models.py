"""Open days and their registrations."""
from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class OpenDayStatus(enum.StrEnum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class OpenDay(TimestampMixin, db.Model):
    """One open day of an enterprise's environmental facilities. Stays on the public page after the day."""

    __tablename__ = "open_days"
    __table_args__ = (sa.Index("ix_open_days_enterprise_day", "enterprise_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    day: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time] = mapped_column()
    end_time: Mapped[time] = mapped_column()
    place: Mapped[str] = mapped_column(sa.String(300))
    facility: Mapped[str] = mapped_column(sa.String(200))
    capacity: Mapped[int] = mapped_column()  # visitors, counting each registration's party
    how_to_register: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[OpenDayStatus] = mapped_column(str_enum(OpenDayStatus, 16), default=OpenDayStatus.PUBLISHED)
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enterprise = relationship("Enterprise")
    registrations = relationship("OpenDayRegistration", back_populates="open_day",
                                 order_by="OpenDayRegistration.id")


class OpenDayRegistration(db.Model):
    """A member of the public's registration. Name and phone are encrypted at rest (complaints.crypto, the
    reporter key); phone_mac (keyed hash) stops one phone registering twice for the same day; submission_key
    makes a form sent twice one registration."""

    __tablename__ = "open_day_registrations"
    __table_args__ = (sa.UniqueConstraint("open_day_id", "phone_mac"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    open_day_id: Mapped[int] = mapped_column(sa.ForeignKey("open_days.id"), index=True)
    identity: Mapped[str] = mapped_column(sa.Text)  # Fernet token of {"name", "phone"}
    phone_mac: Mapped[str] = mapped_column(sa.String(64))
    party_size: Mapped[int] = mapped_column(default=1)
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()

    open_day = relationship("OpenDay", back_populates="registrations")
