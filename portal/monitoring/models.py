"""Self-monitoring storage: devices, raw values, roll-ups, received packets and exceedance incidents.

Raw values are written with SQLAlchemy Core in batches (services.ingest_values); the ORM classes below describe
the tables and serve the pages. Values are unique per (outlet, pollutant, period, measured_at) so data sent twice
never count twice; roll-ups hold count/sum/min/max of *valid* values so means are exact and cheap.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.extensions import db
from portal.monitoring import partitions

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
    DERIVED = "derived"  # an hourly mean the portal derived from minute/real-time data (derived.py)


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
    """An automatic monitoring device (数采仪) identified by its HJ 212 MN and authenticated by its password.

    password_hash holds a keyed verifier of the device secret (devicekeys.py: HMAC-SHA256 with the server's device
    key, checked per packet in constant time); devices registered before it hold an argon2 hash, replaced by a
    verifier on their first correct packet. sm4_key is the HJ 212-2025 SM4 key, Fernet-encrypted (devicekeys.py)."""

    __tablename__ = "monitoring_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    mn: Mapped[str] = mapped_column(sa.String(24), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    protocol: Mapped[str] = mapped_column(sa.String(4), default="2017", server_default="2017")  # 2017 / 2025
    sm4_key: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # any frame naming this MN
    last_data_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last accepted data upload
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # CN 9015 (2025) or any upload

    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")


class ReceivedPacket(db.Model):
    """One HJ 212 packet received from a known device; (mn, qn, pno) unique so a re-sent packet is a duplicate
    while each part of a split upload (PNUM/PNO, pno 0 for an unsplit packet) is its own record (DOMAIN §5.10).
    issues lists the items not stored (unknown field, repeated code, out-of-range value ...); raw keeps the CP
    text of a packet with issues, of CN 2013 raw records and of commands kept unread."""

    __tablename__ = "monitoring_packets"
    __table_args__ = (sa.UniqueConstraint("mn", "qn", "pno"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mn: Mapped[str] = mapped_column(sa.String(24))
    qn: Mapped[str | None] = mapped_column(sa.String(20))
    cn: Mapped[str] = mapped_column(sa.String(4))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_devices.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    value_count: Mapped[int] = mapped_column(default=0)
    unknown_codes: Mapped[str] = mapped_column(sa.String(200), default="")
    pno: Mapped[int] = mapped_column(default=0, server_default="0")
    pnum: Mapped[int | None] = mapped_column()
    version: Mapped[str] = mapped_column(sa.String(5), default="2017", server_default="2017")
    result: Mapped[str] = mapped_column(sa.String(16), default="accepted", server_default="accepted")
    backfill: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    issues: Mapped[list | None] = mapped_column(sa.JSON)
    raw: Mapped[str | None] = mapped_column(sa.Text)


class RejectedPacket(db.Model):
    """A refused HJ 212 frame (bad CRC, unauthorised, bad time, decryption failure ...), kept for the regulator
    (DOMAIN §5.10 rule 2, R12). device_id is set when the MN names a registered device; the network is only ever
    told `unauthorised`, the regulator sees `unknown_device` or `wrong_password`."""

    __tablename__ = "monitoring_rejections"
    __table_args__ = (sa.Index("ix_monitoring_rejections_device_time", "device_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(8), default="http")  # http / tcp
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    mn: Mapped[str | None] = mapped_column(sa.String(24))
    qn: Mapped[str | None] = mapped_column(sa.String(20))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("monitoring_devices.id"))
    detail: Mapped[str] = mapped_column(sa.String(300), default="")


class UnknownSender(db.Model):
    """Frames refused from an MN that names no registered device, aggregated per MN x address x reason (never one
    row per frame) and capped in number (portal/monitoring/unknown_senders.py): who tried to send, from where, how
    often. The overflow row (mn and address empty) counts what arrived once the table was full."""

    __tablename__ = "monitoring_unknown_senders"
    __table_args__ = (sa.UniqueConstraint("mn", "address", "reason"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mn: Mapped[str] = mapped_column(sa.String(24))
    address: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(8), default="tcp")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    count: Mapped[int] = mapped_column(sa.BigInteger(), default=1)
    detail: Mapped[str] = mapped_column(sa.String(300), default="")


class MonitoringValue(db.Model):
    """One measured value as received or entered (raw data, kept ≥ 5 years per 排污许可管理条例 art. 19).
    On PostgreSQL the table is partitioned by China-local month of measured_at, PK (id, measured_at) (partitions.py)."""

    __tablename__ = "monitoring_values"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "pollutant_code", "period", "measured_at"),
                      sa.Index("ix_monitoring_values_enterprise_time", "enterprise_id", "measured_at"),
                      {"postgresql_partition_by": "RANGE (measured_at)"})

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


partitions.declare(MonitoringValue.__table__)


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
    # One incident per exceedance episode (DOMAIN §2.6.3): period_start is its first exceeding period, these its
    # last one and how many exceeding values, means or samples (of any basis) it holds; `value` is the peak.
    last_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    occurrences: Mapped[int] = mapped_column(default=1)
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
    enterprise = relationship("Enterprise")


class MonitoringFinding(db.Model):
    """A problem found by the hourly job, e.g. no valid hourly value from an automatic device for N hours.
    `ref` is stable per gap (device, pollutant, last valid hour), so re-running the job adds nothing."""

    __tablename__ = "monitoring_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # gap / manual_missing
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # end of a missed manual period
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")


# ------------------------------------------------------------------------------------------------ monitoring plan

class PlanStatus(enum.StrEnum):
    DRAFT = "draft"  # the enterprise edits it
    SUBMITTED = "submitted"  # waiting for a regulator of the jurisdiction
    RETURNED = "returned"  # sent back with a note; the enterprise edits it again
    CONFIRMED = "confirmed"  # in force, published
    SUPERSEDED = "superseded"  # an earlier confirmed version


class PlanMode(enum.StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class Frequency(enum.StrEnum):
    CONTINUOUS = "continuous"  # automatic monitoring
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class MonitoringPlan(TimestampMixin, db.Model):
    """One version of an enterprise's self-monitoring plan (自行监测方案, DOMAIN §5.2). At most one open version
    (draft / submitted / returned) and one confirmed version exist at a time; confirming supersedes the previous."""

    __tablename__ = "monitoring_plans"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus, 12), default=PlanStatus.DRAFT, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    effective_from: Mapped[date | None] = mapped_column()  # China date of confirmation
    effective_to: Mapped[date | None] = mapped_column()  # the next version's effective_from
    review_note: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise = relationship("Enterprise")
    items: Mapped[list["MonitoringPlanItem"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan",
        order_by="[MonitoringPlanItem.outlet_id, MonitoringPlanItem.pollutant_code]")


class MonitoringPlanItem(db.Model):
    """Per outlet and pollutant: how (automatic / manual), how often, the limit and the method."""

    __tablename__ = "monitoring_plan_items"
    __table_args__ = (sa.UniqueConstraint("plan_id", "outlet_id", "pollutant_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_plans.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.ForeignKey("pollutants.code"))
    mode: Mapped[PlanMode] = mapped_column(str_enum(PlanMode, 8))
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency, 12))
    limit_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    limit_min: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    limit_max: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    unit: Mapped[str] = mapped_column(sa.String(16), default="")
    averaging: Mapped[str] = mapped_column(sa.String(16))  # hourly / daily / instant (enterprises Averaging)
    reference_o2: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    standard_code: Mapped[str] = mapped_column(sa.String(64), default="")
    method: Mapped[str] = mapped_column(sa.String(64), default="")

    plan = relationship("MonitoringPlan", back_populates="items")
    outlet = relationship("Outlet")
    pollutant = relationship("Pollutant", lazy="joined")


# ------------------------------------------------------------------------------------------------ lab reports

class LabReport(db.Model):
    """A laboratory report (PDF) attached to a manual submission; stored under instance/, content-addressed."""

    __tablename__ = "monitoring_lab_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_manual_submissions.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    stored_path: Mapped[str] = mapped_column(sa.String(200))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission = relationship("ManualSubmission")


# ------------------------------------------------------------------------------------------------ background imports

class ImportStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting to be checked
    CHECKING = "checking"
    CHECKED = "checked"  # no errors; waiting for the user's confirmation
    REJECTED = "rejected"  # row errors; nothing saved
    COMMIT_QUEUED = "commit_queued"
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"  # the file could not be read, or the commit failed; nothing saved


class ImportJob(db.Model):
    """A CSV/XLSX upload processed outside the web request; its state lives here so any worker can report it."""

    __tablename__ = "monitoring_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    token: Mapped[str] = mapped_column(sa.String(40), unique=True)  # the stored file's name
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, 16), default=ImportStatus.QUEUED, index=True)
    rows_total: Mapped[int] = mapped_column(default=0)  # known after the check
    rows_done: Mapped[int] = mapped_column(default=0)  # rows checked / written so far
    bytes_done: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # CSV read position during the check
    error_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)  # [[line, column, message], ...] (first 200)
    preview: Mapped[list] = mapped_column(sa.JSON, default=list)
    groups: Mapped[list] = mapped_column(sa.JSON, default=list)  # [[completed_on, lab, method, count], ...]
    result: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # What publishing will create (monitoring.impact.Impact): values over limits, late finding, incidents.
    impact: Mapped[dict | None] = mapped_column(sa.JSON, default=dict)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
