"""Service bodies over HTTP: registration with the credit-code check, findings confirmed by a second regulator,
the grade and list status on the body's page and on the pages of the enterprises it serves, the scheme as data."""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.servicebodies.models import ServiceBody, ServiceBodyEvidence
from portal.servicebodies.presets import SERVICE_BODY_DEFAULT
from tests.conftest import login_as
from tests.factories import ensure_reference, make_enterprise, make_uscc, make_user
from tests.servicebodies.world import make_body


def test_a_regulator_registers_a_body_with_a_valid_credit_code_only(client, db):
    ensure_reference()
    regulator = make_user(Role.REGULATOR)
    db.session.commit()
    login_as(client, regulator)
    data = {"uscc": make_uscc(region="320826"), "name": "淮安环测检测有限公司", "kind": "monitoring_lab",
            "region_code": "320826"}
    bad = client.post("/console/service-bodies", data={**data, "uscc": data["uscc"][:-1] + "0"
                                                       if data["uscc"][-1] != "0" else data["uscc"][:-1] + "1"})
    assert bad.status_code == 400 and db.session.scalar(sa.select(sa.func.count()).select_from(ServiceBody)) == 0
    elsewhere = client.post("/console/service-bodies", data={**data, "region_code": "210100"})
    assert elsewhere.status_code == 400
    assert client.post("/console/service-bodies", data=data).status_code == 302
    again = client.post("/console/service-bodies", data=data)
    assert again.status_code == 400 and ("already registered" in again.text or "已登记" in again.text)
    assert db.session.scalar(sa.select(AuditRecord.action).where(AuditRecord.object_type == "service_bodies")) \
        == "service_body.register"


def test_a_finding_counts_only_after_a_second_regulator_confirms_it_and_shows_on_the_clients_page(client, db):
    ent = make_enterprise()
    body = make_body(db, name="涟水检测技术有限公司")
    first, second = make_user(Role.REGULATOR), make_user(Role.REGULATOR)
    foreign = make_user(Role.REGULATOR, jurisdiction_code="21")
    db.session.commit()

    login_as(client, first)
    assert client.post(f"/console/service-bodies/{body.id}/engagements", data={
        "enterprise_uscc": ent.uscc, "service": "自行监测", "starts_on": "2025-01-01"}).status_code == 302
    assert client.post(f"/console/service-bodies/{body.id}/findings", data={
        "kind": "report_untrue", "title": "检测报告数据与原始记录不符", "document_no": "淮环监〔2026〕7号",
        "occurred_on": "2026-03-01", "enterprise_uscc": ent.uscc}).status_code == 302
    finding = db.session.scalar(sa.select(ServiceBodyEvidence))
    page = client.get(f"/service-bodies/{body.id}?lang=en")
    assert "Serious dishonesty list" not in page.text and "not listed" in page.text  # unconfirmed: no effect

    own = client.post(f"/console/service-bodies/{body.id}/findings/{finding.id}/confirm")
    assert own.status_code == 403
    db.session.expire_all()
    assert not db.session.get(ServiceBodyEvidence, finding.id).is_confirmed

    login_as(client, foreign)
    assert client.post(f"/console/service-bodies/{body.id}/findings/{finding.id}/confirm").status_code == 404
    assert client.get(f"/console/service-bodies/{body.id}").status_code == 404

    login_as(client, second)
    assert client.post(f"/console/service-bodies/{body.id}/findings/{finding.id}/confirm").status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceBodyEvidence, finding.id).is_confirmed

    client.get("/auth/logout")
    page = client.get(f"/service-bodies/{body.id}?lang=en")
    assert page.status_code == 200
    assert "Bad" in page.text and "Serious dishonesty list" in page.text and "淮环监〔2026〕7号" in page.text
    ent_page = client.get(f"/enterprises/{ent.uscc}?lang=en")
    assert ent_page.status_code == 200
    assert "涟水检测技术有限公司" in ent_page.text and "Serious dishonesty list" in ent_page.text
    other = make_enterprise()
    db.session.commit()
    assert "涟水检测技术有限公司" not in client.get(f"/enterprises/{other.uscc}").text
    actions = set(db.session.scalars(sa.select(AuditRecord.action)))
    assert {"service_engagement.add", "service_body_evidence.record", "service_body_evidence.confirm"} <= actions


def test_a_provincial_lead_replaces_the_scheme_and_grades_follow(client, db):
    body = make_body(db)
    db.session.add(ServiceBodyEvidence(body_id=body.id, kind="negligent_work", title="质量问题", document_no="X-1",
                                       occurred_on=date.today(), is_confirmed=True))
    city_lead, provincial_lead = make_user(Role.REGULATOR_LEAD), make_user(Role.REGULATOR_LEAD, jurisdiction_code="32")
    db.session.commit()
    assert "Good" in client.get(f"/service-bodies/{body.id}?lang=en").text  # 85 points: B
    stricter = json.loads(json.dumps(SERVICE_BODY_DEFAULT))
    stricter["rules"][2]["points"] = -35  # negligent work: 65 points, C
    login_as(client, city_lead)
    assert client.post("/console/service-bodies/scheme", data={"rules": json.dumps(stricter)}).status_code == 403
    login_as(client, provincial_lead)
    assert client.post("/console/service-bodies/scheme", data={"rules": "{"}).status_code == 400
    assert client.post("/console/service-bodies/scheme", data={"rules": json.dumps(stricter)}).status_code == 302
    page = client.get(f"/service-bodies/{body.id}?lang=en")
    assert "Warning" in page.text and "version 1" in page.text
    assert "-35" in client.get("/service-bodies/scheme").text


def test_the_public_register_lists_bodies_by_kind(client, db):
    make_body(db, name="甲环评编制有限公司", kind="eia_writer")
    make_body(db, name="乙检测有限公司")
    db.session.commit()
    page = client.get("/service-bodies?kind=eia_writer")
    assert page.status_code == 200 and "甲环评编制有限公司" in page.text and "乙检测有限公司" not in page.text
    assert "乙检测有限公司" in client.get("/service-bodies?q=乙检测").text
