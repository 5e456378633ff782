"""Findings (DOMAIN §2.6): automatic evidence never scores nor shows publicly until two people confirm it; the
queue's bulk actions; withdrawal of confirmed evidence by two people; migration 0006's data step."""
from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.credit import findings, services
from portal.credit.evidence import add_evidence, withdraw_evidence
from portal.credit.findings_migration import REASON, unconfirm_automatic_evidence
from portal.credit.models import CreditStanding, Evidence, EvidenceKind, EvidenceSource, GradeChange, LedgerEntry
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user

START = 9  # the Jiangsu scheme's starting score (an enterprise in 320826)


@pytest.fixture
def world(db):
    services.seed_schemes()
    own, foreign = make_enterprise(), make_enterprise(region_code="210100")
    users = {"a": make_user(Role.REGULATOR), "b": make_user(Role.REGULATOR), "lead": make_user(Role.REGULATOR_LEAD),
             "foreign": make_user(Role.REGULATOR, jurisdiction_code="2101"),
             "owner": make_user(Role.ENTERPRISE_STAFF, enterprise=own),
             "other_owner": make_user(Role.ENTERPRISE_STAFF, enterprise=foreign)}
    services.recompute_enterprise(own.id)
    db.session.commit()
    return own, foreign, users


def _finding(ent, ref, kind=EvidenceKind.MONITORING_EXCEEDANCE, actor=None, title="w01018 daily_mean 150"):
    return add_evidence(enterprise_id=ent.id, kind=kind, source=EvidenceSource.MONITORING, source_ref=ref,
                        occurred_on=date(2026, 11, 2), title=title, verified=True, finding=True, actor=actor)


def _lines(ent) -> int:
    return db_count(sa.select(LedgerEntry).where(LedgerEntry.enterprise_id == ent.id))


def db_count(stmt) -> int:
    from portal.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def _score(ent) -> int | None:
    """The enterprise's score, None while it is not evaluated (no confirmed evidence, no annual result)."""
    standing = services.recompute_enterprise(ent.id)
    return None if standing is None else standing.score


def test_a_finding_scores_only_after_a_second_regulator_confirms_it(db, world):
    own, _, users = world
    ev = _finding(own, "exceedance:1", actor=users["owner"])  # the uploader is audited, never its recorder
    assert (ev.is_verified, ev.recorded_by_id) == (False, None)
    assert _score(own) is None and findings.status_of(ev) == findings.Status.DETECTED
    assert findings.confirm(users["a"], ev) == findings.Status.RECORDED
    assert _score(own) is None and ev.recorded_by_id == users["a"].id
    with pytest.raises(NotAllowed):
        findings.confirm(users["a"], ev)  # the recorder cannot confirm
    with pytest.raises(NotAllowed):
        findings.confirm(users["foreign"], ev)
    assert findings.confirm(users["b"], ev, "复核属实") == findings.Status.CONFIRMED
    assert _score(own) < START
    actions = set(db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.object_id == str(ev.id))))
    assert {"evidence.add", "evidence.record_finding", "evidence.verify", "evidence.confirm_finding"} <= actions


def test_a_lead_confirms_alone_as_for_penalties_and_confirmed_findings_cannot_be_confirmed_again(db, world):
    own, _, users = world
    ev = _finding(own, "exceedance:2")
    assert findings.confirm(users["lead"], ev) == findings.Status.CONFIRMED
    with pytest.raises(InvalidTransition):
        findings.confirm(users["b"], ev)
    with pytest.raises(InvalidTransition):
        findings.dismiss(users["b"], ev, "误报")


def test_a_dismissed_finding_never_scores_and_needs_a_reason(db, world):
    own, _, users = world
    ev = _finding(own, "exceedance:3")
    with pytest.raises(ValidationFailed) as exc:
        findings.dismiss(users["a"], ev, "  ")
    assert "reason" in exc.value.errors
    assert findings.dismiss(users["a"], ev, "设备故障，数据无效") == findings.Status.DISMISSED
    with pytest.raises(InvalidTransition):
        findings.confirm(users["b"], ev)
    assert _score(own) is None
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "evidence.dismiss")) is not None


def test_regulator_evidence_is_not_a_finding(db, world):
    own, _, users = world
    penalty = add_evidence(enterprise_id=own.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                           source_ref="doc:1", occurred_on=date(2026, 1, 5), title="罚款", verified=False,
                           actor=users["a"], document_no="1", authority="局", amount_yuan=1000)
    with pytest.raises(NotAllowed):
        findings.confirm(users["b"], penalty)
    assert findings.queue("3208", findings.Filters()).total == 0


def test_bulk_confirm_and_dismiss_report_what_they_refused(db, world):
    own, foreign, users = world
    mine = [_finding(own, f"exceedance:{i}") for i in range(4)]
    theirs = _finding(foreign, "exceedance:99")
    with pytest.raises(ValidationFailed):
        findings.bulk(users["a"], [mine[0].id], "confirm", "")
    with pytest.raises(ValidationFailed):
        findings.bulk(users["a"], [mine[0].id], "delete", "原因")
    result = findings.bulk(users["a"], [m.id for m in mine[:3]] + [theirs.id, 10**9], "confirm", "批量复核")
    assert result.done == {"recorded": 3} and {i for i, _ in result.refused} == {theirs.id, 10**9}
    result = findings.bulk(users["a"], [m.id for m in mine[:3]], "confirm", "批量复核")
    assert result.done == {} and len(result.refused) == 3  # the recorder cannot confirm
    result = findings.bulk(users["b"], [m.id for m in mine[:2]], "confirm", "复核属实")
    assert result.done == {"confirmed": 2}
    result = findings.bulk(users["b"], [mine[2].id, mine[3].id], "dismiss", "同一超标过程")
    assert result.done == {"dismissed": 2}
    assert _score(own) < START and _lines(own) == 2  # the two confirmed exceedances
    assert not theirs.is_verified and theirs.recorded_by_id is None
    page = findings.queue("3208", findings.Filters(status=""))
    assert page.total == 4 and page.counts == {"monitoring_exceedance": 4}
    assert findings.queue("3208", findings.Filters()).total == 0  # nothing open


def test_the_queue_filters_by_kind_enterprise_period_and_status_and_pages(db, world):
    own, _, users = world
    other = make_enterprise()
    for i in range(findings.PER_PAGE + 5):
        _finding(own, f"exceedance:{i}")
    late = add_evidence(enterprise_id=other.id, kind=EvidenceKind.DISCLOSURE_LATE, source=EvidenceSource.DISCLOSURE,
                        source_ref="obligation:1", occurred_on=date(2026, 4, 1), title="逾期披露", verified=False,
                        finding=True)
    page = findings.queue("3208", findings.Filters())
    assert page.total == findings.PER_PAGE + 6 and page.pages == 2 and len(page.items) == findings.PER_PAGE
    assert page.counts == {"monitoring_exceedance": findings.PER_PAGE + 5, "disclosure_late": 1}
    assert findings.queue("3208", findings.Filters(page=2)).items[-1].source_ref.startswith("exceedance:")
    assert findings.queue("3208", findings.Filters(kind="disclosure_late")).items == [late]
    assert findings.queue("3208", findings.Filters(uscc=other.uscc)).items == [late]
    assert findings.queue("3208", findings.Filters(end=date(2026, 5, 1))).items == [late]
    assert findings.queue("3208", findings.Filters(start=date(2026, 5, 1))).total == findings.PER_PAGE + 5
    assert findings.queue("3208", findings.Filters(status="confirmed")).total == 0
    assert findings.queue("2101", findings.Filters()).total == 0


# --- withdrawal of confirmed evidence: two people -------------------------------------------------------------------

def test_one_person_cannot_withdraw_a_confirmed_fine_and_a_second_person_can(db, world):
    own, _, users = world
    fine = add_evidence(enterprise_id=own.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                        source_ref="doc:9", occurred_on=date(2026, 10, 5), title="罚款十万元", verified=False,
                        actor=users["a"], document_no="淮环罚〔2026〕9号", authority="淮安市生态环境局",
                        amount_yuan=100000)
    services.confirm_evidence(users["b"], fine)
    assert _score(own) < START
    scored = _score(own)
    withdraw_evidence(fine, users["a"], "复议撤销")
    assert fine.withdrawn_at is None and fine.withdrawal_requested_by_id == users["a"].id
    assert _score(own) == scored  # one person: still counts
    with pytest.raises(InvalidTransition):
        withdraw_evidence(fine, users["a"], "复议撤销")
    with pytest.raises(NotAllowed):
        withdraw_evidence(fine, "system", "自动撤回")
    assert fine.withdrawn_at is None
    withdraw_evidence(fine, users["b"], "复议决定书已核")
    assert fine.withdrawn_at is not None and "复议撤销" in fine.withdrawn_reason
    assert _score(own) is None
    actions = [a for a in db.session.scalars(sa.select(AuditRecord.action).where(
        AuditRecord.object_type == "evidence", AuditRecord.object_id == str(fine.id)).order_by(AuditRecord.seq))]
    assert actions[-2:] == ["evidence.withdraw_request", "evidence.withdraw"]


def test_withdrawal_through_the_desk_by_one_regulator_is_only_a_request(db, login, world):
    own, _, users = world
    fine = add_evidence(enterprise_id=own.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                        source_ref="doc:10", occurred_on=date(2026, 10, 5), title="罚款十万元", verified=False,
                        actor=users["a"], document_no="10", authority="局", amount_yuan=100000)
    services.confirm_evidence(users["b"], fine)
    db.session.commit()
    client = login(users["a"])
    client.post(f"/credit/regulator/evidence/{fine.id}/withdraw", data={"reason": "复议撤销"})
    client.post(f"/credit/regulator/evidence/{fine.id}/withdraw", data={"reason": "复议撤销"})
    db.session.refresh(fine)
    assert fine.withdrawn_at is None and fine.withdrawal_requested_by_id == users["a"].id
    page = login(users["b"]).get("/credit/regulator/evidence").get_data(as_text=True)
    assert "refuse" in page
    login(users["b"]).post(f"/credit/regulator/evidence/{fine.id}/withdrawal/refuse")
    db.session.refresh(fine)
    assert fine.withdrawal_requested_by_id is None and fine.withdrawn_at is None
    login(users["a"]).post(f"/credit/regulator/evidence/{fine.id}/withdraw", data={"reason": "复议撤销"})
    login(users["b"]).post(f"/credit/regulator/evidence/{fine.id}/withdraw", data={"reason": "同意"})
    db.session.refresh(fine)
    assert fine.withdrawn_at is not None


# --- pages ----------------------------------------------------------------------------------------------------------

def test_the_enterprise_sees_its_findings_and_the_public_does_not(db, client, login, world):
    own, foreign, users = world
    _finding(own, "exceedance:7", title="COD 日均值超标 1.8 倍")
    _finding(foreign, "exceedance:8", title="外地企业超标")
    db.session.commit()
    public = client.get(f"/enterprises/{own.uscc}").get_data(as_text=True)
    api = client.get(f"/api/v1/enterprises/{own.uscc}/credit").get_data(as_text=True)
    assert "COD 日均值超标" not in public and "COD 日均值超标" not in api
    response = login(users["owner"]).get("/credit/my/findings")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "COD 日均值超标 1.8 倍" in body and "外地企业超标" not in body
    assert login(users["owner"]).get("/credit/regulator/findings").status_code == 403


def test_the_queue_page_counts_filters_and_bulk_confirms(db, login, world):
    own, foreign, users = world
    mine = [_finding(own, f"exceedance:{i}", title=f"超标{i}") for i in range(3)]
    theirs = _finding(foreign, "exceedance:50", title="外地企业超标")
    db.session.commit()
    client = login(users["a"])
    response = client.get("/credit/regulator/findings")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "超标0" in body and "外地企业超标" not in body
    bad = client.get("/credit/regulator/findings?start=2026-13-01&kind=penalty&uscc=123")
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    response = client.post("/credit/regulator/findings/bulk",
                           data={"ids": [str(m.id) for m in mine] + [str(theirs.id)], "action": "confirm",
                                 "reason": "批量复核"}, follow_redirects=True)
    assert response.status_code == 200
    client = login(users["b"])
    client.post("/credit/regulator/findings/bulk", data={"ids": [str(mine[0].id)], "action": "confirm",
                                                         "reason": "复核属实"})
    client.post("/credit/regulator/findings/bulk", data={"ids": [str(mine[1].id)], "action": "dismiss",
                                                         "reason": ""})  # refused: no reason
    for ev in (*mine, theirs):
        db.session.refresh(ev)
    assert [findings.status_of(m) for m in mine] == ["confirmed", "recorded", "recorded"]
    assert findings.status_of(theirs) == "detected"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1


# --- migration 0006 data step ---------------------------------------------------------------------------------------

def test_the_migration_turns_self_verified_automatic_evidence_into_findings_and_regrades(db, client, world):
    own, _, users = world
    automatic = [add_evidence(enterprise_id=own.id, kind=EvidenceKind.MONITORING_LATE,
                              source=EvidenceSource.MONITORING, source_ref=f"manual-late:{i}",
                              occurred_on=date(2026, 11, 1), title="逾期公开", verified=True, actor=users["owner"])
                 for i in range(5)]
    two_people = _finding(own, "exceedance:1")
    findings.confirm(users["a"], two_people)
    findings.confirm(users["b"], two_people)
    penalty = add_evidence(enterprise_id=own.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                           source_ref="doc:1", occurred_on=date(2026, 10, 5), title="罚款", verified=True,
                           actor=users["lead"], document_no="1", authority="局", amount_yuan=1000)
    db.session.commit()
    before = db.session.scalar(sa.select(CreditStanding.score).where(CreditStanding.enterprise_id == own.id))
    assert before < START and _lines(own) == 7
    with db.engine.begin() as conn:
        changed = unconfirm_automatic_evidence(conn)
    assert changed == {own.id: sorted(e.id for e in automatic)}
    db.session.expire_all()
    assert all(not e.is_verified and e.recorded_by_id is None for e in automatic)
    assert two_people.is_verified and penalty.is_verified  # confirmed by people: untouched
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == own.id))
    assert standing.score > before and _lines(own) == 2
    change = db.session.scalar(sa.select(GradeChange).where(GradeChange.enterprise_id == own.id)
                               .order_by(GradeChange.id.desc()))
    assert change.reason == REASON
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "evidence.unconfirm_automatic"))
    assert audit.enterprise_id == own.id and audit.after["reason"] == REASON
    page = client.get(f"/enterprises/{own.uscc}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "未经任何人确认的系统自动发现" in page  # the grade history says why
    with db.engine.begin() as conn:
        assert unconfirm_automatic_evidence(conn) == {}  # idempotent
    assert db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == "manual-late:0")).is_verified is False


def test_the_evidence_desk_cannot_confirm_an_automatic_finding_alone(db, login, world):
    own, _, users = world
    ev = _finding(own, "exceedance:40")
    db.session.commit()
    login(users["a"]).post(f"/credit/regulator/evidence/{ev.id}/confirm")
    db.session.refresh(ev)
    assert findings.status_of(ev) == findings.Status.RECORDED
    login(users["a"]).post(f"/credit/regulator/evidence/{ev.id}/confirm")
    db.session.refresh(ev)
    assert not ev.is_verified
    login(users["b"]).post(f"/credit/regulator/evidence/{ev.id}/confirm")
    db.session.refresh(ev)
    assert ev.is_verified and ev.verified_by_id == users["b"].id
