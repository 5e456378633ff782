from datetime import date

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.credit import services
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource, LedgerEntry
from tests.factories import make_enterprise, make_user, make_uscc


@pytest.fixture
def world(db):
    services.seed_schemes()
    own, foreign = make_enterprise(), make_enterprise(region_code="210100")
    recorder = make_user(Role.REGULATOR)
    users = {"recorder": recorder, "colleague": make_user(Role.REGULATOR),
             "foreign_regulator": make_user(Role.REGULATOR, jurisdiction_code="2101"),
             "owner": make_user(Role.ENTERPRISE_STAFF, enterprise=own),
             "other_owner": make_user(Role.ENTERPRISE_STAFF, enterprise=foreign)}
    pending = add_evidence(enterprise_id=own.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                           source_ref="doc:1", occurred_on=date(2026, 1, 5), title="超标排放罚款", verified=False,
                           actor=recorder, document_no="淮环罚〔2026〕1号", authority="淮安市生态环境局",
                           amount_yuan=30000)
    db.session.commit()
    return own, foreign, users, pending


FORM = {"kind": "penalty", "occurred_on": "2026-02-03", "document_no": "淮环罚〔2026〕9号", "authority": "淮安市生态环境局",
        "title": "废气超标排放", "penalty_type": "fine", "amount_yuan": "60000", "legal_basis": "大气法第九十九条",
        "is_public": "y"}


def test_anonymous_users_are_sent_to_log_in_for_the_evidence_desk(client, world):
    own, *_ = world
    for url in ("/credit/regulator/evidence", f"/credit/regulator/enterprises/{own.id}/evidence/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_enterprise_users_cannot_open_the_evidence_desk(login, world):
    own, _, users, pending = world
    client = login(users["owner"])
    assert client.get("/credit/regulator/evidence").status_code == 403
    assert client.post(f"/credit/regulator/evidence/{pending.id}/confirm").status_code == 403


def test_a_regulator_of_another_jurisdiction_gets_404_and_changes_nothing(db, login, world):
    own, _, users, pending = world
    client = login(users["foreign_regulator"])
    assert client.get(f"/credit/regulator/enterprises/{own.id}/evidence/new").status_code == 404
    assert client.post(f"/credit/regulator/evidence/{pending.id}/confirm").status_code == 404
    assert client.post(f"/credit/regulator/evidence/{pending.id}/withdraw", data={"reason": "x"}).status_code == 404
    assert client.post(f"/credit/regulator/enterprises/{own.id}/evidence/new", data=FORM).status_code == 404
    db.session.refresh(pending)
    assert not pending.is_verified and pending.withdrawn_at is None
    assert "超标排放罚款" not in client.get("/credit/regulator/evidence").get_data(as_text=True)


def test_a_regulator_records_evidence_once_even_when_the_form_is_sent_twice(db, login, world):
    own, _, users, _ = world
    client = login(users["recorder"])
    assert client.get(f"/credit/regulator/enterprises/{own.id}/evidence/new").status_code == 200
    first = client.post(f"/credit/regulator/enterprises/{own.id}/evidence/new", data=FORM)
    second = client.post(f"/credit/regulator/enterprises/{own.id}/evidence/new", data=FORM)
    assert first.status_code == second.status_code == 302
    rows = db.session.scalars(sa.select(Evidence).where(Evidence.document_no == "淮环罚〔2026〕9号")).all()
    assert len(rows) == 1 and not rows[0].is_verified and rows[0].amount_yuan == 60000
    page = client.get("/credit/regulator/evidence").get_data(as_text=True)
    assert "废气超标排放" in page


def test_a_fine_without_an_amount_is_refused_with_the_field_named(db, login, world):
    own, _, users, _ = world
    client = login(users["recorder"])
    response = client.post(f"/credit/regulator/enterprises/{own.id}/evidence/new", data={**FORM, "amount_yuan": ""})
    assert response.status_code == 400
    assert 'id="amount_yuan-error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1


def test_the_evidence_desk_finds_an_enterprise_by_credit_code(login, world):
    own, foreign, users, _ = world
    client = login(users["recorder"])
    response = client.get("/credit/regulator/evidence", query_string={"uscc": own.uscc})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/enterprises/{own.id}/evidence/new")
    refused = client.get("/credit/regulator/evidence", query_string={"uscc": foreign.uscc})
    assert refused.status_code == 200


def test_a_colleague_confirms_and_the_ledger_counts_it(db, login, world):
    own, _, users, pending = world
    client = login(users["recorder"])
    client.post(f"/credit/regulator/evidence/{pending.id}/confirm")
    db.session.refresh(pending)
    assert not pending.is_verified  # four eyes
    client = login(users["colleague"])
    assert client.post(f"/credit/regulator/evidence/{pending.id}/confirm").status_code == 302
    db.session.refresh(pending)
    assert pending.is_verified
    assert db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.evidence_id == pending.id)) is not None


def test_withdrawing_evidence_needs_a_reason_and_then_it_stops_counting(db, login, world):
    own, _, users, pending = world
    client = login(users["colleague"])
    client.post(f"/credit/regulator/evidence/{pending.id}/withdraw", data={"reason": ""})
    db.session.refresh(pending)
    assert pending.withdrawn_at is None
    client.post(f"/credit/regulator/evidence/{pending.id}/withdraw", data={"reason": "处罚决定被复议撤销"})
    db.session.refresh(pending)
    assert pending.withdrawn_reason == "处罚决定被复议撤销"


def test_a_post_without_a_csrf_token_is_refused(app, db, login, world):
    own, _, users, pending = world
    client = login(users["colleague"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/credit/regulator/evidence/{pending.id}/confirm").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(pending)
    assert not pending.is_verified


def _confirm(db, pending, users):
    services.confirm_evidence(users["colleague"], pending)
    db.session.commit()


def test_the_public_page_shows_grade_and_ledger_but_not_the_what_if(client, db, world):
    own, _, users, pending = world
    _confirm(db, pending, users)
    page = client.get(f"/enterprises/{own.uscc}").get_data(as_text=True)
    assert "credit-section" in page and "badge-blue" in page and "淮环罚〔2026〕1号" in page
    assert "credit-what-if" not in page


@pytest.mark.parametrize("who, sees", [("owner", True), ("colleague", True), ("other_owner", False),
                                       ("foreign_regulator", False)])
def test_the_what_if_is_shown_to_the_enterprise_and_its_regulators_only(db, login, world, who, sees):
    own, _, users, pending = world
    _confirm(db, pending, users)
    page = login(users[who]).get(f"/enterprises/{own.uscc}").get_data(as_text=True)
    assert ("credit-what-if" in page) is sees


def test_evidence_marked_not_public_shows_no_details(client, db, world):
    own, _, users, pending = world
    pending.is_public = False
    _confirm(db, pending, users)
    page = client.get(f"/enterprises/{own.uscc}").get_data(as_text=True)
    assert "淮环罚〔2026〕1号" not in page and "credit-ledger" in page


def test_the_credit_api_returns_grade_ledger_and_history(client, db, world):
    own, _, users, pending = world
    _confirm(db, pending, users)
    body = client.get(f"/api/v1/enterprises/{own.uscc}/credit").get_json()["data"]
    assert body["grade"]["code"] in ("blue", "yellow") and body["ledger"][0]["evidence"]["id"] == pending.id
    assert body["history"]
    assert client.get("/api/v1/enterprises/123/credit").status_code == 400
    missing = client.get(f"/api/v1/enterprises/{make_uscc(987654)}/credit")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_the_scheme_page_lists_both_presets(client, world):
    page = client.get("/credit/schemes").get_data(as_text=True)
    assert "江苏省" in page and "环发〔2013〕150号" in page


def test_the_credit_report_pdf_states_the_ledger_with_a_digest(client, db, world):
    own, _, users, pending = world
    _confirm(db, pending, users)
    response = client.get(f"/enterprises/{own.uscc}/credit.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert client.get(f"/enterprises/{make_uscc(424242)}/credit.pdf").status_code == 404
    page = client.get(f"/enterprises/{own.uscc}").get_data(as_text=True)
    assert f"/enterprises/{own.uscc}/credit.pdf" in page


def test_two_reports_stating_the_same_facts_share_the_digest(db, app, world):
    from portal.credit.report import report_context

    own, _, users, pending = world
    with app.test_request_context():
        first = report_context(own)["digest"]
        assert report_context(own)["digest"] == first
        _confirm(db, pending, users)
        assert report_context(own)["digest"] != first
