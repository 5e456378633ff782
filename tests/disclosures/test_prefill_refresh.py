"""Refreshing a draft's pre-fill from newer portal data: the preview shows every change and what happens to the
draft's value; applying it takes new values where the draft followed the pre-fill and keeps the enterprise's own."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.disclosures import prefill, services
from portal.disclosures.models import AnnualReport


def _penalty(ent):
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="refresh-p1", occurred_on=date(2025, 9, 6), title="超标排放", verified=True,
                 document_no="淮环罚〔2025〕88号", authority="淮安市生态环境局", amount_yuan=150000)


def test_the_preview_shows_what_changes_and_applying_keeps_the_enterprises_own_values(db, login, ent, staff):
    report = services.create_annual_draft(staff, ent, 2025)
    basic = dict(report.sections["basic"]["data"], legal_rep="李新")  # the enterprise corrected it, with a reason
    services.save_section(staff, report, "basic", "filled", "", basic, {"legal_rep": "法定代表人已变更"})
    ent.legal_rep, ent.contact_phone = "王六", "0517-80000000"  # the registry changes afterwards
    _penalty(ent)  # and a penalty decision is recorded on the portal
    db.session.commit()

    changes = {(c["section"], c["name"]): c for c in prefill.refresh_preview(report)}
    assert changes[("basic", "legal_rep")]["action"] == "keep"
    assert changes[("basic", "contact_phone")]["action"] == "update"
    assert changes[("violations", "penalties")]["action"] == "update"

    client = login(staff)
    page = client.get(f"/my/disclosures/annual/{report.id}/refresh?lang=en").get_data(as_text=True)
    assert "0517-80000000" in page and "淮环罚〔2025〕88号" in page and "keeps its value" in page
    response = client.post(f"/my/disclosures/annual/{report.id}/refresh", data={"expected": str(len(changes))})
    assert response.status_code == 302
    db.session.expire_all()
    fresh = db.session.get(AnnualReport, report.id)
    assert fresh.sections["basic"]["data"]["legal_rep"] == "李新"  # the enterprise's value stays
    assert fresh.sections["basic"]["prefill"]["legal_rep"]["value"] == "王六"  # the pre-fill record is renewed
    assert fresh.sections["basic"]["data"]["contact_phone"] == "0517-80000000"
    assert fresh.sections["violations"]["data"]["penalties"][0]["decision_no"] == "淮环罚〔2025〕88号"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord).where(
        AuditRecord.action == "annual_report.prefill_refresh")) == 1
    assert prefill.refresh_preview(fresh) == []


def test_a_stale_preview_is_not_applied(db, login, ent, staff):
    report = services.create_annual_draft(staff, ent, 2025)
    _penalty(ent)
    db.session.commit()
    before = report.sections
    client = login(staff)
    response = client.post(f"/my/disclosures/annual/{report.id}/refresh", data={"expected": "0"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/refresh")
    db.session.expire_all()
    assert db.session.get(AnnualReport, report.id).sections == before


def test_another_enterprise_cannot_refresh_the_draft(db, login, ent, staff):
    from portal.auth.models import Role
    from tests.factories import make_enterprise, make_user

    report = services.create_annual_draft(staff, ent, 2025)
    other = make_user(Role.ENTERPRISE_STAFF, enterprise=make_enterprise())
    db.session.commit()
    client = login(other)
    assert client.get(f"/my/disclosures/annual/{report.id}/refresh").status_code == 404
    assert client.post(f"/my/disclosures/annual/{report.id}/refresh", data={"expected": "0"}).status_code == 404
