"""Execution-report obligations: generated per class, judged at their (re-datable, working-day) deadline, reminded,
late → a finding that scores only after confirmation; shutdowns stop them; every change audited."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.credit import findings
from portal.credit.models import Evidence, EvidenceKind
from portal.enterprises.models import PermitClass, PermitStatus
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.mail.models import OutboxMessage
from portal.permits import services
from portal.permits.models import ExecutionReport, ReportStatus
from tests.factories import make_user
from tests.permits.helpers import registered_permit


def _reports(permit):
    from portal.extensions import db

    return [(r.frequency.value, r.period_start.isoformat(), r.status.value) for r in db.session.scalars(
        sa.select(ExecutionReport).where(ExecutionReport.permit_id == permit.id)
        .order_by(ExecutionReport.period_start, ExecutionReport.frequency))]


def _audits(action: str) -> int:
    from portal.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord).where(AuditRecord.action == action))


def test_obligations_follow_the_management_class_from_the_permits_registration_and_are_created_once(db):
    _e, key = registered_permit(db, PermitClass.KEY)
    _e, simplified = registered_permit(db, PermitClass.SIMPLIFIED)
    _e, registration = registered_permit(db, PermitClass.REGISTRATION)
    counts = services.run_deadlines(date(2026, 4, 10))
    # 2025 quarters fell due before the permit entered the portal; Q4 is folded into the annual report.
    assert _reports(key) == [
        ("year", "2025-01-01", "missing"), ("quarter", "2026-01-01", "pending"), ("year", "2026-01-01", "pending"),
        ("quarter", "2026-04-01", "pending")]
    assert _reports(simplified) == [("year", "2025-01-01", "missing"), ("year", "2026-01-01", "pending")]
    assert _reports(registration) == []
    assert counts["created"] == 6 and counts["missing"] == 2
    again = services.run_deadlines(date(2026, 4, 10))
    assert again["created"] == 0 and again["missing"] == 0
    assert _audits("permit_report.create") == 6


def test_a_missing_report_is_a_finding_that_counts_only_after_confirmation(db):
    ent, permit = registered_permit(db)
    services.run_deadlines(date(2026, 1, 16))
    ev = db.session.scalar(sa.select(Evidence).where(Evidence.enterprise_id == ent.id))
    assert ev.kind == EvidenceKind.PERMIT_REPORT_LATE and not ev.is_verified
    assert findings.status_of(ev) == findings.Status.DETECTED
    assert ev.kind in findings.FINDING_KINDS


def test_a_late_filing_is_a_finding_and_an_on_time_filing_is_not(db):
    ent, permit = registered_permit(db)
    services.run_deadlines(date(2026, 4, 2))
    q1 = db.session.scalar(sa.select(ExecutionReport).where(ExecutionReport.permit_id == permit.id,
                                                            ExecutionReport.frequency == "quarter"))
    annual_2026 = db.session.scalar(sa.select(ExecutionReport).where(
        ExecutionReport.permit_id == permit.id, ExecutionReport.frequency == "year",
        ExecutionReport.period_start == date(2026, 1, 1)))
    services.file_report(None, q1, {"submitted_on": "2026-04-15", "receipt_no": "QG-2026-001"}, date(2026, 4, 20))
    assert q1.status == ReportStatus.ON_TIME
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence).where(
        Evidence.source_ref == f"permit-report:{q1.id}")) == 0
    services.file_report(None, annual_2026, {"submitted_on": "2027-01-20", "receipt_no": "QG-2027-9"},
                         date(2027, 1, 20))
    assert annual_2026.status == ReportStatus.LATE
    ev = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == f"permit-report:{annual_2026.id}"))
    assert not ev.is_verified and "逾期" in ev.title
    with pytest.raises(InvalidTransition):  # filed once; a second filing changes nothing
        services.file_report(None, q1, {"submitted_on": "2026-04-16", "receipt_no": "X"}, date(2026, 4, 20))
    assert q1.receipt_no == "QG-2026-001"


def test_filing_names_the_bad_fields(db):
    _e, permit = registered_permit(db)
    services.run_deadlines(date(2026, 4, 2))
    report = db.session.scalar(sa.select(ExecutionReport).where(ExecutionReport.permit_id == permit.id,
                                                                ExecutionReport.frequency == "quarter"))
    with pytest.raises(ValidationFailed) as info:
        services.file_report(None, report, {"submitted_on": "2026-05-01", "receipt_no": " "}, date(2026, 4, 20))
    assert set(info.value.errors) == {"submitted_on", "receipt_no"}
    with pytest.raises(ValidationFailed) as info:
        services.file_report(None, report, {"submitted_on": "15/04/2026", "receipt_no": "x" * 65}, date(2026, 4, 20))
    assert set(info.value.errors) == {"submitted_on", "receipt_no"}
    assert report.status == ReportStatus.PENDING


def test_the_deadline_moves_to_the_next_working_day_and_is_provisional_without_holiday_data(db):
    _e, permit = registered_permit(db)
    services.run_deadlines(date(2026, 4, 2))
    annual = db.session.scalar(sa.select(ExecutionReport).where(
        ExecutionReport.permit_id == permit.id, ExecutionReport.period_start == date(2026, 1, 1),
        ExecutionReport.frequency == "year"))
    assert annual.due_on == date(2027, 1, 15) and services.provisional(annual)  # 2027 holidays not known yet
    q1 = db.session.scalar(sa.select(ExecutionReport).where(ExecutionReport.permit_id == permit.id,
                                                            ExecutionReport.frequency == "quarter"))
    assert services.effective_due(q1) == date(2026, 4, 15) and not services.provisional(q1)
    annual.due_on = date(2027, 1, 16)  # a Saturday: counted Monday to Friday it moves to Monday
    assert services.effective_due(annual) == date(2027, 1, 18)


def test_a_lead_re_dates_the_annual_report_of_a_year_for_pending_obligations_only(db):
    ent, permit = registered_permit(db, region_code="320826")
    other, far = registered_permit(db, region_code="210100")
    services.run_deadlines(date(2026, 4, 2))
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    with pytest.raises(NotAllowed):
        services.set_deadline(make_user(Role.REGULATOR, jurisdiction_code="3208"), 2026, "2027-02-26",
                              date(2026, 12, 1))
    with pytest.raises(ValidationFailed) as info:
        services.set_deadline(lead, 2026, "2027-07-01", date(2026, 12, 1))
    assert "due_on" in info.value.errors
    row, redated, kept = services.set_deadline(lead, 2026, "2027-02-26", date(2026, 12, 1))
    assert (row.region_code, redated, kept) == ("3208", 1, 0)
    annual = lambda p: db.session.scalar(sa.select(ExecutionReport).where(  # noqa: E731
        ExecutionReport.permit_id == p.id, ExecutionReport.frequency == "year",
        ExecutionReport.period_start == date(2026, 1, 1)))
    assert annual(permit).due_on == date(2027, 2, 26) and annual(far).due_on == date(2027, 1, 15)
    assert services.annual_due("320826", 2026) == date(2027, 2, 26)
    assert _audits("permit_report.redate") == 1 and _audits("permit_report_deadline.set") == 1
    # Obligations created after the re-dating take the jurisdiction's day too.
    _e, later = registered_permit(db, PermitClass.SIMPLIFIED, region_code="320826")
    services.run_deadlines(date(2026, 4, 3))
    assert annual(later).due_on == date(2027, 2, 26)


def test_reminders_are_queued_ahead_of_the_deadline_once(db):
    ent, permit = registered_permit(db)
    make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    services.run_deadlines(date(2026, 4, 2))
    counts = services.run_deadlines(date(2026, 4, 12))  # Q1 due Wednesday 15 April: 3 days ahead
    assert counts["reminders"] == 1
    assert services.run_deadlines(date(2026, 4, 12))["reminders"] == 1  # the job counts; the outbox dedupes
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("permit-report-%"))).all()
    assert len(mails) == 1 and "执行报告" in mails[0].subject


def test_a_shutdown_stops_the_obligations_of_periods_wholly_shut_down(db):
    ent, permit = registered_permit(db)
    regulator = make_user(Role.REGULATOR)
    services.run_deadlines(date(2026, 4, 2))  # Q2 2026 exists already
    q1 = db.session.scalar(sa.select(ExecutionReport).where(ExecutionReport.permit_id == permit.id,
                                                            ExecutionReport.period_start == date(2026, 1, 1),
                                                            ExecutionReport.frequency == "quarter"))
    services.file_report(None, q1, {"submitted_on": "2026-04-03", "receipt_no": "QG-1"}, date(2026, 4, 3))
    with pytest.raises(ValidationFailed) as info:
        services.set_status(regulator, permit, {"status": "shutdown", "since": "2026-04-01", "statement": ""},
                            date(2026, 4, 5))
    assert "statement" in info.value.errors
    services.set_status(regulator, permit, {"status": "shutdown", "since": "2026-04-01",
                                            "statement": "设备检修，预计停产6个月"}, date(2026, 4, 5))
    assert permit.status == PermitStatus.SHUTDOWN
    counts = services.run_deadlines(date(2026, 7, 16))  # Q2 due 15 July: covered by the shutdown statement
    assert counts["missing"] == 0 and counts["shutdown"] == 1
    assert ("quarter", "2026-04-01", "shutdown") in _reports(permit)
    assert ("quarter", "2026-07-01", "pending") not in _reports(permit)  # Q3 wholly shut down so far: not created
    services.set_status(regulator, permit, {"status": "in_force", "since": "2026-08-10"}, date(2026, 8, 11))
    services.run_deadlines(date(2026, 8, 11))
    assert ("quarter", "2026-07-01", "pending") in _reports(permit)  # production resumed within Q3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)
                             .where(Evidence.enterprise_id == ent.id, Evidence.occurred_on > date(2026, 3, 1))) == 0
    assert _audits("permit.status") == 2 and _audits("permit_shutdown.start") == 1
    assert _audits("permit_shutdown.end") == 1


def test_revocation_ends_the_duties_from_its_day_and_expiry_is_shown(db):
    _e, permit = registered_permit(db, valid_to=date(2026, 6, 30))
    services.set_status(make_user(), permit, {"status": "revoked", "since": "2026-03-15"}, date(2026, 4, 1))
    services.run_deadlines(date(2026, 8, 1))
    assert [r[:2] for r in _reports(permit)] == [("year", "2025-01-01"), ("quarter", "2026-01-01")]
    assert permit.state_on(date(2026, 8, 1)) == "revoked"
    _e, expired = registered_permit(db, valid_to=date(2026, 6, 30))
    assert expired.state_on(date(2026, 7, 1)) == "expired" and expired.state_on(date(2026, 6, 30)) == "in_force"
