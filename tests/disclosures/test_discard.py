"""Discarding unsigned drafts: the enterprise's staff or signatory, after a confirmation, by a POST with CSRF;
audited; signed reports never; other enterprises get 404; the obligation goes back to having no draft."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.disclosures import drafts, services, supervision
from portal.disclosures.models import AnnualReport, Obligation, ObligationStatus, ReportStatus, TemporaryReport, Trigger
from portal.errors import InvalidTransition, NotAllowed
from tests.factories import DEFAULT_PASSWORD, make_enterprise, make_user, totp_code

NOW = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)
DETENTION = {"position": "车间主任", "case": "非法排放", "decided_on": "2026-01-04"}


def _count(db, model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _temporary(staff, ent):
    return services.save_temporary(staff, ent, Trigger.DETENTION, "淮公拘〔2026〕1号", date(2026, 1, 5), DETENTION)


# --- services ------------------------------------------------------------------------------------------------------

def test_discarding_an_annual_draft_keeps_the_obligation_and_audits_the_content(db, ent, staff):
    report = services.create_annual_draft(staff, ent, 2025)
    report_id = report.id
    drafts.discard_draft(staff, report)
    assert db.session.get(AnnualReport, report_id) is None
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == f"annual:{ent.id}:2025"))
    assert ob is not None and ob.status == ObligationStatus.PENDING
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "annual_report.discard"))
    assert audit.object_id == str(report_id) and audit.before["sections"]["basic"]["data"]["uscc"] == ent.uscc
    fresh = services.create_annual_draft(staff, ent, 2025)  # a new, pre-filled draft can be started again
    assert fresh.is_draft and fresh.sections["basic"]["data"]["name"] == ent.name


def test_discarding_a_temporary_draft_withdraws_its_pending_obligation(db, ent, signatory):
    report = _temporary(signatory, ent)
    assert _count(db, Obligation, Obligation.ref == f"temporary:{report.id}") == 1
    drafts.discard_draft(signatory, report)
    assert _count(db, TemporaryReport) == 0 and _count(db, Obligation, Obligation.kind == "temporary") == 0
    assert {a.action for a in db.session.scalars(sa.select(AuditRecord))} >= {
        "temporary_report.discard", "disclosure_obligation.withdraw"}


def test_a_draft_recorded_as_missing_cannot_be_discarded(db, ent, staff):
    report = _temporary(staff, ent)
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == f"temporary:{report.id}"))
    ob.status = ObligationStatus.MISSING
    with pytest.raises(InvalidTransition) as exc:
        drafts.discard_draft(staff, report)
    assert ob.due_on.isoformat() in exc.value.message
    assert db.session.get(TemporaryReport, report.id) is not None


def test_published_reports_are_never_discarded(db, draft, staff, signatory):
    published = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=NOW, code=totp_code(signatory))
    with pytest.raises(InvalidTransition):
        drafts.discard_draft(signatory, published)
    assert db.session.get(AnnualReport, published.id).status == ReportStatus.PUBLISHED


def test_only_users_of_the_enterprise_can_discard(db, ent, draft):
    for outsider in (make_user(Role.ENTERPRISE_SIGNATORY, enterprise=make_enterprise()), make_user(Role.REGULATOR),
                     make_user(Role.ADMIN)):
        with pytest.raises(NotAllowed):
            drafts.discard_draft(outsider, draft)
    assert db.session.get(AnnualReport, draft.id) is not None


# --- pages ---------------------------------------------------------------------------------------------------------

def test_staff_confirm_then_discard_an_annual_draft(login, db, draft, staff):
    db.session.commit()
    client = login(staff)
    assert f"/my/disclosures/annual/{draft.id}/discard" in client.get(
        f"/my/disclosures/annual/{draft.id}").get_data(as_text=True)
    page = client.get(f"/my/disclosures/annual/{draft.id}/discard")
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    unconfirmed = client.post(f"/my/disclosures/annual/{draft.id}/discard", data={})
    assert unconfirmed.status_code == 400 and db.session.get(AnnualReport, draft.id) is not None
    response = client.post(f"/my/disclosures/annual/{draft.id}/discard", data={"confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/disclosures")
    db.session.expire_all()
    assert _count(db, AnnualReport) == 0
    assert supervision.upcoming(draft.enterprise_id)[0].status == ObligationStatus.PENDING


def test_a_signatory_discards_a_temporary_draft_from_its_form(login, db, ent, signatory):
    report = _temporary(signatory, ent)
    db.session.commit()
    client = login(signatory)
    assert f"/my/disclosures/temporary/{report.id}/discard" in client.get(
        f"/my/disclosures/temporary/{report.id}").get_data(as_text=True)
    assert client.post(f"/my/disclosures/temporary/{report.id}/discard", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert _count(db, TemporaryReport) == 0


def test_other_enterprises_get_404(login, db, draft, staff):
    db.session.commit()
    other = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=make_enterprise())
    db.session.commit()
    client = login(other)
    assert client.get(f"/my/disclosures/annual/{draft.id}/discard").status_code == 404
    assert client.post(f"/my/disclosures/annual/{draft.id}/discard", data={"confirm": "y"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(AnnualReport, draft.id) is not None


def test_a_published_report_is_refused_with_a_clear_message(login, db, draft, staff, signatory):
    services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=NOW, code=totp_code(signatory))
    db.session.commit()
    client = login(staff)
    response = client.post(f"/my/disclosures/annual/{draft.id}/discard", data={"confirm": "y"},
                           follow_redirects=True)
    assert "只有未签署的草稿可以废弃" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AnnualReport, draft.id).status == ReportStatus.PUBLISHED


def test_a_discard_without_a_csrf_token_is_refused(app, login, db, draft, staff):
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = login(staff).post(f"/my/disclosures/annual/{draft.id}/discard", data={"confirm": "y"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(AnnualReport, draft.id) is not None
