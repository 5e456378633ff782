"""Permit pages: the enterprise records its filings, a regulator changes the permit's state (audited, within the
jurisdiction), a lead re-dates the annual report; the public page, the deadlines API and the iCalendar feed show the
obligations with their provisional mark, and names, never codes."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.core.clock import china_today
from portal.enterprises.models import PermitClass, PermitStatus
from portal.errors import DomainError
from portal.permits import services
from portal.permits.models import ExecutionReport, PermitShutdown, ReportStatus
from tests.factories import make_user
from tests.permits.helpers import registered_permit


def _pending(db, permit):
    return db.session.scalars(sa.select(ExecutionReport).where(ExecutionReport.permit_id == permit.id,
                                                               ExecutionReport.status == ReportStatus.PENDING)
                              .order_by(ExecutionReport.due_on)).all()


def test_the_enterprise_records_a_filing_with_field_named_errors_and_only_for_its_own_reports(client, db, login):
    ent, permit = registered_permit(db, on=date(2026, 1, 20))
    other, other_permit = registered_permit(db, on=date(2026, 1, 20))
    services.run_deadlines(china_today())
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    login(user)
    db.session.commit()
    report = _pending(db, permit)[0]
    page = client.get("/my/permit-reports")
    assert page.status_code == 200 and f'id="report-{report.id}"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    bad = client.post(f"/my/permit-reports/{report.id}", data={f"r{report.id}-submitted_on": "2999-01-01",
                                                               f"r{report.id}-receipt_no": ""})
    assert bad.status_code == 400
    assert f'id="r{report.id}-submitted_on-error"' in bad.text and f'id="r{report.id}-receipt_no-error"' in bad.text
    today = china_today().isoformat()
    ok = client.post(f"/my/permit-reports/{report.id}", data={f"r{report.id}-submitted_on": today,
                                                              f"r{report.id}-receipt_no": "QG-123"})
    assert ok.status_code == 302
    db.session.refresh(report)
    assert report.status == ReportStatus.ON_TIME and report.receipt_no == "QG-123" and report.filed_by_id == user.id
    again = client.post(f"/my/permit-reports/{report.id}", data={f"r{report.id}-submitted_on": today,
                                                                 f"r{report.id}-receipt_no": "QG-999"})
    assert again.status_code == 400
    db.session.refresh(report)
    assert report.receipt_no == "QG-123"
    foreign = _pending(db, other_permit)[0]
    assert client.post(f"/my/permit-reports/{foreign.id}", data={f"r{foreign.id}-submitted_on": today,
                                                                 f"r{foreign.id}-receipt_no": "x"}).status_code == 404


def test_a_regulator_changes_the_state_in_the_jurisdiction_only_and_it_is_audited(client, db, login):
    ent, permit = registered_permit(db)
    far, far_permit = registered_permit(db, region_code="210100")
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    today = china_today().isoformat()
    missing = client.post(f"/regulator/permits/{permit.id}/status", data={"status": "shutdown", "since": today})
    assert missing.status_code == 400 and 'id="statement-error"' in missing.text
    response = client.post(f"/regulator/permits/{permit.id}/status",
                           data={"status": "shutdown", "since": today, "statement": "市场原因停产"})
    assert response.status_code == 302
    db.session.refresh(permit)
    assert permit.status == PermitStatus.SHUTDOWN
    assert db.session.scalar(sa.select(PermitShutdown.statement).where(PermitShutdown.permit_id == permit.id)) \
        == "市场原因停产"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "permit.status")) == 1
    assert client.get(f"/regulator/permits/{far_permit.id}/status").status_code == 404
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    assert client.get(f"/regulator/permits/{permit.id}/status").status_code == 403


def test_the_class_edit_is_audited_and_changes_the_obligations(client, db, login):
    ent, permit = registered_permit(db, PermitClass.SIMPLIFIED, on=china_today())
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    data = {"permit_no": permit.permit_no, "management_class": "registration",
            "valid_from": permit.valid_from.isoformat(), "valid_to": permit.valid_to.isoformat(),
            "issued_by": permit.issued_by}
    assert client.post(f"/regulator/permits/{permit.id}/edit", data=data).status_code == 302
    db.session.refresh(permit)
    assert permit.management_class == PermitClass.REGISTRATION
    audit = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.object_type == "permits",
                                                            AuditRecord.object_id == str(permit.id))).all()
    assert any(a.before and a.before.get("management_class") == "simplified" for a in audit)
    assert services.run_deadlines(china_today())["created"] == 0 and _pending(db, permit) == []


def test_the_public_page_api_and_calendar_show_the_reports_with_names_and_the_provisional_mark(client, db):
    ent, permit = registered_permit(db, on=date(2026, 1, 20))
    _e, registration = registered_permit(db, PermitClass.REGISTRATION)
    services.run_deadlines(china_today())
    db.session.commit()
    pending = _pending(db, permit)
    assert pending
    data = client.get(f"/api/v1/enterprises/{ent.uscc}/deadlines").get_json()["data"]["deadlines"]
    items = {d["key"]: d for d in data if d["key"].startswith("permit-report/")}
    assert set(items) == {f"permit-report/{r.id}" for r in pending}
    for report in pending:
        item = items[f"permit-report/{report.id}"]
        assert item["category"] == "permit"
        assert item["due_on"] == services.effective_due(report).isoformat()
        assert item["provisional"] == services.provisional(report)
    cal = Calendar.from_ical(client.get(f"/enterprises/{ent.uscc}/calendar.ics").data)
    uids = {str(e["uid"]).split(".")[0]: e for e in cal.walk("VEVENT")}
    for report in pending:
        event = uids[f"permit-report-{report.id}"]
        assert str(event["status"]) == ("TENTATIVE" if services.provisional(report) else "CONFIRMED")
    assert any(d["key"].startswith(f"permit/{permit.id}/") for d in data)  # renewal and expiry
    services.set_status(make_user(), permit, {"status": "cancelled", "since": china_today().isoformat()})
    db.session.commit()
    data = client.get(f"/api/v1/enterprises/{ent.uscc}/deadlines").get_json()["data"]["deadlines"]
    assert not any(d["key"].startswith(f"permit/{permit.id}/") for d in data)  # a cancelled permit is not renewed
    page = client.get(f"/enterprises/{ent.uscc}").text
    assert 'id="permit-status-h"' in page and permit.permit_no in page
    section = page.split('id="permit-status-h"')[1].split("</section>")[0]
    assert "in_force" not in section and ">key<" not in section and "year" not in section
    assert ("重点管理" in section or "Key management" in section) and ("注销" in section or "Cancelled" in section)
    assert "cancelled" not in section
    reg_page = client.get(f"/enterprises/{_e.uscc}").text.split('id="permit-status-h"')[1].split("</section>")[0]
    assert "20" in reg_page  # registration-class: keeps its form up to date within 20 days, no execution reports


def test_a_lead_re_dates_the_annual_report_on_the_deadline_page(client, db, login):
    ent, permit = registered_permit(db, on=date(2026, 1, 20))
    services.run_deadlines(china_today())
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    login(lead)
    db.session.commit()
    year = china_today().year
    assert client.get("/regulator/permit-report-deadlines").status_code == 200
    response = client.post("/regulator/permit-report-deadlines", data={"year": year, "due_on": f"{year + 1}-02-26"})
    assert response.status_code == 302
    annual = db.session.scalar(sa.select(ExecutionReport).where(
        ExecutionReport.permit_id == permit.id, ExecutionReport.frequency == "year",
        ExecutionReport.period_start == date(year, 1, 1)))
    assert annual.due_on == date(year + 1, 2, 26)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    assert client.get("/regulator/permit-report-deadlines").status_code == 403


def test_search_filters_by_permit_management_class(client, db):
    from portal.search.queries import SearchParams, search_enterprises

    ent, _p = registered_permit(db, PermitClass.REGISTRATION)
    other, _q = registered_permit(db, PermitClass.KEY)
    db.session.commit()
    found = search_enterprises(SearchParams(permit_class="registration", per_page=100))
    ids = {e.id for e in found.items}
    assert ent.id in ids and other.id not in ids
    page = client.get("/search?permit_class=registration")
    assert page.status_code == 200 and ent.name in page.text and other.name not in page.text
    refused = client.get("/search?permit_class=nonsense")
    assert 'href="#permit_class"' in refused.text and other.name not in refused.text
    with pytest.raises(DomainError) as info:
        search_enterprises(SearchParams(permit_class="nonsense"))
    assert info.value.field == "permit_class"


def test_late_and_missing_execution_reports_count_in_the_compliance_grid(db):
    from portal.enterprises.compliance import Row
    from portal.enterprises.compliance_queries import compliance_grid

    from portal.credit.evidence import verify_evidence
    from portal.credit.models import Evidence

    ent, permit = registered_permit(db)
    services.run_deadlines(date(2026, 4, 2))  # the 2025 annual report (due 15 January 2026) is missing
    reports = lambda: next(r for r in compliance_grid(ent.id, today=date(2026, 4, 2)).rows  # noqa: E731
                           if r.row is Row.REPORTS)
    assert reports().total == 0  # a clue until regulators confirm the finding
    assert services.public_status(ent.id, date(2026, 4, 2))[0]["counts"] == {}
    verify_evidence(db.session.scalar(sa.select(Evidence).where(Evidence.enterprise_id == ent.id)),
                    make_user(Role.REGULATOR_LEAD))
    [cell] = [c for c in reports().cells if c.count]
    assert cell.quarter.key == "2026-Q1" and dict(cell.detail) == {"missing": 1}
    assert services.public_status(ent.id, date(2026, 4, 2))[0]["counts"] == {"missing": 1}
