import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.enterprises import proposals
from portal.enterprises.rules import uscc_check_char
from portal.enterprises.models import ChangeProposal, Enterprise, OutletLimit, Permit, ProposalStatus
from tests.factories import make_enterprise, make_limit, make_outlet, make_permit, make_user, make_uscc


@pytest.fixture
def ent(db):
    body = "91320826MA1ABCDE2"
    e = make_enterprise(name="涟水绿色化工有限公司", contact_phone="0517-7654321", uscc=body + uscc_check_char(body))
    make_permit(e)
    make_limit(make_outlet(e, "DW001"), "w01018", "60")
    db.session.commit()
    return e


@pytest.fixture
def regulator(db):
    return make_user(Role.REGULATOR, jurisdiction_code="3208")


@pytest.fixture
def far_regulator(db):
    return make_user(Role.REGULATOR, jurisdiction_code="2101")


def _count(model):
    from portal.extensions import db
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- public page ---------------------------------------------------------------------------------------------------

def test_public_page_shows_identity_permits_and_outlets_without_login(client, ent):
    html = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert "涟水绿色化工有限公司" in html and "江苏省 淮安市 涟水县" in html
    assert f"{ent.uscc}001P" in html and "DW001" in html and "化学需氧量" in html
    assert "0517-7654321" not in html


def test_public_page_reads_outlets_with_limits_and_the_region_path_once(client, db, ent):
    """The monitoring section reuses the outlets and limits the page loaded (same order as its own query would give),
    and region_path reads the county and its ancestors in one query."""
    late = make_outlet(ent, "DW000")  # created after DW001, shown before it
    make_limit(late, "w21003", "8")
    make_limit(late, "w01018", "50")
    uscc = ent.uscc
    db.session.commit()
    db.session.expunge_all()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = client.get(f"/enterprises/{uscc}").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert "江苏省 淮安市 涟水县" in html
    assert re.findall(r'id="(m-DW\d{3}-\w+)"', html) == ["m-DW000-w01018", "m-DW000-w21003", "m-DW001-w01018"]
    assert sum(" FROM outlets" in s for s in statements) == 1
    assert sum(" FROM regions" in s for s in statements) == 1


def test_public_page_redirects_lower_case_codes_to_the_canonical_url(client, ent):
    response = client.get(f"/enterprises/{ent.uscc.lower()}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/enterprises/{ent.uscc}")


@pytest.mark.parametrize("code", ["123", "91110108123456788F"])
def test_public_page_is_a_helpful_404_for_a_malformed_code(client, db, code):
    response = client.get(f"/enterprises/{code}")
    assert response.status_code == 404
    assert "18" in response.get_data(as_text=True)


def test_public_page_is_404_for_an_unknown_valid_code(client, db):
    assert client.get(f"/enterprises/{make_uscc()}").status_code == 404


def test_pdf_link_appears_only_when_the_report_exists(app, client, ent):
    html = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert ("summary.pdf" in html) == ("reports.enterprise_summary" in app.view_functions)


# --- regulator registry -------------------------------------------------------------------------------------------

REGULATOR_GETS = ["/regulator/enterprises", "/regulator/enterprises/new", "/regulator/enterprises/{id}",
                  "/regulator/enterprises/{id}/edit", "/regulator/permits/{permit}/edit",
                  "/regulator/outlets/{outlet}/edit", "/regulator/limits/{limit}/edit", "/regulator/proposals"]


def _fill(url, ent):
    outlet = ent.outlets[0]
    return url.format(id=ent.id, permit=ent.permits[0].id, outlet=outlet.id, limit=outlet.limits[0].id)


@pytest.mark.parametrize("url", REGULATOR_GETS)
def test_regulator_pages_need_login(client, ent, url):
    response = client.get(_fill(url, ent))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("url", REGULATOR_GETS)
def test_regulator_pages_open_for_the_jurisdiction(login, ent, regulator, url):
    assert login(regulator).get(_fill(url, ent)).status_code == 200


@pytest.mark.parametrize("url", REGULATOR_GETS)
def test_enterprise_users_cannot_open_regulator_pages(login, ent, url):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    assert login(user).get(_fill(url, ent)).status_code == 403


@pytest.mark.parametrize("url", [u for u in REGULATOR_GETS if "{" in u])
def test_regulators_of_another_jurisdiction_get_404(login, ent, far_regulator, url):
    assert login(far_regulator).get(_fill(url, ent)).status_code == 404


def test_registry_list_only_shows_the_jurisdiction_and_filters_by_name(login, ent, regulator, db):
    make_enterprise(name="沈阳远方公司", region_code="210100")
    make_enterprise(name="淮安区另一公司", region_code="320803")
    db.session.commit()
    client = login(regulator)
    html = client.get("/regulator/enterprises").get_data(as_text=True)
    assert "涟水绿色化工" in html and "淮安区另一公司" in html and "沈阳远方公司" not in html
    html = client.get("/regulator/enterprises?q=绿色&region=").get_data(as_text=True)
    assert "涟水绿色化工" in html and "淮安区另一公司" not in html
    html = client.get("/regulator/enterprises?region=320803").get_data(as_text=True)
    assert "淮安区另一公司" in html and "涟水绿色化工" not in html


def test_creating_an_enterprise_redirects_to_its_page(login, regulator, db):
    from tests.factories import ensure_reference
    ensure_reference()
    db.session.commit()
    uscc = make_uscc()
    response = login(regulator).post("/regulator/enterprises/new", data={
        "uscc": uscc.lower(), "name": "新登记公司", "region_code": "320826", "industry_code": "2614"})
    assert response.status_code == 302
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == uscc))
    assert ent is not None and response.headers["Location"].endswith(f"/regulator/enterprises/{ent.id}")


def test_create_form_redisplays_input_with_errors_next_to_fields(login, regulator, ent):
    response = login(regulator).post("/regulator/enterprises/new", data={
        "uscc": ent.uscc, "name": "重复公司", "region_code": "320826", "industry_code": "9999"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="重复公司"' in html and "涟水绿色化工有限公司" in html
    assert 'id="uscc-error"' in html and 'id="industry_code-error"' in html
    assert _count(Enterprise) == 1


def test_regulator_cannot_move_an_enterprise_out_of_the_jurisdiction(login, regulator, ent, db):
    response = login(regulator).post(f"/regulator/enterprises/{ent.id}/edit", data={
        "uscc": ent.uscc, "name": ent.name, "region_code": "210100", "industry_code": "2614"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).region_code == "320826"


def test_adding_a_permit_outlet_and_limit_from_the_detail_page(login, regulator, ent, db):
    client = login(regulator)
    r = client.post(f"/regulator/enterprises/{ent.id}/permits", data={
        "permit-permit_no": f"{ent.uscc}002P", "permit-management_class": "key",
        "permit-valid_from": "2025-01-01", "permit-valid_to": "2030-01-01"})
    assert r.status_code == 302
    r = client.post(f"/regulator/enterprises/{ent.id}/outlets", data={
        "outlet-code": "DA001", "outlet-name": "锅炉排口", "outlet-outlet_type": "main", "outlet-permit_id": ""})
    assert r.status_code == 302
    outlet = [o for o in db.session.get(Enterprise, ent.id).outlets if o.code == "DA001"][0]
    r = client.post(f"/regulator/enterprises/{ent.id}/limits", data={
        "limit-outlet_id": str(outlet.id), "limit-pollutant_code": "a21026", "limit-limit_value": "35",
        "limit-averaging": "hourly", "limit-reference_o2": "6", "limit-standard_code": "GB 13223-2011"})
    assert r.status_code == 302
    assert _count(Permit) == 2 and _count(OutletLimit) == 2


def test_a_bad_permit_number_redisplays_the_detail_page_with_the_error(login, regulator, ent):
    r = login(regulator).post(f"/regulator/enterprises/{ent.id}/permits", data={
        "permit-permit_no": f"{make_uscc()}001P", "permit-management_class": "key",
        "permit-valid_from": "2025-01-01", "permit-valid_to": "2030-01-01"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="permit-permit_no-error"' in html and ent.uscc in html
    assert _count(Permit) == 1


def test_limit_for_another_enterprises_outlet_is_refused(login, regulator, ent, db):
    other = make_enterprise()
    foreign = make_outlet(other, "DW001")
    db.session.commit()
    r = login(regulator).post(f"/regulator/enterprises/{ent.id}/limits", data={
        "limit-outlet_id": str(foreign.id), "limit-pollutant_code": "w21003", "limit-limit_value": "5",
        "limit-averaging": "daily"})
    assert r.status_code == 400 and _count(OutletLimit) == 1


def test_editing_and_removing_a_limit_is_audited(login, regulator, ent, db):
    limit_id = ent.outlets[0].limits[0].id
    client = login(regulator)
    r = client.post(f"/regulator/limits/{limit_id}/edit", data={
        "pollutant_code": "w01018", "limit_value": "50", "averaging": "daily", "unit": "mg/L"})
    assert r.status_code == 302
    assert client.post(f"/regulator/limits/{limit_id}/delete").status_code == 302
    actions = db.session.scalars(sa.select(AuditRecord.action).order_by(AuditRecord.seq)).all()
    assert actions == ["outlet_limit.update", "outlet_limit.delete"]


def test_key_unit_types_are_set_from_the_detail_page(login, regulator, ent, db):
    r = login(regulator).post(f"/regulator/enterprises/{ent.id}/key-units",
                              data={"keys-year": "2025", "keys-unit_types": ["water", "risk"]})
    assert r.status_code == 302
    assert sorted(t.value for t in db.session.get(Enterprise, ent.id).key_unit_types(2025)) == ["risk", "water"]


def test_posts_from_another_jurisdiction_change_nothing(login, far_regulator, ent):
    r = login(far_regulator).post(f"/regulator/enterprises/{ent.id}/permits", data={
        "permit-permit_no": f"{ent.uscc}002P", "permit-management_class": "key",
        "permit-valid_from": "2025-01-01", "permit-valid_to": "2030-01-01"})
    assert r.status_code == 404 and _count(Permit) == 1


def test_a_post_without_csrf_token_is_refused(app, login, regulator, ent):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = login(regulator).post(f"/regulator/enterprises/{ent.id}/permits", data={
            "permit-permit_no": f"{ent.uscc}002P", "permit-management_class": "key",
            "permit-valid_from": "2025-01-01", "permit-valid_to": "2030-01-01"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert r.status_code == 400 and _count(Permit) == 1


# --- enterprise side and proposals --------------------------------------------------------------------------------

def test_my_enterprise_needs_login(client, db):
    assert client.get("/my/enterprise").status_code == 302


def test_unbound_enterprise_user_is_pointed_to_a_binding_request(login, db):
    user = make_user(Role.ENTERPRISE_STAFF)
    r = login(user).get("/my/enterprise")
    assert r.status_code == 200 and "/my/enterprise/propose" not in r.get_data(as_text=True)


def test_bound_user_sees_own_registry_data_and_phone(login, ent):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    html = login(user).get("/my/enterprise").get_data(as_text=True)
    assert "涟水绿色化工有限公司" in html and "0517-7654321" in html


def test_regulators_do_not_have_a_my_enterprise_page(login, regulator):
    assert login(regulator).get("/my/enterprise").status_code == 403


def test_proposing_a_change_to_another_enterprises_permit_is_404(login, ent, db):
    other = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=other)
    db.session.commit()
    assert login(user).get(f"/my/enterprise/propose/permit/{ent.permits[0].id}").status_code == 404


def test_propose_then_regulator_approves_and_the_change_is_applied_and_audited(client, login, ent, regulator, db):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    permit = ent.permits[0]
    login(user)
    assert client.get(f"/my/enterprise/propose/permit/{permit.id}").status_code == 200
    r = client.post(f"/my/enterprise/propose/permit/{permit.id}", data={
        "permit_no": permit.permit_no, "management_class": "key", "valid_from": "2023-01-01",
        "valid_to": "2031-01-01", "issued_by": "淮安市生态环境局", "reason": "延续换证"})
    assert r.status_code == 302
    proposal = db.session.scalar(sa.select(ChangeProposal))
    assert proposal.status == ProposalStatus.PENDING
    html = login(regulator).get("/regulator/proposals").get_data(as_text=True)
    assert "2031-01-01" in html and "2028-01-01" in html
    assert client.post(f"/regulator/proposals/{proposal.id}/approve", data={"note": "核实"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Permit, permit.id).valid_to == date(2031, 1, 1)
    rec = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "permit.update"))
    assert rec.actor_id == regulator.id and f"#{proposal.id}" in rec.after["_note"]
    r = client.post(f"/regulator/proposals/{proposal.id}/reject", data={"note": "再驳回"}, follow_redirects=True)
    assert db.session.get(ChangeProposal, proposal.id).status == ProposalStatus.APPROVED
    assert r.status_code == 200


def test_invalid_proposal_redisplays_with_errors_and_is_not_saved(login, ent):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    r = login(user).post("/my/enterprise/propose/outlet", data={
        "code": "DQ001", "name": "新排口", "outlet_type": "main", "permit_id": "", "reason": "新建"})
    assert r.status_code == 400 and 'id="code-error"' in r.get_data(as_text=True)
    assert _count(ChangeProposal) == 0


def test_regulator_of_another_jurisdiction_cannot_decide(login, ent, far_regulator, db):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    proposal = proposals.propose_change(user, ent, "enterprise", ent.id, {"legal_rep": "王五"}, "变更")
    db.session.commit()
    client = login(far_regulator)
    assert "王五" not in client.get("/regulator/proposals").get_data(as_text=True)
    assert client.post(f"/regulator/proposals/{proposal.id}/approve", data={}).status_code == 404
    assert db.session.get(ChangeProposal, proposal.id).status == ProposalStatus.PENDING


def test_rejecting_needs_a_note_and_then_records_it(login, ent, regulator, db):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    proposal = proposals.propose_change(user, ent, "enterprise", ent.id, {"legal_rep": "王五"}, "变更")
    db.session.commit()
    client = login(regulator)
    client.post(f"/regulator/proposals/{proposal.id}/reject", data={"note": ""})
    assert db.session.get(ChangeProposal, proposal.id).status == ProposalStatus.PENDING
    client.post(f"/regulator/proposals/{proposal.id}/reject", data={"note": "材料不全"})
    db.session.expire_all()
    assert db.session.get(ChangeProposal, proposal.id).decision_note == "材料不全"
    assert db.session.get(Enterprise, ent.id).legal_rep == "张三"


REGULATOR_POSTS = ["/regulator/enterprises/new", "/regulator/enterprises/{id}/edit",
                   "/regulator/enterprises/{id}/permits", "/regulator/enterprises/{id}/outlets",
                   "/regulator/enterprises/{id}/limits", "/regulator/enterprises/{id}/key-units",
                   "/regulator/permits/{permit}/edit", "/regulator/outlets/{outlet}/edit",
                   "/regulator/limits/{limit}/edit", "/regulator/limits/{limit}/delete"]


@pytest.mark.parametrize("url", REGULATOR_POSTS)
def test_anonymous_posts_are_sent_to_login_and_write_nothing(client, ent, url):
    response = client.post(_fill(url, ent), data={"name": "x"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert _count(AuditRecord) == 0


@pytest.mark.parametrize("url", REGULATOR_POSTS)
def test_enterprise_users_cannot_post_to_regulator_pages(login, ent, url):
    user = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent)
    assert login(user).post(_fill(url, ent), data={"name": "x"}).status_code == 403
    assert _count(AuditRecord) == 0


def test_unbound_user_gets_the_binding_request_link_when_it_exists(app, login, db):
    html = login(make_user(Role.ENTERPRISE_STAFF)).get("/my/enterprise").get_data(as_text=True)
    if "auth.binding_request" in app.view_functions:
        from flask import url_for
        assert url_for("auth.binding_request") in html


def test_proposing_a_new_limit_names_the_outlet_and_applies_on_approval(client, login, ent, regulator, db):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    outlet_id = ent.outlets[0].id
    login(user)
    assert client.get("/my/enterprise/propose/outlet_limit").status_code == 200
    r = client.post("/my/enterprise/propose/outlet_limit", data={
        "outlet_id": str(outlet_id), "pollutant_code": "w21003", "limit_value": "8", "averaging": "daily",
        "reason": "新增氨氮"})
    assert r.status_code == 302
    proposal = db.session.scalar(sa.select(ChangeProposal))
    assert proposal.payload["outlet_id"] == str(outlet_id) and proposal.target_id is None
    login(regulator)
    assert client.post(f"/regulator/proposals/{proposal.id}/approve", data={"note": ""}).status_code == 302
    assert _count(OutletLimit) == 2


def test_the_enterprise_proposal_form_has_no_credit_code_field(login, ent):
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    html = login(user).get(f"/my/enterprise/propose/enterprise/{ent.id}").get_data(as_text=True)
    assert 'name="uscc"' not in html and 'name="legal_rep"' in html and 'value="张三"' in html
