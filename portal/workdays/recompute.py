"""Recompute, after a year's official schedule is imported, the stored deadlines that were counted in working days
with the Mon–Fri fallback.

Stored working-day deadlines: the temporary disclosure reports (5 working days after the legal document, Order 24
art. 17; 10 after the list, art. 20) and their obligations. Deadlines derived on every read (monitoring
publication in the compliance calendar, the province list report, permit reports) follow the new calendar at once
without a stored value to change. Only duties still open move: a deadline already met or missed stays as it was
judged (its findings, if any, are decided by people).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.audit.services import record, snapshot
from portal.extensions import db
from portal.workdays import services


def recompute_year(year: int, actor) -> list[dict]:
    """Every open temporary-report deadline that can reach into `year`, recomputed; returns what moved."""
    from portal.disclosures import rules as disclosure_rules
    from portal.disclosures.lists import list_published_on
    from portal.disclosures.models import Obligation, ObligationStatus, ReportStatus, TemporaryReport

    # The longest working-day period is 10 working days: a receipt from mid-November can end in January.
    first = date(year - 1, 11, 1)
    stmt = (sa.select(TemporaryReport, Obligation)
            .join(Obligation, Obligation.temporary_report_id == TemporaryReport.id, isouter=True)
            .where(TemporaryReport.legal_doc_received_on >= first,
                   TemporaryReport.legal_doc_received_on <= date(year, 12, 31),
                   TemporaryReport.status == ReportStatus.DRAFT)
            .order_by(TemporaryReport.id))
    moved = []
    is_workday = services.calendar().is_workday
    for report, ob in db.session.execute(stmt).all():
        if ob is not None and ob.status != ObligationStatus.PENDING:
            continue
        received = report.legal_doc_received_on
        due = disclosure_rules.temporary_due_date(received, report.trigger, is_workday)
        if due is not None:
            due = disclosure_rules.pre_list_due_date(received, list_published_on(report.enterprise_id, received.year),
                                                     due, is_workday)
        if due is None or due == report.due_on:
            continue
        old = report.due_on
        before = snapshot(report)
        report.due_on = due
        record(actor, "temporary_report.due_recomputed", report, before=before)
        if ob is not None:
            before = snapshot(ob)
            ob.due_on = due
            record(actor, "disclosure_obligation.due_change", ob, before=before)
        moved.append({"what": "temporary_report", "id": report.id, "enterprise_id": report.enterprise_id,
                      "from": old.isoformat() if old else None, "to": due.isoformat()})
    return moved
