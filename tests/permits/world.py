"""Permit objects for the route-authorisation world fixture: one execution-report obligation of the enterprise."""
from __future__ import annotations

from datetime import date

from portal.enterprises.models import Permit
from portal.permits.models import ExecutionReport, ReportFrequency, ReportStatus


def permit_objects(db, ent) -> dict:
    permit = db.session.query(Permit).filter_by(enterprise_id=ent.id).first()
    report = ExecutionReport(permit_id=permit.id, enterprise_id=ent.id, frequency=ReportFrequency.YEAR,
                             period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), due_on=date(2027, 1, 15),
                             status=ReportStatus.PENDING)
    db.session.add(report)
    db.session.flush()
    return {"execution_report_id": report.id}
