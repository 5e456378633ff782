"""The flag workflow: states, who may move them, what each side sees, audit, and that no grade moves."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.credit.models import CreditStanding, Evidence, GradeChange
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.integrity import services
from portal.integrity.models import IntegrityFlag
from portal.integrity.rules import FlagState
from tests.conftest import login_as
from tests.factories import make_enterprise, make_outlet, make_user
from tests.integrity.world import make_flag


@pytest.fixture
def setup(db):
    ent = make_enterprise(region_code="320826")
    outlet = make_outlet(ent, "DW001")
    flag = make_flag(db, ent, outlet, state=FlagState.OPEN)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    stranger = make_user(Role.REGULATOR, jurisdiction_code="2101")
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    other_ent = make_enterprise(region_code="320826")
    other_staff = make_user(Role.ENTERPRISE_STAFF, enterprise=other_ent)
    db.session.commit()
    return flag, regulator, stranger, staff, other_staff


def _audits(db, action):
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord).where(AuditRecord.action == action))


def test_full_path_warn_answer_inspect_confirm_offers_unverified_private_evidence_only(db, setup):
    flag, regulator, _stranger, staff, _other = setup
    services.warn(flag, regulator, "请说明 11 月 1 日的数据", today=date(2026, 12, 7))
    assert flag.state is FlagState.WARNED and flag.answer_due_on == date(2026, 12, 14)
    services.answer(flag, staff, "分析仪故障，已更换并补测，附维修记录")
    services.record_inspection(flag, regulator, date.today(), "王五、赵六", "现场核查发现稀释管路")
    services.record_outcome(flag, regulator, True, "篡改属实，移交执法")
    db.session.commit()
    assert flag.state is FlagState.CONFIRMED
    evidence = db.session.get(Evidence, flag.evidence_id)
    assert evidence.is_verified is False and evidence.is_public is False
    assert [e.state for e in flag.events] == [FlagState.WARNED, FlagState.ANSWERED, FlagState.INSPECTED,
                                              FlagState.CONFIRMED]
    assert _audits(db, "integrity.flag.confirmed") == 1 and _audits(db, "integrity.flag.warned") == 1
    for model in (CreditStanding, GradeChange):  # no grade moved: that takes a second regulator's confirmation
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_cleared_outcome_and_dismissal_add_no_evidence(db, setup):
    flag, regulator, *_ = setup
    services.dismiss(flag, regulator, "停产检修期间，已有报备")
    db.session.commit()
    assert flag.state is FlagState.DISMISSED and flag.reason.startswith("停产")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0
    with pytest.raises(InvalidTransition):
        services.warn(flag, regulator, "")


def test_dismissal_needs_a_reason_and_writes_nothing_without_one(db, setup):
    flag, regulator, *_ = setup
    with pytest.raises(ValidationFailed) as exc:
        services.dismiss(flag, regulator, " ")
    assert "reason" in exc.value.errors
    db.session.rollback()
    assert db.session.get(IntegrityFlag, flag.id).state is FlagState.OPEN


def test_regulator_outside_the_jurisdiction_and_other_enterprises_are_refused(db, setup):
    flag, regulator, stranger, staff, other_staff = setup
    with pytest.raises(NotFound):
        services.warn(flag, stranger, "")
    services.warn(flag, regulator, "")
    with pytest.raises(NotFound):
        services.answer(flag, other_staff, "这是别家企业的回复内容")
    with pytest.raises(NotFound):
        services.dismiss(flag, staff, "企业不能驳回线索")


def test_enterprise_cannot_answer_before_a_warning_nor_see_an_open_flag(db, setup, client):
    flag, _regulator, _stranger, staff, _other = setup
    with pytest.raises(NotFound):
        services.get_for_enterprise(staff, flag.id)
    login_as(client, staff)
    assert client.get(f"/my/integrity/{flag.id}").status_code == 404
    assert client.post(f"/my/integrity/{flag.id}/answer", data={"a-answer": "提前回复的内容不应保存"}).status_code == 404
    assert "#%d" % flag.id not in client.get("/my/integrity").get_data(as_text=True)


def test_regulator_page_shows_rule_words_basis_threshold_and_chart_and_is_no_store(db, setup, client):
    flag, regulator, stranger, *_ = setup
    login_as(client, regulator)
    response = client.get(f"/regulator/integrity/{flag.id}?lang=en")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Flat line or stuck value" in body and "Art. 25(5)" in body and 'data-chart=' in body
    assert '"threshold": 2.0' in body
    assert "never a finding" in body
    login_as(client, stranger)
    assert client.get(f"/regulator/integrity/{flag.id}").status_code == 404


def test_views_walk_the_workflow_and_refuse_a_step_out_of_order(db, setup, client):
    flag, regulator, _stranger, staff, _other = setup
    login_as(client, regulator)
    assert client.post(f"/regulator/integrity/{flag.id}/outcome",
                       data={"o-outcome": "confirmed", "o-note": "跳过核查"}).status_code == 400
    assert client.post(f"/regulator/integrity/{flag.id}/dismiss", data={"d-reason": ""}).status_code == 400
    assert client.post(f"/regulator/integrity/{flag.id}/warn", data={"n-note": "请说明"}).status_code == 302
    login_as(client, staff)
    page = client.get(f"/my/integrity/{flag.id}")
    assert page.status_code == 200 and "请说明" in page.get_data(as_text=True)
    short = client.post(f"/my/integrity/{flag.id}/answer", data={"a-answer": "短"})
    assert short.status_code == 400
    assert client.post(f"/my/integrity/{flag.id}/answer",
                       data={"a-answer": "设备校准期间数据异常，已提交校准记录"}).status_code == 302
    login_as(client, regulator)
    assert client.post(f"/regulator/integrity/{flag.id}/resolve", data={"n-note": "解释合理，结案"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(IntegrityFlag, flag.id).state is FlagState.RESOLVED


def test_inspection_needs_date_inspectors_and_note(db, setup):
    flag, regulator, *_ = setup
    with pytest.raises(ValidationFailed) as exc:
        services.record_inspection(flag, regulator, None, "", "")
    assert set(exc.value.errors) == {"inspected_on", "inspectors", "note"}


def test_regulator_queue_lists_only_the_jurisdictions_open_flags(db, setup):
    flag, regulator, stranger, *_ = setup
    assert [f.id for f in services.regulator_queue(regulator)] == [flag.id]
    assert services.regulator_queue(stranger) == []
    services.dismiss(flag, regulator, "误报，已核实")
    assert services.regulator_queue(regulator) == []
    assert [f.id for f in services.regulator_queue(regulator, state=FlagState.DISMISSED)] == [flag.id]


def test_flag_page_speaks_chinese_first(db, setup, client):
    flag, regulator, *_ = setup
    login_as(client, regulator)
    body = client.get(f"/regulator/integrity/{flag.id}").get_data(as_text=True)
    assert "数据长期不变或卡值" in body and "规则说明" in body
