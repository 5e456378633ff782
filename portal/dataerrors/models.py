"""A member of the public's report that something on an enterprise page is wrong, and its timeline."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum, utcnow
from portal.extensions import db


class Section(enum.StrEnum):
    """Which part of the enterprise page the report is about."""

    IDENTITY = "identity"
    PERMITS = "permits"
    OUTLETS = "outlets"
    COMPLIANCE = "compliance"
    MONITORING = "monitoring"
    CREDIT = "credit"
    DISCLOSURES = "disclosures"
    COMPLAINTS = "complaints"
    OTHER = "other"


class Status(enum.StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    CORRECTED = "corrected"
    REJECTED = "rejected"


class DataErrorReport(TimestampMixin, db.Model):
    __tablename__ = "data_error_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 12 characters of a 32-letter alphabet (60 bits): the status page's address, given to the submitter only.
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # One per form render: a form sent twice returns the first report.
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    # The enterprise's region when reported: the queue of the regulators whose jurisdiction covers it.
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    section: Mapped[Section] = mapped_column(str_enum(Section, 16))
    description: Mapped[str] = mapped_column(sa.Text)
    # Fernet token of {"name", "phone", "email"} (portal/complaints/crypto.py); empty when no contact was given.
    contact_token: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[Status] = mapped_column(str_enum(Status, 16), default=Status.RECEIVED, index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date] = mapped_column(index=True)
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolution_note: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise = relationship("Enterprise", lazy="joined")
    events: Mapped[list[DataErrorEvent]] = relationship(back_populates="report",
                                                        order_by="(DataErrorEvent.at, DataErrorEvent.id)")

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_token)

    def __repr__(self) -> str:  # never the contact
        return f"<DataErrorReport {self.id} {self.status}>"


class DataErrorEvent(db.Model):
    """One step of the report's timeline, shown to the submitter on the status page (no handler names)."""

    __tablename__ = "data_error_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("data_error_reports.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[Status] = mapped_column(str_enum(Status, 16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    report: Mapped[DataErrorReport] = relationship(back_populates="events")
