"""Self-monitoring storage: devices, raw values, roll-ups, received packets and exceedance incidents.

Raw values are written with SQLAlchemy Core in batches (services.ingest_values); the ORM classes below describe
the tables and serve the pages. Values are unique per (outlet, pollutant, period, measured_at) so data sent twice
never count twice; roll-ups hold count/sum/min/max of *valid* values so means are exact and cheap.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.extensions import db

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Period(enum.StrEnum):
    REALTIME = "realtime"  # CN 2011
    MINUTE = "minute"  # CN 2051
    HOUR = "hour"  # CN 2061
    DAY = "day"  # CN 2031
    MANUAL = "manual"  # a manual (lab) result


class Source(enum.StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class Resolution(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


class IncidentState(enum.StrEnum):
    OPEN = "open"
    EXPLAINED = "explained"
    CLOSED = "closed"


class Basis(enum.StrEnum):
    """What was compared with the limit (DOMAIN §5.8)."""

    HOURLY_MEAN = "hourly_mean"
    DAILY_MEAN = "daily_mean"
    RANGE = "range"  # pH and other range limits: every value, never averaged
    INSTANT = "instant"
    MANUAL = "manual"  # a manual sample result


class Device(TimestampMixin, db.Model):
    """An automatic monitoring device (数采仪) identified by its HJ 212 MN and authenticated by its password."""

    __tablename__ = "monitoring_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    mn: Mapped[str] = mapped_column(sa.String(24), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")


class ReceivedPacket(db.Model):
    """One HJ 212 packet received from a known device; (mn, qn) unique so a re-sent packet is a duplicate."""

    __tablename__ = "monitoring_packets"
    __table_args__ = (sa.UniqueConstraint("mn", "qn"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mn: Mapped[str] = mapped_column(sa.String(24))
    qn: Mapped[str | None] = mapped_column(sa.String(20))
    cn: Mapped[str] = mapped_column(sa.String(4))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_devices.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    value_count: Mapped[int] = mapped_column(default=0)
    unknown_codes: Mapped[str] = mapped_column(sa.String(200), default="")


class MonitoringValue(db.Model):
    """One measured value as received or entered (raw data, kept ≥ 5 years per 排污许可管理条例 art. 19)."""

    __tablename__ = "monitoring_values"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "pollutant_code", "period", "measured_at"),
                      sa.Index("ix_monitoring_values_enterprise_time", "enterprise_id", "measured_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16))  # unknown codes are kept, not dropped
    period: Mapped[Period] = mapped_column(str_enum(Period, 10))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(sa.Float)
    value_min: Mapped[float | None] = mapped_column(sa.Float)
    value_max: Mapped[float | None] = mapped_column(sa.Float)
    value_converted: Mapped[float | None] = mapped_column(sa.Float)  # at reference O2 (折算)
    flag: Mapped[str] = mapped_column(sa.String(2), default="N")
    source: Mapped[Source] = mapped_column(str_enum(Source, 8))
    packet_id: Mapped[int | None] = mapped_column(BigId)
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("monitoring_manual_submissions.id"))


class MonitoringRollup(db.Model):
    """Hour/day/month aggregates of hourly and manual values, kept up to date on every ingest batch.
    period_start is the UTC instant of the China-local period start."""

    __tablename__ = "monitoring_rollups"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "pollutant_code", "resolution", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16))
    resolution: Mapped[Resolution] = mapped_column(str_enum(Resolution, 8))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    n_all: Mapped[int] = mapped_column(default=0)
    n_valid: Mapped[int] = mapped_column(default=0)
    sum_valid: Mapped[float] = mapped_column(sa.Float, default=0.0)
    min_valid: Mapped[float | None] = mapped_column(sa.Float)
    max_valid: Mapped[float | None] = mapped_column(sa.Float)
    n_conv: Mapped[int] = mapped_column(default=0)
    sum_conv: Mapped[float] = mapped_column(sa.Float, default=0.0)

    @property
    def mean(self) -> float | None:
        return self.sum_valid / self.n_valid if self.n_valid else None

    @property
    def mean_converted(self) -> float | None:
        return self.sum_conv / self.n_conv if self.n_conv else None


class ExceedanceIncident(TimestampMixin, db.Model):
    """An exceedance the enterprise must explain (cause, measures, report date; 排污许可管理条例 art. 21)."""

    __tablename__ = "exceedance_incidents"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "pollutant_code", "basis", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16))
    basis: Mapped[Basis] = mapped_column(str_enum(Basis, 16))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float] = mapped_column(sa.Float)
    limit_value: Mapped[float | None] = mapped_column(sa.Float)
    limit_min: Mapped[float | None] = mapped_column(sa.Float)
    limit_max: Mapped[float | None] = mapped_column(sa.Float)
    multiple: Mapped[float | None] = mapped_column(sa.Float)
    state: Mapped[IncidentState] = mapped_column(str_enum(IncidentState, 12), default=IncidentState.OPEN, index=True)
    cause: Mapped[str] = mapped_column(sa.Text, default="")
    measures: Mapped[str] = mapped_column(sa.Text, default="")
    reported_on: Mapped[date | None] = mapped_column()
    explained_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")


class ManualSubmission(TimestampMixin, db.Model):
    """Manual results completed on one day, published together; due 5 working days after completion
    (环办监测〔2023〕5号, DOMAIN §5.3)."""

    __tablename__ = "monitoring_manual_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    completed_on: Mapped[date] = mapped_column()
    due_on: Mapped[date] = mapped_column()
    published_on: Mapped[date] = mapped_column()
    is_late: Mapped[bool] = mapped_column(default=False)
    lab_name: Mapped[str] = mapped_column(sa.String(100), default="")
    method: Mapped[str] = mapped_column(sa.String(64), default="")
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    row_count: Mapped[int] = mapped_column(default=0)

    submitted_by = relationship("User")


class MonitoringFinding(db.Model):
    """A problem found by the hourly job, e.g. no valid hourly value from an automatic device for N hours.
    `ref` is stable per gap (device, pollutant, last valid hour), so re-running the job adds nothing."""

    __tablename__ = "monitoring_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # gap
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")
