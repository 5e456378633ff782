"""Each role's home (issue 21): the counts are right, each links to the list that shows those rows, the login lands
there (next= still wins), and the counts cost a fixed number of queries whatever the data."""
from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.auth.models import BindingStatus, EnterpriseBinding, Role
from portal.core.clock import china_today
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.disclosures.models import AnnualReport, Obligation, ObligationKind, ObligationStatus
from portal.enterprises.models import ChangeProposal
from portal.home import counts
from tests.factories import (DEFAULT_PASSWORD, make_complaint, make_enterprise, make_incident, make_outlet,
                             make_permit, make_user, totp_code)


@pytest.fixture
def en(client):
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    return client


def _links(html: str) -> dict[str, str]:
    """{label: href} of the home's items (count and label inside one link)."""
    found = re.findall(r'<a href="([^"]+)"><strong class="home-count">(\d+)</strong> ([^<]+)</a>', html)
    return {html_lib.unescape(label.strip()): (html_lib.unescape(href), int(n)) for href, n, label in found}


def _enterprise_world(db):
    ent = make_enterprise("淮安家园化工有限公司")
    today = china_today()
    db.session.add_all([
        Obligation(ref=f"annual:{ent.id}:2025", enterprise_id=ent.id, kind=ObligationKind.ANNUAL, year=2025,
                   due_on=today + timedelta(days=20), status=ObligationStatus.PENDING),
        Obligation(ref=f"annual:{ent.id}:2024", enterprise_id=ent.id, kind=ObligationKind.ANNUAL, year=2024,
                   due_on=today - timedelta(days=3), status=ObligationStatus.PENDING),
        Obligation(ref=f"annual:{ent.id}:2023", enterprise_id=ent.id, kind=ObligationKind.ANNUAL, year=2023,
                   due_on=today - timedelta(days=300), status=ObligationStatus.ON_TIME),
        AnnualReport(enterprise_id=ent.id, year=2025),
    ])
    make_incident(ent, confirmed=False)  # an open exceedance and its finding
    db.session.flush()
    return ent


def test_enterprise_home_counts_obligations_drafts_incidents_and_findings(db, en):
    ent = _enterprise_world(db)
    other = make_enterprise("别家公司")
    make_incident(other, confirmed=False)
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    from tests.conftest import login_as

    login_as(en, staff)
    response = en.get("/home")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    links = _links(html)
    assert links["Obligations to meet"] == ("/my/disclosures#ob-h", 2)
    assert links["Obligations past their deadline"][1] == 1
    assert links["Drafts not yet signed"] == ("/my/disclosures", 1)
    assert links["Exceedances to explain"] == ("/monitoring/my/incidents", 1)
    assert links["Findings waiting for the regulators' decision"] == ("/credit/my/findings?status=open", 1)
    assert "next due " + (china_today() + timedelta(days=20)).isoformat() in html
    # the linked list shows the rows counted
    listed = en.get("/credit/my/findings?status=open").get_data(as_text=True)
    assert listed.count('class="card') >= 1


def test_regulator_home_counts_complaints_by_deadline_and_credit_work_in_the_jurisdiction(db, en):
    ent = make_enterprise("淮安监管样本公司")
    late, _ = make_complaint(ent)
    late.accept_due = china_today() - timedelta(days=2)
    soon, _ = make_complaint(ent)
    soon.accept_due = china_today() + timedelta(days=1)
    fine, _ = make_complaint(ent)
    fine.accept_due = china_today() + timedelta(days=12)
    outside, _ = make_complaint(region_code="210100")  # another province: not counted
    outside.accept_due = china_today() - timedelta(days=2)
    recorder = make_user(Role.REGULATOR)
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="penalty:home-1", occurred_on=date(2026, 10, 1), title="处罚", verified=False,
                 actor=recorder, document_no="淮环罚〔2026〕1号")
    make_incident(ent, confirmed=False)
    owner = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.add(ChangeProposal(enterprise_id=ent.id, proposer_id=owner.id, target_type="enterprise",
                                  target_id=ent.id, payload={"legal_rep": "王五"}, reason="法定代表人变更"))
    db.session.add(EnterpriseBinding(user_id=make_user(Role.ENTERPRISE_STAFF).id, enterprise_id=ent.id,
                                     requested_role=Role.ENTERPRISE_SIGNATORY, status=BindingStatus.PENDING))
    reg = make_user(Role.REGULATOR)
    db.session.commit()
    from tests.conftest import login_as

    login_as(en, reg)
    links = _links(en.get("/home").get_data(as_text=True))
    assert links["Overdue"] == ("/console/complaints?sla=overdue", 1)
    assert links["Due within 3 days"] == ("/console/complaints?sla=due_soon", 1)
    assert links["All open cases"] == ("/console/complaints", 3)
    assert links["Evidence awaiting a second regulator"] == ("/credit/regulator/evidence?status=unconfirmed", 1)
    assert links["Findings nobody has taken up"] == ("/credit/regulator/findings?status=detected", 1)
    assert links["Change proposals"][1] == 1 and links["Account binding requests"][1] == 1
    assert links["Exceedances not yet explained"] == ("/monitoring/incidents?state=open", 1)
    assert "Approvals waiting for you" not in en.get("/home").get_data(as_text=True)
    # each filtered list shows exactly the counted cases
    overdue = en.get("/console/complaints?sla=overdue").get_data(as_text=True)
    assert late.case_no in overdue and soon.case_no not in overdue and outside.case_no not in overdue
    due_soon = en.get("/console/complaints?sla=due_soon").get_data(as_text=True)
    assert soon.case_no in due_soon and late.case_no not in due_soon and fine.case_no not in due_soon
    unconfirmed = en.get("/credit/regulator/evidence?status=unconfirmed").get_data(as_text=True)
    assert "淮环罚〔2026〕1号" in unconfirmed


def test_lead_home_shows_extensions_waiting_for_approval(db, en):
    ent = make_enterprise()
    c, _ = make_complaint(ent)
    c.extension_requested_days, c.extension_reason = 10, "需要补充监测"
    lead = make_user(Role.REGULATOR_LEAD)
    db.session.commit()
    from tests.conftest import login_as

    login_as(en, lead)
    html = en.get("/home").get_data(as_text=True)
    assert "Approvals waiting for you" in html
    assert _links(html)["Complaint deadline extensions"] == ("/console/complaints?sla=extension", 1)
    assert c.case_no in en.get("/console/complaints?sla=extension").get_data(as_text=True)


def test_admin_home_counts_accounts_by_role_locked_ones_and_calendar_gaps(db, en):
    admin = make_user(Role.ADMIN)
    locked = make_user(Role.REGULATOR, locked_until=utcnow() + timedelta(minutes=10))
    make_user(Role.REGULATOR, is_active_account=False)
    db.session.commit()
    from tests.conftest import login_as

    login_as(en, admin)
    html = en.get("/home").get_data(as_text=True)
    links = _links(html)
    assert links["Locked after failed logins"] == ("/admin/users?state=locked", 1)
    assert links["Deactivated"] == ("/admin/users?state=inactive", 1)
    regulators = [v for k, v in links.items() if v[0] == "/admin/users?role=regulator"]
    assert regulators and regulators[0][1] == 2
    listed = en.get("/admin/users?state=locked").get_data(as_text=True)
    assert locked.username in listed and admin.username not in listed
    gap = [v for k, v in links.items() if k.startswith("Years without official holidays")]
    assert gap and gap[0][0].startswith("/admin/calendar")


def test_unbound_enterprise_account_is_asked_to_bind(db, en):
    user = make_user(Role.ENTERPRISE_STAFF)
    db.session.commit()
    from tests.conftest import login_as

    login_as(en, user)
    html = en.get("/home").get_data(as_text=True)
    assert "/auth/binding" in html and "home-count" not in html


def test_home_needs_a_login(client):
    response = client.get("/home")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.ENTERPRISE_STAFF, Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN])
def test_login_lands_on_the_home_and_next_still_wins(db, client, role):
    ent = make_enterprise() if role.is_enterprise else None
    user = make_user(role, enterprise=ent)
    db.session.commit()

    def log_in(next_url=None):
        client.post("/auth/logout")
        suffix = f"?next={next_url}" if next_url else ""
        response = client.post("/auth/login" + suffix, data={"username": user.username,
                                                             "password": DEFAULT_PASSWORD})
        if response.headers["Location"].startswith("/auth/login/factor"):
            response = client.post("/auth/login/factor" + suffix, data={"code": totp_code(user)})
        return response.headers["Location"]

    assert log_in() == "/home"
    assert log_in("/credit/schemes") == "/credit/schemes"


def test_the_header_has_one_work_link_instead_of_every_queue(db, en):
    from tests.conftest import login_as

    login_as(en, make_user(Role.REGULATOR))
    html = en.get("/home").get_data(as_text=True)
    header = html.split("</header>")[0]
    assert 'href="/home"' in header and "/credit/regulator/evidence" not in header
    assert "/credit/regulator/runs" in html.split("</header>")[1]  # still reachable, under "Other pages"


def _count_queries(fn) -> int:
    from portal.extensions import db as _db

    seen = []
    listener = lambda *a, **k: seen.append(1)  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_counts_cost_one_query_per_domain_whatever_the_number_of_rows(db):
    from types import SimpleNamespace

    ent = make_enterprise()
    ent_id = ent.id
    db.session.commit()
    reg = SimpleNamespace(jurisdiction_code="3208")  # plain values: no attribute refresh is counted
    today = china_today()

    def run():
        counts.regulator_complaints(reg, today)
        counts.regulator_credit(reg.jurisdiction_code)
        counts.regulator_registry(reg.jurisdiction_code)
        counts.regulator_monitoring(reg.jurisdiction_code)
        counts.enterprise_disclosures(ent_id, today)
        counts.enterprise_monitoring(ent_id)

    before = _count_queries(run)
    outlet = make_outlet(ent, "DW001", make_permit(ent))
    for i in range(5):
        make_complaint(ent)
        make_incident(ent, outlet, hour=i, confirmed=False)
    db.session.commit()
    assert _count_queries(run) == before == 6
