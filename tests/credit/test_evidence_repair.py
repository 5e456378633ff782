"""Repair of one evidence item: eligibility, the ledger (the item stops counting, details no longer published), and
automatic removal of the black listing whose reason it was — audited and reflected on the public lists and API."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import evidence_repair, lists, repair, rules, scoring, services
from portal.credit.evidence import add_evidence
from portal.credit.models import (CreditListEntry, CreditStanding, EvidenceKind, EvidenceSource, LedgerEntry,
                                  ListKind, ListStatus, RepairApplication, RepairStatus)
from portal.errors import InvalidTransition, NotAllowed
from tests.factories import make_enterprise, make_user

TODAY = date(2026, 6, 1)
MIN = {"general": 3, "serious": 12}


# --- pure rules ---------------------------------------------------------------------------------------------------

def _reasons(**kw):
    args = dict(scoring=True, repaired=False, deducts=True, serious=False, decided_on=date(2026, 3, 1), today=TODAY,
                min_months=MIN, list_min_until=None, has_open_application=False)
    args.update(kw)
    return rules.evidence_repair_ineligibility(**args)


@pytest.mark.parametrize("change, reasons", [
    ({}, []), ({"decided_on": date(2026, 3, 2)}, ["min_period"]),
    ({"serious": True}, ["min_period"]), ({"serious": True, "decided_on": date(2025, 6, 1)}, []),
    ({"repaired": True}, ["repaired"]), ({"scoring": False}, ["not_scoring"]), ({"deducts": False}, ["no_deduction"]),
    ({"list_min_until": TODAY + timedelta(days=1)}, ["list_min_period"]), ({"list_min_until": TODAY}, []),
    ({"has_open_application": True}, ["open"]),
])
def test_evidence_repair_eligibility_lists_every_reason(change, reasons):
    assert _reasons(**change) == reasons


@pytest.mark.parametrize("entry_evidence, basis, still_vetoed, ended", [
    (7, "veto", False, True), (8, "veto", False, False), (7, "proposal", True, True),
    (None, "veto", False, True), (None, "veto", True, False), (None, "bad_twice", False, False),
])
def test_a_listing_ends_only_when_its_own_reason_is_repaired(entry_evidence, basis, still_vetoed, ended):
    assert rules.listing_ended_by_repair(entry_evidence, basis, 7, still_vetoed) is ended


def test_a_repaired_fact_stops_counting_on_its_repair_date_but_stays_in_the_ledger():
    scheme = scoring.parse_rules(services.presets.NATIONAL_2013)
    fact = scoring.Fact(1, "criminal", date(2026, 1, 10), repaired_on=date(2026, 3, 1))
    [entry] = scoring.ledger(scheme, [fact])
    assert (entry.counts_from, entry.expires_on, entry.is_veto) == (date(2026, 1, 10), date(2026, 3, 1), True)
    assert scoring.standing_on(scheme, [entry], date(2026, 2, 28)).is_vetoed
    after = scoring.standing_on(scheme, [entry], date(2026, 3, 1))
    assert (after.score, after.grade, after.is_vetoed) == (100, "green", False)
    late = scoring.Fact(1, "penalty", date(2025, 1, 10), 1000, repaired_on=date(2026, 3, 1))
    assert scoring.ledger(scheme, [late])[0].expires_on == date(2026, 1, 10)  # natural expiry came first


# --- services and pages -------------------------------------------------------------------------------------------

@pytest.fixture
def setup(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "CREDIT_REPAIR_MIN_MONTHS", {"general": 3, "serious": 6})
    monkeypatch.setitem(app.config, "CREDIT_BLACKLIST_MIN_MONTHS", 0)
    services.seed_schemes()
    ent = make_enterprise(region_code="210100")
    users = {"owner": make_user(Role.ENTERPRISE_STAFF, enterprise=ent),
             "regulator": make_user(Role.REGULATOR, jurisdiction_code="2101"),
             "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101")}
    crime = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.CRIMINAL, source=EvidenceSource.REGULATOR,
                         source_ref="judgment:1", occurred_on=china_today() - timedelta(days=200),
                         title="刑事判决：非法排放危险废物", verified=True, document_no="沈刑初〔2025〕9号",
                         authority="沈阳市中级人民法院")
    fine = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                        source_ref="fine:1", occurred_on=china_today() - timedelta(days=100), title="罚款 2 万元",
                        verified=True, document_no="沈环罚〔2026〕1号", amount_yuan=20000)
    db.session.commit()
    return {"ent": ent, "crime": crime, "fine": fine, **users}


def _list_black(setup):
    lists.find_candidates(setup["lead"], "2101")
    entry = lists.active_entry(setup["ent"].id, ListKind.BLACK)
    lists.send_prior_notice(setup["lead"], entry)
    lists.submit_statement(setup["owner"], entry, "无异议")
    lists.decide(setup["lead"], entry, True, "构成环境犯罪，列入严重失信名单")
    return entry


def _grant(setup, application):
    repair.act(setup["regulator"], application, "accept", "")
    repair.act(setup["regulator"], application, "pass", "现场核查：危废已合规处置")
    application.notice_ends_on = china_today() - timedelta(days=1)
    repair.act(setup["lead"], application, "repair", "公示无异议，予以修复")


def test_repairing_the_veto_evidence_removes_the_black_listing_and_updates_ledger_and_lists(db, setup, client):
    ent, crime = setup["ent"], setup["crime"]
    entry = _list_black(setup)
    assert entry.status == ListStatus.LISTED and entry.evidence_id == crime.id
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    assert standing.is_vetoed and standing.grade == "red"
    assert evidence_repair.ineligibility(crime) == []
    # National 2013 by weighted indicators: the crime is a veto (red); without it the fine alone still zeroes
    # 行政处罚与行政命令 (15 %): 100 − 15 = 85, blue.
    assert evidence_repair.projected_grades(crime) == ("red", "blue")

    application = evidence_repair.apply(setup["owner"], crime, "危废已交有资质单位处置，罚金已缴纳。", "缴款凭证", True)
    assert (application.evidence_id, application.result_id) == (crime.id, None)
    assert [code for code, _ in evidence_repair.ineligibility(crime)] == ["open"]
    _grant(setup, application)
    db.session.commit()

    assert application.status == RepairStatus.REPAIRED and crime.repaired_on == china_today()
    line = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.evidence_id == crime.id))
    assert line is not None and line.expires_on == china_today()  # kept on record, no longer counting
    db.session.refresh(standing)
    assert not standing.is_vetoed and (standing.score, standing.grade) == (85, "blue")  # recomputed at once
    assert entry.status == ListStatus.REMOVED and entry.end_reason == "repaired" and entry.ended_on == china_today()
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "credit_list.repaired"))
    assert audit is not None and audit.object_id == str(entry.id)
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "evidence.repair")) is not None

    black = client.get("/credit/lists/black").get_data(as_text=True)
    listed_table, _, ended_table = black.partition("list-ended")
    assert ent.uscc not in listed_table and ent.uscc in ended_table
    assert "removed after credit repair" in ended_table or "信用修复" in ended_table
    assert all(item["uscc"] != ent.uscc for item in client.get("/api/v1/lists/black").get_json()["data"])
    ledger = client.get(f"/api/v1/enterprises/{ent.uscc}/credit").get_json()["data"]["ledger"]
    repaired = next(item for item in ledger if item["evidence"]["id"] == crime.id)
    assert repaired["evidence"]["repaired_on"] == china_today().isoformat()
    assert repaired["evidence"]["title"] is None and not repaired["counting"]
    assert "非法排放危险废物" not in client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)


def test_repairing_another_item_leaves_the_listing(db, setup):
    entry = _list_black(setup)
    application = evidence_repair.apply(setup["owner"], setup["fine"], "罚款已缴纳", "", True)
    with pytest.raises(InvalidTransition):
        evidence_repair.apply(setup["owner"], setup["fine"], "again", "", True)
    _grant(setup, application)
    assert setup["fine"].repaired_on == china_today()
    assert entry.status == ListStatus.LISTED and entry.end_reason == ""


def test_a_candidate_whose_reason_is_repaired_is_not_listed(db, setup):
    lists.find_candidates(setup["lead"], "2101")
    entry = lists.active_entry(setup["ent"].id, ListKind.BLACK)
    _grant(setup, evidence_repair.apply(setup["owner"], setup["crime"], "已整改", "", True))
    assert entry.status == ListStatus.REJECTED and entry.end_reason == "repaired"


def test_eligibility_is_computed_before_applying(db, setup, app, monkeypatch):
    monkeypatch.setitem(app.config, "CREDIT_REPAIR_MIN_MONTHS", {"general": 3, "serious": 12})
    reasons = evidence_repair.ineligibility(setup["crime"])
    earliest = rules.evidence_repair_earliest(setup["crime"].occurred_on, True, {"general": 3, "serious": 12})
    assert reasons == [("min_period", earliest)]
    assert earliest.isoformat() in evidence_repair.messages(reasons)[0]
    with pytest.raises(InvalidTransition):
        evidence_repair.apply(setup["owner"], setup["crime"], "已整改", "", True)
    monkeypatch.setitem(app.config, "CREDIT_BLACKLIST_MIN_MONTHS", 12)
    monkeypatch.setitem(app.config, "CREDIT_REPAIR_MIN_MONTHS", {"general": 3, "serious": 6})
    entry = _list_black(setup)
    assert evidence_repair.ineligibility(setup["crime"]) == [("list_min_period", entry.min_until)]
    unverified = add_evidence(enterprise_id=setup["ent"].id, kind=EvidenceKind.PENALTY,
                              source=EvidenceSource.REGULATOR, source_ref="fine:2",
                              occurred_on=china_today() - timedelta(days=200), title="罚款", verified=False)
    assert [c for c, _ in evidence_repair.ineligibility(unverified)] == ["not_scoring"]
    stranger = make_user(Role.ENTERPRISE_STAFF, enterprise=make_enterprise())
    with pytest.raises(NotAllowed):
        evidence_repair.apply(stranger, setup["fine"], "x", "", True)


def test_the_evidence_repair_pages(db, login, client, setup):
    fine = setup["fine"]
    owner = login(setup["owner"])
    mine = owner.get("/credit/my").get_data(as_text=True)
    assert f"/credit/my/evidence/{fine.id}/repair" in mine and "沈刑初〔2025〕9号" in mine
    assert owner.post(f"/credit/my/evidence/{fine.id}/repair", data={"rectification": ""}).status_code == 400
    assert owner.post(f"/credit/my/evidence/{fine.id}/repair",
                      data={"rectification": "罚款已缴纳", "commitment": "y"}).status_code == 302
    application = db.session.scalar(sa.select(RepairApplication))
    assert application.evidence_id == fine.id
    regulator = login(setup["regulator"])
    desk = regulator.get("/credit/regulator/repairs").get_data(as_text=True)
    assert "沈环罚〔2026〕1号" in desk
    regulator.post(f"/credit/regulator/repairs/{application.id}", data={"action": "accept"})
    regulator.post(f"/credit/regulator/repairs/{application.id}", data={"action": "pass", "note": "核查通过"})
    assert setup["ent"].name in client.get("/credit/repairs").get_data(as_text=True)
    other = login(make_user(Role.ENTERPRISE_STAFF, enterprise=make_enterprise()))
    assert other.get(f"/credit/my/evidence/{fine.id}/repair").status_code == 404
