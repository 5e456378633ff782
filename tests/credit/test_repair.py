"""Credit repair: eligibility (shown before applying), the state machine, services and pages."""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import repair, rules, services
from portal.credit.models import (EvaluationResult, EvaluationRun, RepairApplication, RepairStatus, RunStatus)
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user

TODAY = date(2026, 6, 1)
REPAIR = {"grades": ("yellow", "red"), "apply_within_months": 6, "notice_days": 7}


# --- pure rules ---------------------------------------------------------------------------------------------------

def _reasons(**kw):
    args = dict(grade="red", repair=REPAIR, run_final=True, finalised_on=date(2026, 3, 1), today=TODAY,
                is_vetoed=False, black_listed=False, repaired_within_year=False, has_open_application=False)
    args.update(kw)
    return rules.repair_ineligibility(**args)


@pytest.mark.parametrize("change, reasons", [
    ({}, []), ({"grade": "yellow"}, []), ({"grade": "blue"}, ["grade"]), ({"repair": {}}, ["no_repair"]),
    ({"run_final": False}, ["not_final"]), ({"finalised_on": date(2025, 11, 30)}, ["window"]),
    ({"finalised_on": date(2025, 12, 1)}, []), ({"is_vetoed": True}, ["veto"]),
    ({"black_listed": True}, ["black_list"]),
    ({"repaired_within_year": True}, ["recent_repair"]), ({"has_open_application": True}, ["open"]),
    ({"grade": "blue", "is_vetoed": True}, ["grade", "veto"]),
])
def test_repair_eligibility_lists_every_reason(change, reasons):
    assert _reasons(**change) == reasons


@pytest.mark.parametrize("grade, repaired", [("red", "yellow"), ("yellow", "blue"), ("black", "red")])
def test_repair_raises_one_level(grade, repaired):
    assert rules.repaired_grade(["green", "blue", "yellow", "red", "black"], grade) == repaired


@pytest.mark.parametrize("current, target, allowed", [
    (RepairStatus.APPLIED, RepairStatus.VERIFYING, True), (RepairStatus.APPLIED, RepairStatus.RETURNED, True),
    (RepairStatus.RETURNED, RepairStatus.APPLIED, True), (RepairStatus.APPLIED, RepairStatus.REPAIRED, False),
    (RepairStatus.VERIFYING, RepairStatus.PUBLIC_NOTICE, True), (RepairStatus.VERIFYING, RepairStatus.REJECTED, True),
    (RepairStatus.PUBLIC_NOTICE, RepairStatus.VERIFYING, True),
    (RepairStatus.PUBLIC_NOTICE, RepairStatus.REPAIRED, True),
    (RepairStatus.REPAIRED, RepairStatus.VERIFYING, False), (RepairStatus.REJECTED, RepairStatus.APPLIED, False),
])
def test_repair_transitions(current, target, allowed):
    assert rules.can_transition_repair(current, target) is allowed


def test_the_jiangsu_scheme_has_no_application_based_repair():
    from portal.credit import presets, scoring

    assert scoring.parse_rules(presets.JIANGSU_12).repair == {}
    assert scoring.parse_rules(presets.NATIONAL_2013).repair["notice_days"] == 7


# --- services and pages -------------------------------------------------------------------------------------------

@pytest.fixture
def setup(db):
    services.seed_schemes()
    ent = make_enterprise(region_code="210100")
    version = services.version_for_region("210100")
    run = EvaluationRun(year=china_today().year - 1, jurisdiction_prefix="2101", status=RunStatus.FINAL,
                        computed_at=datetime.now(timezone.utc), finalised_at=datetime.now(timezone.utc))
    db.session.add(run)
    db.session.flush()
    result = EvaluationResult(run_id=run.id, enterprise_id=ent.id, scheme_version_id=version.id, score=55,
                              grade="red", explanation=[])
    db.session.add(result)
    users = {"owner": make_user(Role.ENTERPRISE_STAFF, enterprise=ent),
             "regulator": make_user(Role.REGULATOR, jurisdiction_code="2101"),
             "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101"),
             "outsider": make_user(Role.REGULATOR, jurisdiction_code="3208")}
    db.session.commit()
    return {"ent": ent, "result": result, "run": run, **users}


def test_a_red_result_is_repaired_to_yellow_after_verification_and_notice(db, setup):
    result = setup["result"]
    assert repair.ineligibility(result) == []
    with pytest.raises(ValidationFailed) as err:
        repair.apply(setup["owner"], result, "", "", False)
    assert set(err.value.errors) == {"rectification", "commitment"}
    app = repair.apply(setup["owner"], result, "罚款已缴纳，治理设施已改造。", "缴款凭证 No.123", True)
    assert (app.from_grade, app.to_grade) == ("red", "yellow")
    assert repair.ineligibility(result) == ["open"]
    with pytest.raises(NotAllowed):
        repair.act(setup["outsider"], app, "accept", "")
    with pytest.raises(ValidationFailed):
        repair.act(setup["regulator"], app, "return", "")
    repair.act(setup["regulator"], app, "return", "请补充整改验收报告")
    repair.resubmit(setup["owner"], app, "罚款已缴纳，治理设施已改造并通过验收。", "验收报告")
    repair.act(setup["regulator"], app, "accept", "")
    repair.act(setup["regulator"], app, "pass", "现场核查整改到位")
    assert app.status == RepairStatus.PUBLIC_NOTICE and app.notice_ends_on == china_today() + timedelta(days=6)
    with pytest.raises(NotAllowed):
        repair.act(setup["regulator"], app, "repair", "")
    with pytest.raises(InvalidTransition):
        repair.act(setup["lead"], app, "repair", "")  # notice still running
    app.notice_ends_on = china_today() - timedelta(days=1)
    repair.act(setup["lead"], app, "repair", "公示无异议，予以修复")
    assert app.status == RepairStatus.REPAIRED
    assert (result.grade, result.revision) == ("yellow", 2)
    assert "recent_repair" in repair.ineligibility(result)


def test_a_valid_objection_during_notice_sends_it_back_to_verification(db, setup):
    app = repair.apply(setup["owner"], setup["result"], "已整改", "", True)
    repair.act(setup["regulator"], app, "accept", "")
    repair.act(setup["regulator"], app, "pass", "")
    repair.act(setup["regulator"], app, "reopen", "收到举报：整改后仍有偷排")
    assert app.status == RepairStatus.VERIFYING
    repair.act(setup["regulator"], app, "reject", "复查发现仍有违法排污")
    assert app.status == RepairStatus.REJECTED and setup["result"].grade == "red"


def test_only_the_enterprise_itself_applies(db, setup):
    stranger = make_user(Role.ENTERPRISE_STAFF, enterprise=make_enterprise())
    with pytest.raises(NotAllowed):
        repair.apply(stranger, setup["result"], "x", "", True)


def test_the_repair_pages(db, login, client, setup):
    result = setup["result"]
    owner = login(setup["owner"])
    mine = owner.get("/credit/my").get_data(as_text=True)
    assert f"/credit/my/results/{result.id}/repair" in mine
    assert owner.post(f"/credit/my/results/{result.id}/repair", data={"rectification": ""}).status_code == 400
    assert owner.post(f"/credit/my/results/{result.id}/repair",
                      data={"rectification": "已整改", "commitment": "y"}).status_code == 302
    app = db.session.scalar(sa.select(RepairApplication))
    regulator = login(setup["regulator"])
    assert "已整改" in regulator.get("/credit/regulator/repairs").get_data(as_text=True)
    regulator.post(f"/credit/regulator/repairs/{app.id}", data={"action": "accept"})
    regulator.post(f"/credit/regulator/repairs/{app.id}", data={"action": "pass", "note": "核查通过"})
    db.session.refresh(app)
    assert app.status == RepairStatus.PUBLIC_NOTICE
    assert setup["ent"].name in client.get("/credit/repairs").get_data(as_text=True)
    outsider = login(setup["outsider"])
    refused = outsider.post(f"/credit/regulator/repairs/{app.id}", data={"action": "reopen", "note": "x"})
    assert refused.status_code == 404
    other = login(make_user(Role.ENTERPRISE_STAFF, enterprise=make_enterprise()))
    assert other.get(f"/credit/my/results/{result.id}/repair").status_code == 404
