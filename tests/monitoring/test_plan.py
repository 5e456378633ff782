"""Monitoring plan: draft from the registry, editing rules, submit/confirm/return, limits follow the confirmed plan,
audit, the public page; the missing-manual-results job (periods, idempotence, evidence)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.credit.models import Evidence, EvidenceKind
from portal.enterprises.models import Averaging, OutletLimit
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from portal.monitoring import manual, missing, plan, plan_rules
from portal.monitoring.importers import ManualRow
from portal.monitoring.models import MonitoringFinding, PlanStatus
from tests.factories import make_enterprise, make_limit, make_outlet, make_user
from tests.monitoring.helpers import water_setup


def _actions(db):
    return [a for (a,) in db.session.execute(sa.select(AuditRecord.action).order_by(AuditRecord.id))]


def _line(outlet, **kw):
    data = {"outlet_id": str(outlet.id), "pollutant_code": "w21003", "mode": "manual", "frequency": "monthly",
            "limit_value": "8", "unit": "mg/L", "averaging": "daily", "standard_code": "GB 8978-1996",
            "method": "HJ 535-2009"}
    data.update(kw)
    return data


@pytest.fixture
def setup(db):
    ent, outlet, device = water_setup(db)  # DW001 with a device: COD (daily max 100) and pH (6–9)
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    return ent, outlet, staff, regulator


# --- pure rules ---------------------------------------------------------------------------------------------------

def test_hj819_minimums_depend_on_key_unit_medium_outlet_and_indicator():
    assert plan_rules.minimum_frequency(key_unit=True, medium="gas", main_outlet=True, pollutant_code="a21026") \
        == "quarterly"
    assert plan_rules.minimum_frequency(key_unit=True, medium="water", main_outlet=True, pollutant_code="w01018") \
        == "monthly"
    assert plan_rules.minimum_frequency(key_unit=False, medium="water", main_outlet=True, pollutant_code="w01018") \
        == "quarterly"
    assert plan_rules.minimum_frequency(key_unit=True, medium="water", main_outlet=True, pollutant_code="w20120") \
        == "half_yearly"
    assert plan_rules.minimum_frequency(key_unit=True, medium="water", main_outlet=True, pollutant_code="w01018",
                                        table={"key|water|main|main": "weekly"}) == "weekly"


@pytest.mark.parametrize("frequency, day, start, following", [
    ("daily", date(2026, 3, 31), date(2026, 3, 31), date(2026, 4, 1)),
    ("weekly", date(2026, 4, 2), date(2026, 3, 30), date(2026, 4, 6)),
    ("monthly", date(2026, 12, 15), date(2026, 12, 1), date(2027, 1, 1)),
    ("quarterly", date(2026, 8, 15), date(2026, 7, 1), date(2026, 10, 1)),
    ("half_yearly", date(2026, 6, 30), date(2026, 1, 1), date(2026, 7, 1)),
    ("yearly", date(2026, 6, 30), date(2026, 1, 1), date(2027, 1, 1)),
])
def test_calendar_periods(frequency, day, start, following):
    assert plan_rules.period_start(day, frequency) == start
    assert plan_rules.next_period(start, frequency) == following


def test_due_periods_are_whole_periods_inside_the_plan_that_have_ended():
    periods = plan_rules.due_periods("monthly", date(2026, 1, 15), None, date(2026, 5, 10))
    assert periods == [(date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 3, 1), date(2026, 4, 1)),
                       (date(2026, 4, 1), date(2026, 5, 1))]
    assert plan_rules.due_periods("monthly", date(2026, 1, 1), date(2026, 3, 1), date(2026, 5, 10)) == \
        [(date(2026, 1, 1), date(2026, 2, 1)), (date(2026, 2, 1), date(2026, 3, 1))]
    assert plan_rules.due_periods("quarterly", date(2026, 1, 1), None, date(2026, 3, 31)) == []


def test_mode_and_frequency_must_agree():
    assert plan_rules.check_mode_frequency("auto", "continuous") is None
    assert plan_rules.check_mode_frequency("auto", "monthly") == "auto"
    assert plan_rules.check_mode_frequency("manual", "continuous") == "manual"
    assert plan_rules.check_mode_frequency("manual", "hourly") == "frequency"


# --- plan lifecycle -----------------------------------------------------------------------------------------------

def test_the_first_draft_is_built_from_the_registry_limits(db, setup):
    ent, outlet, staff, _ = setup
    draft = plan.start_draft(staff, ent)
    lines = {(i.pollutant_code, i.mode, i.frequency, i.averaging) for i in draft.items}
    # DW001 has a device, so its registered pollutants start as automatic, continuous.
    assert lines == {("w01018", "auto", "continuous", "daily"), ("w01001", "auto", "continuous", "instant")}
    ph = next(i for i in draft.items if i.pollutant_code == "w01001")
    assert (ph.limit_min, ph.limit_max) == (Decimal("6"), Decimal("9"))
    with pytest.raises(Conflict):
        plan.start_draft(staff, ent)


def test_a_manual_outlet_gets_the_hj819_minimum_as_default(db):
    ent = make_enterprise()
    outlet = make_outlet(ent, "DW002")
    make_limit(outlet, "w01018", "100", Averaging.DAILY)
    draft = plan.start_draft(make_user(Role.ENTERPRISE_STAFF, enterprise=ent), ent)
    [item] = draft.items
    assert (item.mode, item.frequency) == ("manual", "quarterly")  # non-key unit, water, main indicator


def test_line_validation_names_every_field(db, setup):
    ent, outlet, staff, _ = setup
    draft = plan.start_draft(staff, ent)
    with pytest.raises(ValidationFailed) as info:
        plan.save_item(staff, draft, _line(outlet, pollutant_code="a21026", mode="auto", frequency="monthly",
                                           limit_value="abc", averaging="weekly", reference_o2="6"))
    assert set(info.value.errors) == {"pollutant_code", "frequency", "limit_value", "averaging", "reference_o2"}
    with pytest.raises(ValidationFailed) as info:
        plan.save_item(staff, draft, _line(outlet, pollutant_code="w01018"))
    assert "pollutant_code" in info.value.errors  # already a line for COD at DW001
    with pytest.raises(ValidationFailed) as info:
        plan.save_item(staff, draft, _line(outlet, limit_value="", limit_min="9", limit_max="6"))
    assert "limit_max" in info.value.errors
    foreign = make_outlet(make_enterprise(), "DW001")
    with pytest.raises(ValidationFailed) as info:
        plan.save_item(staff, draft, _line(foreign))
    assert "outlet_id" in info.value.errors


def test_submit_confirm_publishes_and_the_limits_follow_the_plan(db, setup):
    ent, outlet, staff, regulator = setup
    draft = plan.start_draft(staff, ent)
    cod = next(i for i in draft.items if i.pollutant_code == "w01018")
    plan.save_item(staff, draft, _line(outlet, pollutant_code="w01018", mode="auto", frequency="continuous",
                                       limit_value="80", averaging="daily"), cod)
    plan.save_item(staff, draft, _line(outlet))  # NH3-N, manual monthly, new
    ph = next(i for i in draft.items if i.pollutant_code == "w01001")
    plan.remove_item(staff, draft, ph)
    with pytest.raises(InvalidTransition):
        plan.confirm(regulator, draft)  # not submitted yet
    plan.submit(staff, draft)
    with pytest.raises(InvalidTransition):
        plan.save_item(staff, draft, _line(outlet, pollutant_code="w21011"))
    plan.confirm(regulator, draft, "同意")
    assert draft.status == PlanStatus.CONFIRMED and draft.effective_from is not None
    limits = {lim.pollutant_code: lim for lim in db.session.scalars(
        sa.select(OutletLimit).where(OutletLimit.outlet_id == outlet.id))}
    assert set(limits) == {"w01018", "w21003"}  # pH left the plan
    assert limits["w01018"].limit_value == Decimal("80")
    assert (limits["w21003"].limit_value, limits["w21003"].averaging) == (Decimal("8"), Averaging.DAILY)
    actions = _actions(db)
    for action in ("monitoring.plan.draft", "monitoring.plan.item.save", "monitoring.plan.item.remove",
                   "monitoring.plan.submit", "monitoring.plan.confirm", "outlet_limit.update", "outlet_limit.create",
                   "outlet_limit.delete"):
        assert action in actions, action
    # The next version supersedes this one.
    second = plan.start_draft(staff, ent)
    assert second.version == 2 and len(second.items) == 2
    plan.submit(staff, second)
    plan.confirm(regulator, second)
    assert draft.status == PlanStatus.SUPERSEDED and draft.effective_to == second.effective_from
    assert plan.confirmed_plan(ent.id).id == second.id


def test_only_a_regulator_of_the_jurisdiction_confirms_and_a_return_needs_a_note(db, setup):
    ent, outlet, staff, regulator = setup
    draft = plan.start_draft(staff, ent)
    plan.submit(staff, draft)
    with pytest.raises(NotAllowed):
        plan.confirm(make_user(Role.REGULATOR, jurisdiction_code="2101"), draft)
    with pytest.raises(ValidationFailed):
        plan.return_plan(regulator, draft, " ")
    plan.return_plan(regulator, draft, "频次不足")
    assert draft.status == PlanStatus.RETURNED
    plan.save_item(staff, draft, _line(outlet))  # editable again
    with pytest.raises(NotAllowed):
        plan.save_item(make_user(Role.ENTERPRISE_STAFF, enterprise=make_enterprise()), draft, _line(outlet))


# --- pages --------------------------------------------------------------------------------------------------------

def test_enterprise_edits_regulator_confirms_and_the_public_page_shows_the_plan(client, db, setup, login):
    ent, outlet, staff, regulator = setup
    db.session.commit()
    login(staff)
    assert client.post("/monitoring/my/plan/start", data={}).status_code == 302
    response = client.post("/monitoring/my/plan/items", data=_line(outlet, frequency="continuous"))
    assert response.status_code == 400 and "continuous" in response.get_data(as_text=True)
    assert client.post("/monitoring/my/plan/items", data=_line(outlet, method="HJ 535-2009")).status_code == 302
    assert client.post("/monitoring/my/plan/submit", data={}).status_code == 302
    draft = plan.open_plan(ent.id)
    assert draft.status == PlanStatus.SUBMITTED
    login(regulator)
    page = client.get("/monitoring/plans").get_data(as_text=True)
    assert f"/monitoring/plans/{draft.id}" in page
    assert client.post(f"/monitoring/plans/{draft.id}/confirm", data={"note": ""}).status_code == 302
    public = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert "HJ 535-2009" in public and "monitoring-plan" in public


def test_a_foreign_regulator_cannot_open_or_confirm_the_plan(client, db, setup, login):
    ent, outlet, staff, _ = setup
    draft = plan.start_draft(staff, ent)
    plan.submit(staff, draft)
    db.session.commit()
    login(make_user(Role.REGULATOR, jurisdiction_code="2101"))
    db.session.commit()
    assert client.get(f"/monitoring/plans/{draft.id}").status_code == 404
    assert client.post(f"/monitoring/plans/{draft.id}/confirm", data={}).status_code == 404
    assert plan.open_plan(ent.id).status == PlanStatus.SUBMITTED


# --- missing manual results ---------------------------------------------------------------------------------------

def _confirmed_manual_plan(db, setup, frequency="monthly", effective=date(2026, 1, 1)):
    ent, outlet, staff, regulator = setup
    draft = plan.start_draft(staff, ent)
    plan.save_item(staff, draft, _line(outlet, frequency=frequency))
    plan.submit(staff, draft)
    plan.confirm(regulator, draft)
    draft.effective_from = effective
    db.session.flush()
    return ent, outlet, staff


def test_each_ended_month_without_a_manual_result_is_a_finding_and_evidence_once(db, setup):
    ent, outlet, staff = _confirmed_manual_plan(db, setup)
    row = ManualRow(line=0, outlet="DW001", pollutant="w21003", sampled_at=datetime(2026, 2, 10, 9, 0), value=1.0,
                    completed_on=date(2026, 2, 12), production_load=Decimal("80"), facility_status="running")
    manual.submit_one(staff, ent, row)
    assert missing.find_missing_manual(today=date(2026, 4, 15)) == 2  # January and March; February has a result
    findings = db.session.scalars(sa.select(MonitoringFinding).order_by(MonitoringFinding.since)).all()
    assert [(f.kind, f.pollutant_code) for f in findings] == [("manual_missing", "w21003")] * 2
    local = [f.since.astimezone(timezone(timedelta(hours=8))).date() for f in findings]
    assert local == [date(2026, 1, 1), date(2026, 3, 1)]
    evidence = db.session.scalars(sa.select(Evidence).where(Evidence.kind == EvidenceKind.MONITORING_GAP)).all()
    assert len(evidence) == 2 and not any(e.is_verified for e in evidence)  # findings until confirmed
    assert {e.occurred_on for e in evidence} == {date(2026, 1, 31), date(2026, 3, 31)}
    assert missing.find_missing_manual(today=date(2026, 4, 15)) == 0  # idempotent
    assert missing.find_missing_manual(today=date(2026, 5, 2)) == 1  # April has now ended
    assert "monitoring.manual_missing.found" in _actions(db)


def test_automatic_lines_and_unconfirmed_plans_are_not_checked_for_manual_results(db, setup):
    ent, outlet, staff, _ = setup
    draft = plan.start_draft(staff, ent)  # automatic lines only, and not confirmed
    plan.save_item(staff, draft, _line(outlet))
    assert missing.find_missing_manual(today=date(2027, 1, 1)) == 0


def test_missing_results_are_shown_to_the_enterprise_and_the_regulator(client, db, setup, login):
    ent, outlet, staff = _confirmed_manual_plan(db, setup, frequency="quarterly")
    assert missing.find_missing_manual(today=date(2026, 7, 2)) == 2
    regulator = setup[3]
    db.session.commit()
    login(staff)
    assert client.get("/monitoring/my/plan").get_data(as_text=True).count("2026-04-01 –") == 1
    login(regulator)
    page = client.get("/monitoring/plans").get_data(as_text=True)
    assert ent.name in page and "2026-01-01 –" in page
