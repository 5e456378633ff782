"""Monitoring objects for the route-authorisation matrix (tests/test_route_authorisation.py `world`)."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from portal.monitoring import lab_reports, manual, plan, services
from portal.monitoring.importers import ManualRow
from portal.monitoring.models import ImportJob, ImportStatus

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def monitoring_objects(db, ent, owner) -> dict:
    """A submitted monitoring plan of `ent` (plan_id) with one line (item_id); a published manual submission
    (submission_id) with a laboratory report (lab_report_id); an HJ 212-2025 data logger (device_id)."""
    draft = plan.start_draft(owner, ent)
    item = draft.items[0]
    plan.submit(owner, draft)
    outlet = item.outlet
    row = ManualRow(line=0, outlet=outlet.code, pollutant=item.pollutant_code, sampled_at=datetime(2026, 10, 2, 9),
                    value=1.0, completed_on=date(2026, 10, 3), production_load=Decimal("80"), facility_status="running")
    [submission] = manual.submit_one(owner, ent, row).submissions
    report = lab_reports.attach(owner, submission, "lab.pdf", io.BytesIO(PDF))
    job = ImportJob(enterprise_id=ent.id, user_id=owner.id, token=f"world-{ent.id}", filename="r.csv",
                    status=ImportStatus.CHECKED, rows_total=1, rows_done=1,
                    preview=[[2, outlet.code, item.pollutant_code, "2026-10-02 09:00", 1.0, "2026-10-03", "N"]],
                    groups=[["2026-10-03", "", "", 1]])
    db.session.add(job)
    device = services.add_device(None, mn=f"WORLD{ent.id}", password="pw", uscc=ent.uscc, outlet_code=outlet.code,
                                 protocol="2025")
    db.session.flush()
    return {"plan_id": draft.id, "item_id": item.id, "submission_id": submission.id, "lab_report_id": report.id,
            "import_id": job.id, "device_id": device.id}
