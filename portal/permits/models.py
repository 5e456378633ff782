"""Execution-report obligations (排污许可证执行报告), per-year annual deadlines, and shutdown periods (DOMAIN §5.11)."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class ReportFrequency(enum.StrEnum):
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"


class ReportStatus(enum.StrEnum):
    PENDING = "pending"  # not filed, deadline not passed
    ON_TIME = "on_time"
    LATE = "late"  # filed after the deadline
    MISSING = "missing"  # deadline passed, nothing filed (yet)
    SHUTDOWN = "shutdown"  # the whole period fell in a shutdown: the shutdown statement stands for the report


class ExecutionReport(TimestampMixin, db.Model):
    """One execution report a permit requires for one period, and its filing on the national permit platform.

    The report itself is filed on the national pollutant discharge permit platform (排污许可管理办法); the portal
    keeps the obligation, the platform's submission date and receipt number, and judges timeliness."""

    __tablename__ = "permit_execution_reports"
    __table_args__ = (sa.UniqueConstraint("permit_id", "frequency", "period_start"),
                      sa.Index("ix_permit_execution_reports_status_due", "status", "due_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(sa.ForeignKey("permits.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    frequency: Mapped[ReportFrequency] = mapped_column(str_enum(ReportFrequency, 8))
    period_start: Mapped[date] = mapped_column()
    period_end: Mapped[date] = mapped_column()  # inclusive
    # The nominal deadline (the configured default or the jurisdiction's date for the year); when it falls on a
    # non-working day the effective deadline is the next working day (民法典 art. 203), computed on every read.
    due_on: Mapped[date] = mapped_column()
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus, 16), default=ReportStatus.PENDING)
    submitted_on: Mapped[date | None] = mapped_column()  # day filed on the national platform
    receipt_no: Mapped[str] = mapped_column(sa.String(64), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filed_at: Mapped[datetime | None] = mapped_column()

    permit = relationship("Permit")
    enterprise = relationship("Enterprise")


class ReportDeadline(TimestampMixin, db.Model):
    """The annual execution report's deadline for one report year in a jurisdiction (MEE moves it by notice most
    years); the longest matching region prefix applies, else the configured default."""

    __tablename__ = "permit_report_deadlines"
    __table_args__ = (sa.UniqueConstraint("region_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(12))
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    due_on: Mapped[date] = mapped_column()
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    set_by = relationship("User")


class PermitShutdown(TimestampMixin, db.Model):
    """A shutdown (停产) of the permitted unit, with the unit's statement; open while ended_on is None."""

    __tablename__ = "permit_shutdowns"

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(sa.ForeignKey("permits.id"), index=True)
    started_on: Mapped[date] = mapped_column()
    ended_on: Mapped[date | None] = mapped_column()  # inclusive last day shut down
    statement: Mapped[str] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    permit = relationship("Permit")
