"""Silent devices (监测条例 Art. 23, DOMAIN §5.11 and integrity rule R12): a registered, active device from which
nothing was accepted (no data upload, no heartbeat) for more than HJ212_SILENCE_HOURS hours [M] (default 4, R12's
silent_hours) opens ONE finding per silence episode: a MonitoringFinding (kind `silence`) and unconfirmed
MONITORING_GAP credit evidence (finding=True: it scores only after two regulators confirm it, credit.findings).

The episode is keyed by the device and the instant its silence began (its last accepted upload or heartbeat, else
its registration), so re-running the hourly job adds nothing while the device stays silent, and a device that
speaks and falls silent again opens a new episode. The enterprise answers with an Art. 23 transmission-anomaly
report (portal/integrity): a timely report covering the silence (integrity.anomaly_rules.covers_silence) means no
finding is proposed; a report filed later for an open finding is shown beside it on the device page
(covering_report)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from portal.audit.services import record
from portal.core.clock import china_tz
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.extensions import db
from portal.integrity import anomaly_rules as ar
from portal.integrity.models import TransmissionAnomalyReport as Report
from portal.monitoring.models import Device, MonitoringFinding

SILENCE_HOURS = 4  # DOMAIN §5.11 / R12 [M]
KIND = "silence"


def silence_hours() -> float:
    return float(current_app.config.get("HJ212_SILENCE_HOURS", SILENCE_HOURS))


def report_hours() -> float:
    return float(current_app.config.get("ANOMALY_REPORT_HOURS", ar.REPORT_HOURS))


def silence_start(device: Device) -> datetime:
    """When the device last spoke (an accepted upload or heartbeat), else when it was registered."""
    spoken = [t for t in (device.last_data_at, device.last_heartbeat_at) if t is not None]
    return max(spoken) if spoken else device.created_at


def _ref(device: Device, start: datetime) -> str:
    return f"silence:{device.id}:{start.astimezone(china_tz()).strftime('%Y%m%d%H%M')}"


def _reports(device_id: int) -> list[Report]:
    return list(db.session.scalars(sa.select(Report).where(Report.device_id == device_id)
                                   .order_by(Report.reported_at, Report.id)))


def covering_report(device_id: int, start: datetime, silent_hours: float) -> Report | None:
    """The first Art. 23 report filed in time that explains a silence beginning at `start`."""
    for report in _reports(device_id):
        if ar.covers_silence(report.noticed_at, report.repaired_at, report.reported_at, start, silent_hours,
                             report_hours()):
            return report
    return None


def find_silences(now: datetime | None = None) -> int:
    """Open one finding per silence episode of an active device silent past the threshold and not covered by a
    timely Art. 23 report; returns how many were opened. Flushes; the job runner commits."""
    now = now or utcnow()
    threshold = silence_hours()
    opened = 0
    for device in db.session.scalars(sa.select(Device).where(Device.is_active.is_(True)).order_by(Device.id)):
        start = silence_start(device)
        silent = (now - start).total_seconds() / 3600
        if silent <= threshold:
            continue
        ref = _ref(device, start)
        if db.session.scalar(sa.select(MonitoringFinding.id).where(MonitoringFinding.ref == ref)) is not None:
            continue
        if covering_report(device.id, start, silent) is not None:
            continue
        finding = MonitoringFinding(ref=ref, kind=KIND, enterprise_id=device.enterprise_id,
                                    outlet_id=device.outlet_id, pollutant_code="", since=start, detected_at=now)
        db.session.add(finding)
        db.session.flush()
        record(None, "monitoring.silence.found", finding)
        hours = int(silent)
        add_evidence(enterprise_id=device.enterprise_id, kind=EvidenceKind.MONITORING_GAP,
                     source=EvidenceSource.MONITORING, source_ref=ref, verified=False, finding=True,
                     occurred_on=start.astimezone(china_tz()).date(),
                     message=("monitoring.silence", {"outlet": device.outlet.code, "mn": device.mn, "hours": hours}),
                     details={"reason": KIND, "device_mn": device.mn, "since": start.isoformat(), "hours": hours})
        opened += 1
    return opened


def device_silences(device: Device, limit: int = 20) -> list[tuple[MonitoringFinding, Report | None]]:
    """The device's silence findings, newest first, each with the Art. 23 report that covers it, if one does
    (filed after the finding was opened: the regulator sees it beside the finding)."""
    prefix = f"silence:{device.id}:"
    findings = list(db.session.scalars(sa.select(MonitoringFinding).where(
        MonitoringFinding.kind == KIND, MonitoringFinding.ref.startswith(prefix, autoescape=True))
        .order_by(MonitoringFinding.since.desc()).limit(limit)))
    if not findings:
        return []
    reports = _reports(device.id)
    out = []
    for f in findings:
        end = device.last_data_at if device.last_data_at and device.last_data_at > f.since else utcnow()
        hours = max((end - f.since).total_seconds() / 3600, silence_hours())
        match = next((r for r in reports if ar.covers_silence(r.noticed_at, r.repaired_at, r.reported_at, f.since,
                                                              hours, report_hours())), None)
        out.append((f, match))
    return out
