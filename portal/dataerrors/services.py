"""Data-error reports: intake from the public page, the regulators' queue and their decisions.

Every function loads, applies a rule, mutates and flushes; views commit. Every state change is audited."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.complaints.crypto import decrypt_identity, encrypt_identity
from portal.core.clock import china_today, china_tz
from portal.dataerrors import rules
from portal.dataerrors.models import DataErrorEvent, DataErrorReport, Section, Status
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.extensions import db
from portal.workdays.services import is_workday

PUBLIC_ACTOR = "public"


def _messages() -> dict[str, str]:
    return {
        "description_short": _("Say what is wrong in at least %(n)d characters.", n=rules.MIN_DESCRIPTION),
        "description_long": _("Keep the description under %(n)d characters.", n=rules.MAX_DESCRIPTION),
        "contact_invalid": _("Give a phone number (digits only) or an e-mail address, or leave it empty."),
        "name_long": _("Give a name of at most 64 characters."),
    }


def _audit_view(report: DataErrorReport) -> dict:
    """What the audit trail keeps: no contact token, no tracking code."""
    return snapshot(report, exclude=("created_at", "updated_at", "contact_token", "tracking_code"))


def existing_submission(key: str | None) -> DataErrorReport | None:
    if not key:
        return None
    return db.session.scalar(sa.select(DataErrorReport).where(DataErrorReport.submission_key == key))


def submit_report(ent: Enterprise, section: Section, description: str, *, contact: str = "",
                  contact_name: str = "", submission_key: str | None = None) -> DataErrorReport:
    """Record a report for the regulators of the enterprise's jurisdiction; due in 15 working days."""
    problems = rules.check_report(description, contact, contact_name)
    if problems:
        messages = _messages()
        raise ValidationFailed({name: messages[code] for name, code in problems.items()})
    identity = rules.contact_fields(contact)
    if identity and contact_name.strip():
        identity["name"] = contact_name.strip()
    received = utcnow()
    report = DataErrorReport(
        tracking_code=rules.new_tracking_code(), submission_key=submission_key, enterprise_id=ent.id,
        region_code=ent.region_code, section=section, description=description.strip(),
        contact_token=encrypt_identity(identity), status=Status.RECEIVED, received_at=received,
        due_on=rules.due_on(received.astimezone(china_tz()).date(), is_workday))
    db.session.add(report)
    db.session.flush()
    db.session.add(DataErrorEvent(report_id=report.id, at=received, status=Status.RECEIVED))
    record(PUBLIC_ACTOR, "dataerror.submit", report, after=_audit_view(report))
    return report


def find_by_code(raw: str) -> DataErrorReport:
    code = rules.normalise_code(raw)
    report = None
    if len(code) == rules.CODE_LENGTH:
        report = db.session.scalar(sa.select(DataErrorReport).where(DataErrorReport.tracking_code == code))
    if report is None:
        raise NotFound(_("No data-error report has this tracking code; check the 12 characters."), field="code")
    return report


def queue(user, status: Status | None = None, overdue_only: bool = False,
          today: date | None = None) -> list[DataErrorReport]:
    """The user's jurisdiction's reports, the oldest due first; open ones unless a status is asked for."""
    if not user.jurisdiction_code:
        return []
    stmt = sa.select(DataErrorReport).where(
        DataErrorReport.region_code.startswith(user.jurisdiction_code, autoescape=True))
    stmt = stmt.where(DataErrorReport.status == status) if status else stmt.where(
        DataErrorReport.status.in_(rules.OPEN_STATUSES))
    if overdue_only:
        stmt = stmt.where(DataErrorReport.due_on < (today or china_today()),
                          DataErrorReport.status.in_(rules.OPEN_STATUSES))
    return list(db.session.scalars(stmt.order_by(DataErrorReport.due_on, DataErrorReport.id).limit(500)))


def get_for_handler(user, report_id: int) -> DataErrorReport:
    report = db.session.get(DataErrorReport, report_id)
    if report is None or not rules.can_handle(user.role, user.jurisdiction_code, report.region_code):
        raise NotFound(_("No such report in your jurisdiction."))
    return report


def contact_of(user, report: DataErrorReport) -> dict:
    """The decrypted contact, for the regulators who handle the report only."""
    if not rules.can_handle(user.role, user.jurisdiction_code, report.region_code):
        return {}
    return decrypt_identity(report.contact_token)


def change_status(report: DataErrorReport, new: Status, actor, note: str = "") -> DataErrorReport:
    """acknowledge, correct (note says what was corrected) or reject (note says why); audited."""
    if not rules.can_handle(actor.role, actor.jurisdiction_code, report.region_code):
        raise NotFound(_("No such report in your jurisdiction."))
    if not rules.can_transition(report.status, new):
        raise InvalidTransition(_("This report is already closed or in that state; reload the page."))
    note = (note or "").strip()
    if new in rules.NOTE_REQUIRED and len(note) < 5:
        message = (_("Say what was corrected, in at least 5 characters.") if new is Status.CORRECTED
                   else _("Give the reason for rejecting, in at least 5 characters."))
        raise ValidationFailed({"note": message})
    before = _audit_view(report)
    now = utcnow()
    report.status, report.handler_id = new, actor.id
    if new is Status.ACKNOWLEDGED:
        report.acknowledged_at = now
    else:
        report.resolved_at, report.resolution_note = now, note
    db.session.add(DataErrorEvent(report_id=report.id, at=now, status=new, actor_id=actor.id, note=note))
    db.session.flush()
    record(actor, f"dataerror.{new.value}", report, before=before, after=_audit_view(report))
    return report
