"""Black and white lists: rules, the state machine, services, pages, the expiry job and the API."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import lists, rules, services
from portal.credit.evidence import add_evidence
from portal.credit.models import (CreditListEntry, EvaluationResult, EvaluationRun, EvidenceKind, EvidenceSource,
                                  ListKind,
                                  ListStatus, RunStatus)
from portal.db import utcnow
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from portal.mail.models import OutboxMessage
from tests.factories import make_enterprise, make_user

TODAY = date(2026, 6, 1)
MONTHS = {"black_min": 12, "black_max": 36, "white_max": 12}


# --- pure rules ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("vetoed, grades, basis", [
    (True, [], "veto"), (False, ["red", "red"], "bad_twice"), (False, ["black", "red", "green"], "bad_twice"),
    (False, ["red", "yellow"], None), (False, ["yellow", "red"], None), (False, ["red"], None), (False, [], None),
])
def test_black_list_candidates(vetoed, grades, basis):
    assert rules.black_list_basis(vetoed, grades) == basis


@pytest.mark.parametrize("grade, grades, deductions, basis", [
    ("green", ["green", "green"], 0, "green_twice"), ("green", ["green", "green"], 1, None),
    ("blue", ["green", "green"], 0, None), ("green", ["green", "blue"], 0, None), ("green", ["green"], 0, None),
])
def test_white_list_candidates(grade, grades, deductions, basis):
    assert rules.white_list_basis(grade, grades, deductions) == basis


@pytest.mark.parametrize("current, target, allowed", [
    (ListStatus.CANDIDATE, ListStatus.PRIOR_NOTICE, True), (ListStatus.CANDIDATE, ListStatus.LISTED, False),
    (ListStatus.PRIOR_NOTICE, ListStatus.LISTED, True), (ListStatus.PRIOR_NOTICE, ListStatus.REJECTED, True),
    (ListStatus.LISTED, ListStatus.REMOVED, True), (ListStatus.LISTED, ListStatus.EXPIRED, True),
    (ListStatus.LISTED, ListStatus.REVOKED, True), (ListStatus.REMOVED, ListStatus.LISTED, False),
    (ListStatus.EXPIRED, ListStatus.LISTED, False), (ListStatus.REJECTED, ListStatus.PRIOR_NOTICE, False),
])
def test_list_transitions(current, target, allowed):
    assert rules.can_transition_list(current, target) is allowed


def test_a_black_listing_lasts_at_least_one_and_at_most_three_years():
    assert rules.listing_period(ListKind.BLACK, TODAY, MONTHS) == (date(2027, 6, 1), date(2029, 6, 1))
    assert rules.listing_period(ListKind.WHITE, TODAY, MONTHS) == (None, date(2027, 6, 1))


@pytest.mark.parametrize("due, statement, refusal", [
    (TODAY, False, "statement_pending"), (TODAY, True, None), (TODAY - timedelta(days=1), False, None)])
def test_the_lead_decides_after_the_enterprise_had_its_say(due, statement, refusal):
    assert rules.decision_refusal(ListStatus.PRIOR_NOTICE, due, statement, TODAY) == refusal
    assert rules.decision_refusal(ListStatus.CANDIDATE, due, statement, TODAY) == "status"


def test_removal_waits_for_the_minimum_period():
    assert rules.removal_refusal(ListStatus.LISTED, TODAY + timedelta(days=1), TODAY) == "min_period"
    assert rules.removal_refusal(ListStatus.LISTED, TODAY, TODAY) is None
    assert rules.removal_refusal(ListStatus.REMOVED, None, TODAY) == "status"


# --- services -----------------------------------------------------------------------------------------------------

@pytest.fixture
def setup(db):
    services.seed_schemes()
    vetoed = make_enterprise(region_code="210100")
    clean = make_enterprise(region_code="210100")
    add_evidence(enterprise_id=vetoed.id, kind=EvidenceKind.CRIMINAL, source=EvidenceSource.REGULATOR,
                 source_ref="court:1", occurred_on=china_today() - timedelta(days=30), title="污染环境罪判决",
                 verified=True, document_no="（2026）辽0102刑初1号", authority="沈阳市和平区人民法院")
    for year in (china_today().year - 2, china_today().year - 1):
        run = EvaluationRun(year=year, jurisdiction_prefix="2101", status=RunStatus.FINAL, computed_at=utcnow())
        db.session.add(run)
        db.session.flush()
        version = services.version_for_region("210100")
        db.session.add(EvaluationResult(run_id=run.id, enterprise_id=clean.id, scheme_version_id=version.id,
                                        score=100, grade="green"))
    db.session.flush()
    services.recompute_enterprise(clean.id)  # a finalised run is the enterprise's standing (credit.standing)
    users = {"regulator": make_user(Role.REGULATOR, jurisdiction_code="2101"),
             "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101"),
             "outsider": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
             "owner": make_user(Role.ENTERPRISE_STAFF, enterprise=vetoed)}
    db.session.commit()
    return {"vetoed": vetoed, "clean": clean, **users}


def test_the_rules_find_a_black_candidate_for_a_veto_and_a_white_one_for_green_twice(db, setup):
    assert lists.find_candidates(setup["regulator"], "2101") == 2
    entries = {(e.enterprise_id, e.kind, e.basis) for e in db.session.scalars(sa.select(CreditListEntry))}
    assert entries == {(setup["vetoed"].id, ListKind.BLACK, "veto"), (setup["clean"].id, ListKind.WHITE, "green_twice")}
    assert lists.find_candidates(setup["regulator"], "2101") == 0  # once


def test_the_black_list_cycle_notice_statement_decision_removal(db, setup):
    lists.find_candidates(setup["regulator"], "2101")
    entry = lists.active_entry(setup["vetoed"].id, ListKind.BLACK)
    with pytest.raises(InvalidTransition):
        lists.decide(setup["lead"], entry, True, "不经告知不得列入")
    lists.send_prior_notice(setup["regulator"], entry)
    assert entry.status == ListStatus.PRIOR_NOTICE and entry.statement_due_on > china_today()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    with pytest.raises(InvalidTransition):
        lists.decide(setup["lead"], entry, True, "期限未满")
    with pytest.raises(NotAllowed):
        lists.submit_statement(make_user(Role.ENTERPRISE_STAFF, enterprise=setup["clean"]), entry, "不是我们")
    lists.submit_statement(setup["owner"], entry, "已整改，请求不予列入。")
    with pytest.raises(NotAllowed):
        lists.decide(setup["regulator"], entry, True, "普通监管人员不能决定")
    with pytest.raises(NotAllowed):
        lists.decide(setup["outsider"], entry, True, "辖区外")
    with pytest.raises(ValidationFailed):
        lists.decide(setup["lead"], entry, True, " ")
    lists.decide(setup["lead"], entry, True, "构成环境犯罪，列入严重失信名单。")
    assert entry.status == ListStatus.LISTED and entry.listed_on == china_today()
    assert [e.id for e in lists.listed(ListKind.BLACK)] == [entry.id]
    with pytest.raises(InvalidTransition):
        lists.end_listing(setup["lead"], entry, False, "已修复")  # minimum period not reached
    lists.end_listing(setup["lead"], entry, True, "判决经再审撤销")
    assert entry.status == ListStatus.REVOKED and lists.listed(ListKind.BLACK) == []


def test_a_proposal_needs_a_reason_and_only_one_active_entry_per_list(db, setup):
    with pytest.raises(ValidationFailed):
        lists.propose(setup["regulator"], setup["clean"], ListKind.WHITE, "")
    lists.propose(setup["regulator"], setup["clean"], ListKind.WHITE, "民生保障企业，在线监测联网稳定达标")
    with pytest.raises(Conflict):
        lists.propose(setup["regulator"], setup["clean"], ListKind.WHITE, "再次提议")
    with pytest.raises(NotAllowed):
        lists.propose(setup["outsider"], setup["clean"], ListKind.WHITE, "辖区外")


def test_the_expiry_job_ends_listings_past_their_maximum(db, setup):
    entry = CreditListEntry(enterprise_id=setup["vetoed"].id, kind=ListKind.BLACK, status=ListStatus.LISTED,
                            basis="veto", reason="x",
                            listed_on=date(2020, 1, 1), min_until=date(2021, 1, 1), max_until=date(2023, 1, 1))
    db.session.add(entry)
    db.session.flush()
    assert lists.expire_listings() == 1
    assert entry.status == ListStatus.EXPIRED and entry.ended_on == china_today()
    assert lists.expire_listings() == 0


def test_a_listing_past_its_minimum_can_be_removed(db, setup):
    entry = CreditListEntry(enterprise_id=setup["vetoed"].id, kind=ListKind.BLACK, status=ListStatus.LISTED,
                            basis="veto", reason="x",
                            listed_on=date(2024, 1, 1), min_until=date(2025, 1, 1),
                      max_until=china_today() + timedelta(days=300))
    db.session.add(entry)
    db.session.flush()
    lists.end_listing(setup["lead"], entry, False, "信用修复完成")
    assert entry.status == ListStatus.REMOVED


# --- pages and API ------------------------------------------------------------------------------------------------

def test_the_list_pages_from_candidate_to_public_listing(db, login, client, setup):
    page = login(setup["regulator"])
    assert page.get("/credit/regulator/lists").status_code == 200
    page.post("/credit/regulator/lists/candidates")
    entry = lists.active_entry(setup["vetoed"].id, ListKind.BLACK)
    page.post(f"/credit/regulator/lists/{entry.id}/notice")
    db.session.refresh(entry)
    assert entry.status == ListStatus.PRIOR_NOTICE

    owner = login(setup["owner"])
    assert f"/credit/my/lists/{entry.id}/statement" in owner.get("/credit/my").get_data(as_text=True)
    assert owner.post(f"/credit/my/lists/{entry.id}/statement", data={"statement": ""}).status_code == 400
    assert owner.post(f"/credit/my/lists/{entry.id}/statement", data={"statement": "已整改"}).status_code == 302

    assert login(setup["regulator"]).post(f"/credit/regulator/lists/{entry.id}/decide",
                                          data={"decision": "list", "note": "列入"}).status_code == 403
    lead = login(setup["lead"])
    lead.post(f"/credit/regulator/lists/{entry.id}/decide", data={"decision": "list", "note": "构成环境犯罪"})
    db.session.refresh(entry)
    assert entry.status == ListStatus.LISTED
    public = client.get("/credit/lists/black").get_data(as_text=True)
    assert setup["vetoed"].uscc in public and "构成环境犯罪" in public
    assert setup["vetoed"].uscc not in client.get("/credit/lists/white").get_data(as_text=True)
    body = client.get("/api/v1/lists/black").get_json()
    assert body["data"][0]["uscc"] == setup["vetoed"].uscc and body["data"][0]["expires_on"]
    assert client.get("/api/v1/lists/white").get_json() == {"data": []}
    assert entry.reason in client.get(f"/enterprises/{setup['vetoed'].uscc}").get_data(as_text=True)


def test_a_regulator_elsewhere_cannot_touch_the_entry(db, login, setup):
    lists.find_candidates(setup["regulator"], "2101")
    entry = lists.active_entry(setup["vetoed"].id, ListKind.BLACK)
    db.session.commit()
    page = login(setup["outsider"])
    for action in ("notice", "decide", "end"):
        assert page.post(f"/credit/regulator/lists/{entry.id}/{action}").status_code == 404
    assert setup["vetoed"].name not in page.get("/credit/regulator/lists").get_data(as_text=True)
    other_owner = login(make_user(Role.ENTERPRISE_STAFF, enterprise=setup["clean"]))
    assert other_owner.get(f"/credit/my/lists/{entry.id}/statement").status_code == 404
