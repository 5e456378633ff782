"""Evaluation runs: the state machine (pure), the services, the pages, and an objection from filing to answer."""
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import evaluation, rules, services
from portal.credit.evidence import add_evidence, withdraw_evidence
from portal.credit.models import (EvaluationResult, EvaluationRun, EvidenceKind, EvidenceSource, Objection,
                                  ObjectionStatus, RunStatus)
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user

TODAY = date(2026, 6, 1)


# --- pure state machine -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("current, target, allowed", [
    (RunStatus.COMPUTED, RunStatus.COMPUTED, True), (RunStatus.COMPUTED, RunStatus.PUBLIC_NOTICE, True),
    (RunStatus.COMPUTED, RunStatus.FINAL, False), (RunStatus.PUBLIC_NOTICE, RunStatus.FINAL, True),
    (RunStatus.PUBLIC_NOTICE, RunStatus.COMPUTED, False), (RunStatus.FINAL, RunStatus.PUBLIC_NOTICE, False),
    (RunStatus.FINAL, RunStatus.COMPUTED, False),
])
def test_run_transitions(current, target, allowed):
    assert rules.can_transition_run(current, target) is allowed


def test_a_15_day_notice_starting_on_1_june_takes_objections_until_15_june():
    assert rules.notice_period(TODAY, 15) == (TODAY, date(2026, 6, 15))


@pytest.mark.parametrize("status, ends, open_count, refusal", [
    (RunStatus.COMPUTED, None, 0, "status"),
    (RunStatus.PUBLIC_NOTICE, TODAY, 0, "notice_running"),
    (RunStatus.PUBLIC_NOTICE, TODAY - timedelta(days=1), 1, "open_objections"),
    (RunStatus.PUBLIC_NOTICE, TODAY - timedelta(days=1), 0, None),
    (RunStatus.FINAL, TODAY - timedelta(days=1), 0, "status"),
])
def test_a_run_is_finalised_only_after_the_notice_with_every_objection_answered(status, ends, open_count, refusal):
    assert rules.finalise_refusal(status, ends, TODAY, open_count) == refusal


@pytest.mark.parametrize("status, ends, has_open, refusal", [
    (RunStatus.PUBLIC_NOTICE, TODAY, False, None),
    (RunStatus.PUBLIC_NOTICE, TODAY - timedelta(days=1), False, "closed"),
    (RunStatus.COMPUTED, None, False, "closed"), (RunStatus.FINAL, TODAY, False, "closed"),
    (RunStatus.PUBLIC_NOTICE, TODAY, True, "open"),
])
def test_objections_are_taken_during_the_notice_one_open_at_a_time(status, ends, has_open, refusal):
    assert rules.objection_refusal(status, ends, TODAY, has_open) == refusal


@pytest.mark.parametrize("role, jurisdiction, prefix, manage, finalise", [
    (Role.REGULATOR, "3208", "320826", True, False), (Role.REGULATOR_LEAD, "3208", "3208", True, True),
    (Role.REGULATOR_LEAD, "320826", "3208", False, False), (Role.REGULATOR_LEAD, "3208", "", False, False),
    (Role.ENTERPRISE_STAFF, None, "3208", False, False),
])
def test_who_manages_and_who_finalises_a_run(role, jurisdiction, prefix, manage, finalise):
    assert rules.can_manage_run(role, jurisdiction, prefix) is manage
    assert rules.can_finalise_run(role, jurisdiction, prefix) is finalise


# --- services -----------------------------------------------------------------------------------------------------

@pytest.fixture
def setup(db):
    services.seed_schemes()
    clean, fined = make_enterprise(), make_enterprise()
    far = make_enterprise(region_code="210100")
    last_year = china_today().year - 1
    evidence = add_evidence(enterprise_id=fined.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                            source_ref="doc:9", occurred_on=date(last_year, 11, 1), title="罚款", verified=True,
                            amount_yuan=30000, document_no="淮环罚9号", authority="淮安市生态环境局")
    users = {"regulator": make_user(Role.REGULATOR), "lead": make_user(Role.REGULATOR_LEAD),
             "owner": make_user(Role.ENTERPRISE_STAFF, enterprise=fined),
             "other": make_user(Role.ENTERPRISE_STAFF, enterprise=clean)}
    db.session.commit()
    return {"clean": clean, "fined": fined, "far": far, "evidence": evidence, "year": last_year, **users}


def _result(run, ent):
    return next(r for r in run.results if r.enterprise_id == ent.id)


def test_a_run_computes_each_enterprise_on_31_december_under_its_scheme(db, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    assert {r.enterprise_id for r in run.results} == {setup["clean"].id, setup["fined"].id}
    assert (_result(run, setup["clean"]).grade, _result(run, setup["clean"]).score) == ("blue", 9)
    fined = _result(run, setup["fined"])
    assert (fined.score, fined.grade) == (6, "blue")
    assert fined.explanation[0]["evidence_id"] == setup["evidence"].id
    again = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    assert again.id == run.id and len(again.results) == 2


def test_an_unfinished_year_cannot_be_evaluated(db, setup):
    with pytest.raises(ValidationFailed):
        evaluation.compute_run(china_today().year, "3208")


def test_the_full_cycle_notice_objection_sustained_recompute_finalise(db, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    evaluation.start_notice(run, setup["regulator"], 15)
    assert run.status == RunStatus.PUBLIC_NOTICE and run.notice_ends_on == china_today() + timedelta(days=14)
    with pytest.raises(InvalidTransition):
        evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    result = _result(run, setup["fined"])
    with pytest.raises(NotAllowed):
        evaluation.file_objection(setup["other"], result, "不是我们的", "")
    objection = evaluation.file_objection(setup["owner"], result, "处罚决定已被复议撤销", "复议决定书 淮复〔2026〕1号")
    with pytest.raises(InvalidTransition):
        evaluation.file_objection(setup["owner"], result, "再次异议", "")
    with pytest.raises(InvalidTransition):
        evaluation.finalise_run(run, setup["lead"])  # notice running, objection open
    withdraw_evidence(setup["evidence"], setup["regulator"], "复议撤销")  # two people withdraw confirmed evidence
    withdraw_evidence(setup["evidence"], setup["lead"], "复议撤销")
    evaluation.answer_objection(setup["regulator"], objection, True, "经核实，处罚决定已撤销，重新计算。")
    assert objection.status == ObjectionStatus.SUSTAINED
    assert (result.score, result.grade, result.revision) == (9, "blue", 2)
    run.notice_ends_on = china_today() - timedelta(days=1)
    with pytest.raises(NotAllowed):
        evaluation.finalise_run(run, setup["regulator"])
    evaluation.finalise_run(run, setup["lead"])
    assert run.status == RunStatus.FINAL
    with pytest.raises(InvalidTransition):
        evaluation.file_objection(setup["owner"], result, "晚了", "")


def test_a_dismissed_objection_leaves_the_result(db, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    evaluation.start_notice(run, setup["regulator"])
    result = _result(run, setup["fined"])
    objection = evaluation.file_objection(setup["owner"], result, "罚款太重", "")
    with pytest.raises(ValidationFailed):
        evaluation.answer_objection(setup["regulator"], objection, False, " ")
    evaluation.answer_objection(setup["regulator"], objection, False, "处罚合法有效，维持。")
    assert (objection.status, result.score, result.revision) == (ObjectionStatus.DISMISSED, 6, 1)
    with pytest.raises(InvalidTransition):
        evaluation.answer_objection(setup["regulator"], objection, True, "改判")


def test_a_notice_period_outside_7_to_30_days_is_refused(db, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    with pytest.raises(ValidationFailed):
        evaluation.start_notice(run, setup["regulator"], 3)
    assert run.status == RunStatus.COMPUTED


def test_a_notice_given_in_the_past_ends_in_the_past_and_the_run_can_be_finalised(db, setup):
    """The demo's run held last year: its notice starts on a past day after the period, never before or ahead."""
    run = evaluation.compute_run(setup["year"] - 1, "3208", setup["regulator"])
    for bad in (date(setup["year"] - 1, 12, 31), china_today() + timedelta(days=1)):
        with pytest.raises(ValueError):
            evaluation.start_notice(run, setup["lead"], 15, starts_on=bad)
    assert run.status == RunStatus.COMPUTED
    evaluation.start_notice(run, setup["lead"], 15, starts_on=date(setup["year"], 1, 15))
    assert (run.notice_starts_on, run.notice_ends_on) == (date(setup["year"], 1, 15), date(setup["year"], 1, 29))
    evaluation.finalise_run(run, setup["lead"])
    assert run.status == RunStatus.FINAL


def test_the_public_result_pages_name_the_region_and_the_day_never_codes_or_timestamps(db, client, setup):
    run = evaluation.compute_run(setup["year"] - 1, "3208", setup["regulator"])
    evaluation.start_notice(run, setup["lead"], 15, starts_on=date(setup["year"], 1, 15))
    evaluation.finalise_run(run, setup["lead"])
    db.session.commit()
    for url in (f"/credit/results/{run.id}", "/credit/results"):
        page = client.get(url).get_data(as_text=True)
        assert "淮安市" in page and "3208" not in page.split("<main", 1)[1].split("</h1>", 1)[0]
    page = client.get(f"/credit/results/{run.id}").get_data(as_text=True)
    assert f"{run.finalised_at.astimezone(ZoneInfo('Asia/Shanghai')).date().isoformat()}" in page
    assert "+00:00" not in page


def test_the_evaluate_command_makes_one_run_per_province_without_a_jurisdiction(db, runner, setup):
    result = runner.invoke(args=["credit", "evaluate", "--year", str(setup["year"])])
    assert result.exit_code == 0, result.output
    prefixes = set(db.session.scalars(sa.select(EvaluationRun.jurisdiction_prefix)))
    assert prefixes == {"32", "21"}
    far = db.session.scalar(sa.select(EvaluationResult).where(EvaluationResult.enterprise_id == setup["far"].id))
    assert far.grade == "green" and far.score == 100
    bad = runner.invoke(args=["credit", "evaluate", "--year", str(setup["year"]), "--jurisdiction", "x"])
    assert bad.exit_code != 0


# --- pages --------------------------------------------------------------------------------------------------------

def test_an_objection_through_the_pages_from_notice_to_answer(db, login, client, setup):
    year = setup["year"]
    page = login(setup["regulator"])
    response = page.post("/credit/regulator/runs", data={"year": str(year), "notice_days": "15"})
    assert response.status_code == 302
    run = db.session.scalar(sa.select(EvaluationRun))
    assert page.post(f"/credit/regulator/runs/{run.id}/notice", data={"notice_days": "15"}).status_code == 302
    assert client.get(f"/credit/results/{run.id}").status_code == 200
    assert "credit/results" in client.get("/credit/results").get_data(as_text=True)
    result = db.session.scalar(sa.select(EvaluationResult).where(EvaluationResult.enterprise_id == setup["fined"].id))

    owner = login(setup["owner"])
    assert f"/credit/my/results/{result.id}/objection" in owner.get("/credit/my").get_data(as_text=True)
    empty = owner.post(f"/credit/my/results/{result.id}/objection", data={"grounds": ""})
    assert empty.status_code == 400
    filed = owner.post(f"/credit/my/results/{result.id}/objection",
                       data={"grounds": "处罚已撤销", "supporting_evidence": "淮复〔2026〕1号"})
    assert filed.status_code == 302
    objection = db.session.scalar(sa.select(Objection))
    other = login(setup["other"])
    assert other.get(f"/credit/my/results/{result.id}/objection").status_code == 404

    page = login(setup["regulator"])
    assert "处罚已撤销" in page.get(f"/credit/regulator/runs/{run.id}").get_data(as_text=True)
    page.post(f"/credit/regulator/objections/{objection.id}/answer",
              data={"decision": "dismiss", "reply": "处罚有效，维持原评价。"})
    db.session.refresh(objection)
    assert objection.status == ObjectionStatus.DISMISSED
    assert "处罚有效" in login(setup["owner"]).get("/credit/my").get_data(as_text=True)


def test_a_regulator_elsewhere_cannot_see_the_run(db, login, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    db.session.commit()
    stranger = make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101")
    db.session.commit()
    page = login(stranger)
    assert page.get(f"/credit/regulator/runs/{run.id}").status_code == 404
    assert page.post(f"/credit/regulator/runs/{run.id}/finalise").status_code == 404


def test_a_proposed_run_is_not_public_until_its_notice(db, client, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    db.session.commit()
    assert client.get(f"/credit/results/{run.id}").status_code == 404


def test_a_plain_regulator_cannot_finalise_through_the_page(db, login, setup):
    run = evaluation.compute_run(setup["year"], "3208", setup["regulator"])
    evaluation.start_notice(run, setup["regulator"])
    run.notice_ends_on = china_today() - timedelta(days=1)
    db.session.commit()
    assert login(setup["regulator"]).post(f"/credit/regulator/runs/{run.id}/finalise").status_code == 403
    assert login(setup["lead"]).post(f"/credit/regulator/runs/{run.id}/finalise").status_code == 302
    db.session.refresh(run)
    assert run.status == RunStatus.FINAL
