"""Integrity flags (DOMAIN §5.12), their timeline, the per-outlet scan watermark, and the data the rules need that
the monitoring registry does not hold yet: analyser range and detection limit per device and code, the O&M company
per device, supervisory (enforcement) results, lab CMA scopes and lab-report sampling details.

These tables reference devices, outlets and pollutants by id; monitoring's own tables are not changed."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from portal.extensions import db
from portal.integrity.anomaly_rules import AnomalyCause, AnomalyState
from portal.integrity.rules import FlagState


class IntegrityFlag(TimestampMixin, db.Model):
    """A clue for the regulators of the enterprise's jurisdiction, never a finding. `series` keeps the data window
    the rule saw ({"start", "values", "flags", "extra": {name: values}}) so the page shows what was judged even if
    data are corrected later; `params` keeps the thresholds used."""

    __tablename__ = "integrity_flags"
    __table_args__ = (sa.Index("ix_integrity_flags_region_state", "region_code", "state"),
                      sa.UniqueConstraint("rule_id", "dedupe_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(sa.String(4))
    dedupe_key: Mapped[str] = mapped_column(sa.String(160))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6))  # the enterprise's region when raised
    outlet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outlets.id"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("monitoring_devices.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16), default="")
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    measure: Mapped[float] = mapped_column(sa.Float)
    threshold: Mapped[float | None] = mapped_column(sa.Float)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    series: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[FlagState] = mapped_column(str_enum(FlagState, 12), default=FlagState.OPEN)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer_due_on: Mapped[date | None] = mapped_column()
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # dismissal reason or outcome note
    inspected_on: Mapped[date | None] = mapped_column()
    inspectors: Mapped[str] = mapped_column(sa.String(200), default="")
    inspection_note: Mapped[str] = mapped_column(sa.Text, default="")
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence.id"))

    enterprise = relationship("Enterprise", lazy="joined")
    outlet = relationship("Outlet")
    events: Mapped[list[IntegrityFlagEvent]] = relationship(
        back_populates="flag", order_by="(IntegrityFlagEvent.at, IntegrityFlagEvent.id)")


class IntegrityFlagEvent(db.Model):
    """One step of a flag's workflow."""

    __tablename__ = "integrity_flag_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(sa.ForeignKey("integrity_flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[FlagState] = mapped_column(str_enum(FlagState, 12))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    flag: Mapped[IntegrityFlag] = relationship(back_populates="events")
    actor = relationship("User")


class IntegrityWatermark(db.Model):
    """Per outlet: hourly data up to (excluding) `scanned_to` were scanned; the job scans only newer hours (with
    each rule's look-back), so a province is never rescanned in full."""

    __tablename__ = "integrity_watermarks"

    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"), primary_key=True)
    scanned_to: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeviceChannel(TimestampMixin, db.Model):
    """Analyser range and method detection limit of one device for one code (HJ 212 i13001 / i13009)."""

    __tablename__ = "integrity_device_channels"
    __table_args__ = (sa.UniqueConstraint("device_id", "pollutant_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_devices.id"), index=True)
    pollutant_code: Mapped[str] = mapped_column(sa.ForeignKey("pollutants.code"))
    range_low: Mapped[float] = mapped_column(sa.Float, default=0.0)
    range_high: Mapped[float] = mapped_column(sa.Float)
    detection_limit: Mapped[float | None] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(16), default="")

    device = relationship("Device")

    @property
    def span(self) -> float:
        return self.range_high - self.range_low


class DeviceMaintainer(TimestampMixin, db.Model):
    """The O&M (运维) company of a device and its contract period (O&M liability, 环发〔2015〕175号)."""

    __tablename__ = "integrity_device_maintainers"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_devices.id"), index=True)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    company_uscc: Mapped[str] = mapped_column(sa.String(18), default="", index=True)
    contract_from: Mapped[date] = mapped_column()
    contract_to: Mapped[date | None] = mapped_column()

    device = relationship("Device")


class SupervisoryResult(TimestampMixin, db.Model):
    """A supervisory (enforcement) monitoring result: its own source, prevailing when it differs from self-monitoring
    (排污许可管理条例 art. 29)."""

    __tablename__ = "integrity_supervisory_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"), index=True)
    pollutant_code: Mapped[str] = mapped_column(sa.ForeignKey("pollutants.code"))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float] = mapped_column(sa.Float)
    agency: Mapped[str] = mapped_column(sa.String(200))
    report_no: Mapped[str] = mapped_column(sa.String(64), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    outlet = relationship("Outlet")


class LabScope(TimestampMixin, db.Model):
    """One method within a laboratory's CMA accreditation scope."""

    __tablename__ = "integrity_lab_scopes"
    __table_args__ = (sa.UniqueConstraint("cma_no", "method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cma_no: Mapped[str] = mapped_column(sa.String(32), index=True)
    lab_name: Mapped[str] = mapped_column(sa.String(200))
    method: Mapped[str] = mapped_column(sa.String(64))
    valid_to: Mapped[date | None] = mapped_column()


class LabSample(TimestampMixin, db.Model):
    """Sampling details of one manual result on a lab report: samplers, sampling and analysis times, issue date."""

    __tablename__ = "integrity_lab_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.ForeignKey("pollutants.code"))
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("monitoring_manual_submissions.id"))
    lab_name: Mapped[str] = mapped_column(sa.String(200))
    lab_cma_no: Mapped[str] = mapped_column(sa.String(32), index=True)
    method: Mapped[str] = mapped_column(sa.String(64))
    samplers: Mapped[list] = mapped_column(sa.JSON, default=list)
    sampling_start: Mapped[datetime] = mapped_column(UTCDateTime())
    sampling_end: Mapped[datetime] = mapped_column(UTCDateTime())
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_no: Mapped[str] = mapped_column(sa.String(64), default="")
    report_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(sa.Float)
    value_text: Mapped[str] = mapped_column(sa.String(32), default="")  # as written on the report (R13)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    outlet = relationship("Outlet")


class TransmissionAnomalyReport(TimestampMixin, db.Model):
    """An enterprise's report of an automatic-monitoring transmission anomaly and its repair (监测条例 Art. 23);
    see portal/integrity/anomaly_rules.py for the deadlines and states. A timely report keeps R12 quiet."""

    __tablename__ = "integrity_anomaly_reports"
    __table_args__ = (sa.Index("ix_integrity_anomaly_reports_device_noticed", "device_id", "noticed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)  # the enterprise's region when reported
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_devices.id"))
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the server's time of filing, never typed
    report_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    repair_due_on: Mapped[date] = mapped_column()
    cause: Mapped[AnomalyCause] = mapped_column(str_enum(AnomalyCause, 16))
    description: Mapped[str] = mapped_column(sa.Text)
    manual_substitute: Mapped[str] = mapped_column(sa.Text)  # how the data are obtained meanwhile
    state: Mapped[AnomalyState] = mapped_column(str_enum(AnomalyState, 16), default=AnomalyState.REPORTED)
    repaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    repair_note: Mapped[str] = mapped_column(sa.Text, default="")
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    repaired_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enterprise = relationship("Enterprise")
    device = relationship("Device")
