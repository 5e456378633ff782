"""Complaints reach the right enterprise: suggestions at intake, the unambiguous exact-name link, the handler's
audited link, re-link and unlink for every channel, and the counters and credit that follow the link."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.complaints import linking, services, statistics
from portal.complaints.models import Channel, Complaint, Findings
from portal.credit.models import Evidence
from portal.errors import InvalidTransition, ValidationFailed
from tests.conftest import login_as
from tests.factories import make_complaint, make_enterprise, make_user


@pytest.fixture
def handler(db):
    return make_user(Role.REGULATOR, jurisdiction_code="3208")


def _audits(action: str) -> list[AuditRecord]:
    return list(services.db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == action)))


def test_the_exact_registered_name_links_only_when_unambiguous(db):
    ent = make_enterprise(name="涟水恒达化工有限公司")
    twin_a = make_enterprise(name="淮安同名化工有限公司")
    c, _ = make_complaint(reported_name=" 涟水恒达化工有限公司 ")
    assert c.enterprise_id == ent.id
    assert [e.kind for e in c.events if not e.is_public] == ["enterprise_matched"]
    make_enterprise(name="淮安同名化工有限公司")  # a second enterprise with twin_a's name
    ambiguous, _ = make_complaint(reported_name=twin_a.name)
    assert ambiguous.enterprise_id is None
    unknown, _ = make_complaint(reported_name="涟水恒达化工")  # not the exact name
    assert unknown.enterprise_id is None


def test_bracket_width_does_not_hide_the_exact_name(db):
    ent = make_enterprise(name="江苏恒达（涟水）化工有限公司")
    c, _ = make_complaint(reported_name="江苏恒达(涟水)化工有限公司")
    assert c.enterprise_id == ent.id


def test_suggestions_give_address_and_distance_nearest_first(db):
    near = make_enterprise(name="涟水近邻化工有限公司", latitude=33.780, longitude=119.260, address="近处路1号")
    far = make_enterprise(name="涟水远方化工有限公司", latitude=33.900, longitude=119.500, address="远处路9号")
    db.session.commit()
    items = linking.suggest("化工有限公司", 33.781, 119.261)
    names = [i["name"] for i in items]
    assert names.index(near.name) < names.index(far.name)
    first = items[0]
    assert first["address"] == "近处路1号" and first["uscc"] == near.uscc and 0 < first["distance_m"] < 200
    assert all(i["distance_m"] is None for i in linking.suggest("化工有限公司"))
    assert linking.suggest("化") == []


def test_the_suggestion_endpoint_answers_json(client, db):
    make_enterprise(name="涟水接口化工有限公司", latitude=33.78, longitude=119.26)
    db.session.commit()
    response = client.get("/complaints/enterprises.json?q=接口化工&lat=33.78&lon=119.26")
    assert response.status_code == 200 and response.is_json
    (item,) = response.get_json()["data"]
    assert item["name"] == "涟水接口化工有限公司" and item["distance_m"] == 0
    bad = client.get("/complaints/enterprises.json?q=接口化工&lat=abc&lon=999")
    assert bad.status_code == 200 and bad.get_json()["data"][0]["distance_m"] is None


@pytest.mark.parametrize("channel", [Channel.WEB, Channel.DISPATCH_12345])
def test_a_named_but_uncoded_case_is_linked_by_the_handler_audited_and_counted(db, handler, channel):
    ent = make_enterprise(name="涟水被举报化工有限公司")
    c, _ = make_complaint(reported_name="河边那家化工厂", channel=channel)
    assert c.enterprise_id is None and statistics.enterprise_counts(ent.id)["received"] == 0
    linking.link_enterprise(c, handler, ent.uscc, "现场核实即该企业")
    assert c.enterprise_id == ent.id
    (audit,) = _audits("complaint.linked_enterprise")
    assert audit.after["enterprise_id"] == ent.id and audit.before["enterprise_id"] is None
    assert audit.after["reason"] == "现场核实即该企业" and audit.enterprise_id == ent.id
    assert statistics.enterprise_counts(ent.id)["received"] == 1


def test_relink_and_unlink_move_the_counters(db, handler):
    first, second = make_enterprise(), make_enterprise()
    c, _ = make_complaint(first)
    linking.link_enterprise(c, handler, second.uscc, "地址核对为相邻企业")
    assert statistics.enterprise_counts(first.id)["received"] == 0
    assert statistics.enterprise_counts(second.id)["received"] == 1
    linking.link_enterprise(c, handler, "", "无法确认被举报单位")
    assert c.enterprise_id is None and statistics.enterprise_counts(second.id)["received"] == 0
    assert [a.action for a in _audits("complaint.relinked_enterprise") + _audits("complaint.unlinked_enterprise")] \
        == ["complaint.relinked_enterprise", "complaint.unlinked_enterprise"]


@pytest.mark.parametrize("uscc, reason, field", [
    ("", "短", "reason"),
    ("91320826MA1XXXXXXX", "现场核实即该企业", "uscc"),
])
def test_a_bad_link_names_the_field(db, handler, uscc, reason, field):
    c, _ = make_complaint(reported_name="河边小作坊")
    with pytest.raises(ValidationFailed) as info:
        linking.link_enterprise(c, handler, uscc, reason)
    assert field in info.value.errors and c.enterprise_id is None


def test_an_enterprise_outside_the_jurisdiction_cannot_be_linked(db, handler):
    foreign = make_enterprise(region_code="210100")
    c, _ = make_complaint(reported_name="河边小作坊")
    with pytest.raises(ValidationFailed):
        linking.link_enterprise(c, handler, foreign.uscc, "现场核实即该企业")
    assert c.enterprise_id is None and _audits("complaint.linked_enterprise") == []


def test_only_a_linked_substantiated_case_creates_a_credit_record_for_the_linked_enterprise(db, handler):
    ent = make_enterprise()
    unlinked, _ = make_complaint(reported_name="无名小作坊")
    linked, _ = make_complaint(reported_name="河边那家化工厂")
    linking.link_enterprise(linked, handler, ent.uscc, "现场核实即该企业")
    for c in (unlinked, linked):
        services.accept_complaint(c, handler)
        services.start_investigation(c, handler)
        services.report_result(c, handler, Findings.SUBSTANTIATED, "现场核实超标排放，已立案处罚。")
    records = list(db.session.scalars(sa.select(Evidence).where(Evidence.source_ref.like("complaint:%"))))
    assert [(e.source_ref, e.enterprise_id) for e in records] == [(f"complaint:{linked.id}", ent.id)]
    with pytest.raises(InvalidTransition):
        linking.link_enterprise(linked, handler, "", "改为不关联企业")


def test_the_console_links_a_case_and_refuses_other_jurisdictions(client, db, handler):
    ent = make_enterprise(name="涟水控制台化工有限公司", latitude=33.78, longitude=119.26)
    c, _ = make_complaint(reported_name="涟水控制台化工", latitude=33.78, longitude=119.26)
    foreign = make_user(Role.REGULATOR, jurisdiction_code="2101")
    db.session.commit()
    login_as(client, handler)
    page = client.get(f"/console/complaints/{c.id}").get_data(as_text=True)
    assert ent.uscc in page  # suggested for the reported name
    response = client.post(f"/console/complaints/{c.id}/enterprise", data={"uscc": ent.uscc, "reason": "短"})
    assert response.status_code == 303 and db.session.get(Complaint, c.id).enterprise_id is None
    response = client.post(f"/console/complaints/{c.id}/enterprise",
                           data={"uscc": ent.uscc, "reason": "名称与地址均对应该企业"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).enterprise_id == ent.id
    login_as(client, foreign)
    response = client.post(f"/console/complaints/{c.id}/enterprise", data={"uscc": "", "reason": "改为不关联企业"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).enterprise_id == ent.id


def test_an_open311_case_named_exactly_is_linked_and_the_handler_can_relink_it(client, app, db, handler):
    from tests.factories import ensure_reference

    ensure_reference()
    ent = make_enterprise(name="涟水开放接口化工有限公司")
    other = make_enterprise()
    db.session.commit()
    app.config["OPEN311_API_KEYS"] = {"k-311": "12345-huaian"}
    try:
        response = client.post("/open311/v2/requests.json", headers={"X-Api-Key": "k-311"}, data={
            "service_code": "air", "lat": "33.78", "long": "119.26", "description": "工厂烟囱夜间冒黑烟，气味刺鼻。",
            "attribute[region_code]": "320826", "attribute[reported_name]": "涟水开放接口化工有限公司",
            "attribute[external_ticket]": "HA-311"})
    finally:
        app.config["OPEN311_API_KEYS"] = {}
    case_no = response.get_json()[0]["service_request_id"]
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == case_no))
    assert c.channel == Channel.DISPATCH_12345 and c.enterprise_id == ent.id
    linking.link_enterprise(c, handler, other.uscc, "现场核实为相邻企业")
    assert c.enterprise_id == other.id and statistics.enterprise_counts(ent.id)["received"] == 0
