"""Transmission-anomaly reports (监测条例 Art. 23): the enterprise files and records the repair, the regulators of
the jurisdiction see every report with its timeliness and close it after review. Services flush; views commit."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.rules import in_jurisdiction
from portal.core.clock import china_tz
from portal.db import utcnow
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.extensions import db
from portal.integrity import anomaly_rules as ar
from portal.integrity.anomaly_rules import AnomalyCause, AnomalyState
from portal.integrity.models import TransmissionAnomalyReport as Report
from portal.monitoring.models import Device
from portal.workdays import services as workdays

MIN_TEXT = 5
MAX_TEXT = 4000


def report_hours() -> int:
    return int(current_app.config.get("ANOMALY_REPORT_HOURS", ar.REPORT_HOURS))


def repair_days() -> int:
    return int(current_app.config.get("ANOMALY_REPAIR_WORKING_DAYS", ar.REPAIR_WORKING_DAYS))


def _audit(report: Report) -> dict:
    return snapshot(report, exclude=("created_at", "updated_at"))


def _text(value: Any, field: str, errors: dict, required: bool = True) -> str:
    text = (value or "").strip()
    if required and len(text) < MIN_TEXT:
        errors[field] = _("Write at least %(n)d characters.", n=MIN_TEXT)
    elif len(text) > MAX_TEXT:
        errors[field] = _("At most %(n)d characters are allowed; this has %(m)d.", n=MAX_TEXT, m=len(text))
    return text


def _aware(value: Any) -> datetime | None:
    """A form's local (China) datetime as an aware datetime."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=china_tz())


# ------------------------------------------------------------------------------------------------ who sees what

def enterprise_devices(enterprise_id: int) -> list[Device]:
    return list(db.session.scalars(sa.select(Device).where(Device.enterprise_id == enterprise_id,
                                                           Device.is_active.is_(True)).order_by(Device.mn)))


def for_enterprise(enterprise_id: int) -> list[Report]:
    return list(db.session.scalars(sa.select(Report).where(Report.enterprise_id == enterprise_id)
                                   .order_by(Report.noticed_at.desc(), Report.id.desc()).limit(500)))


def for_regulator(user, state: AnomalyState | None = None) -> list[Report]:
    if not user.jurisdiction_code:
        return []
    stmt = sa.select(Report).where(Report.region_code.startswith(user.jurisdiction_code, autoescape=True))
    if state is not None:
        stmt = stmt.where(Report.state == state)
    return list(db.session.scalars(stmt.order_by(Report.noticed_at.desc(), Report.id.desc()).limit(500)))


def get_for_enterprise(user, report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None or user.enterprise_id is None or report.enterprise_id != user.enterprise_id:
        raise NotFound(_("No such anomaly report for your enterprise."))
    return report


def get_for_regulator(user, report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if (report is None or user.role is None or not user.role.is_regulator
            or not in_jurisdiction(user.jurisdiction_code, report.region_code)):
        raise NotFound(_("No such anomaly report in your jurisdiction."))
    return report


def timeliness(report: Report, today=None) -> dict:
    """For the pages: whether the report and the repair met their deadlines (or are overdue)."""
    today = today or datetime.now(china_tz()).date()
    repaired_on = report.repaired_at.astimezone(china_tz()).date() if report.repaired_at else None
    return {"report_late": ar.is_report_late(report.reported_at, report.report_due_at),
            "repair_late": ar.is_repair_late(repaired_on, report.repair_due_on, today),
            "repair_due_provisional": workdays.is_provisional(report.repair_due_on)}


# ------------------------------------------------------------------------------------------------ workflow

def file_report(actor, enterprise_id: int, *, device_id: Any, noticed_at: Any, cause: Any, description: Any,
                manual_substitute: Any) -> Report:
    """The enterprise reports an anomaly; the filing time is the server's, the deadlines follow from noticed_at."""
    errors: dict[str, str] = {}
    device = db.session.get(Device, device_id) if isinstance(device_id, int) else None
    if device is None or device.enterprise_id != enterprise_id:
        errors["device_id"] = _("Choose one of your enterprise's monitoring devices.")
    now = utcnow()
    noticed = _aware(noticed_at)
    if noticed is None:
        errors["noticed_at"] = _("Enter when the anomaly was noticed, e.g. 2026-11-03 08:30.")
    elif noticed > now + timedelta(minutes=5):
        errors["noticed_at"] = _("The time the anomaly was noticed cannot be in the future.")
    elif noticed < now - timedelta(days=366):
        errors["noticed_at"] = _("An anomaly noticed more than a year ago cannot be reported here; contact the "
                                 "bureau.")
    try:
        cause_value = AnomalyCause(cause)
    except ValueError:
        errors["cause"] = _("Choose the cause of the anomaly.")
        cause_value = None
    description = _text(description, "description", errors)
    substitute = _text(manual_substitute, "manual_substitute", errors)
    if errors:
        raise ValidationFailed(errors)
    noticed_day = noticed.astimezone(china_tz()).date()
    report = Report(enterprise_id=enterprise_id, region_code=device.enterprise.region_code, device_id=device.id,
                    noticed_at=noticed, reported_at=now, report_due_at=ar.report_due(noticed, report_hours()),
                    repair_due_on=ar.repair_due(noticed_day, workdays.is_workday, repair_days()),
                    cause=cause_value, description=description, manual_substitute=substitute,
                    state=AnomalyState.REPORTED, reported_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    record(actor, "integrity.anomaly.report", report, after=_audit(report))
    return report


def record_repair(report: Report, actor, *, repaired_at: Any, note: Any) -> Report:
    if not ar.can_transition(report.state, AnomalyState.REPAIRED):
        raise InvalidTransition(_("The repair of this report is already recorded; reload the page."))
    errors: dict[str, str] = {}
    repaired = _aware(repaired_at)
    if repaired is None:
        errors["repaired_at"] = _("Enter when the equipment was repaired, e.g. 2026-11-04 16:00.")
    elif repaired > utcnow() + timedelta(minutes=5):
        errors["repaired_at"] = _("The repair time cannot be in the future.")
    elif repaired < report.noticed_at:
        errors["repaired_at"] = _("The repair cannot be before the anomaly was noticed (%(at)s).",
                                  at=report.noticed_at.astimezone(china_tz()).strftime("%Y-%m-%d %H:%M"))
    note = _text(note, "note", errors)
    if errors:
        raise ValidationFailed(errors)
    before = _audit(report)
    report.repaired_at, report.repair_note, report.repaired_by_id = repaired, note, actor.id
    report.state = AnomalyState.REPAIRED
    db.session.flush()
    record(actor, "integrity.anomaly.repair", report, before=before, after=_audit(report))
    return report


def close(report: Report, actor, *, note: Any) -> Report:
    if not in_jurisdiction(actor.jurisdiction_code, report.region_code):
        raise NotFound(_("No such anomaly report in your jurisdiction."))
    if not ar.can_transition(report.state, AnomalyState.CLOSED):
        raise InvalidTransition(_("Only a report whose repair is recorded can be closed; reload the page."))
    errors: dict[str, str] = {}
    note = _text(note, "note", errors)
    if errors:
        raise ValidationFailed(errors)
    before = _audit(report)
    report.state, report.review_note = AnomalyState.CLOSED, note
    report.closed_by_id, report.closed_at = actor.id, utcnow()
    db.session.flush()
    record(actor, "integrity.anomaly.close", report, before=before, after=_audit(report))
    return report
