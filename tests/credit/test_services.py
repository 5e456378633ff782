from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import services
from portal.credit.evidence import add_evidence, verify_evidence, withdraw_evidence
from portal.credit.models import (CreditScheme, CreditSchemeVersion, CreditStanding, Evidence, EvidenceKind,
                                  EvidenceSource, GradeChange, JurisdictionScheme, LedgerEntry)
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user


@pytest.fixture
def schemes(db):
    services.seed_schemes()
    db.session.flush()


def _penalty(ent, ref="p:1", amount=20000, verified=True, on=None, actor=None):
    from portal.core.clock import china_today

    return add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                        source_ref=ref, occurred_on=on or china_today(), title="超标排放罚款", verified=verified,
                        actor=actor, document_no=ref, authority="淮安市生态环境局", amount_yuan=amount)


def test_seeding_the_schemes_twice_changes_nothing(db, schemes):
    again = services.seed_schemes()
    assert set(again.values()) == {"exists"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditSchemeVersion)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JurisdictionScheme)) == 1


def test_jiangsu_regions_use_the_jiangsu_scheme_and_others_the_national_one(db, schemes):
    assert services.version_for_region("320826").scheme.code == "jiangsu-12"
    assert services.version_for_region("210100").scheme.code == "national-2013"


def test_the_most_specific_jurisdiction_mapping_wins(db, schemes):
    national = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == "national-2013"))
    db.session.add(JurisdictionScheme(jurisdiction_prefix="3208", scheme_id=national.id))
    db.session.flush()
    assert services.version_for_region("320826").scheme.code == "national-2013"
    assert services.version_for_region("320100").scheme.code == "jiangsu-12"


def test_without_any_scheme_evidence_is_still_recorded_and_no_standing_is_made(db):
    ent = make_enterprise()
    _penalty(ent)
    assert db.session.scalar(sa.select(CreditStanding)) is None


def test_verified_evidence_updates_the_ledger_and_standing_at_once(db, schemes):
    ent = make_enterprise()
    ev = _penalty(ent)
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    assert (standing.score, standing.grade) == (6, "blue")
    [line] = db.session.scalars(sa.select(LedgerEntry)).all()
    assert (line.evidence_id, line.rule_code, line.points) == (ev.id, "fine", -3)
    assert standing.next_change_on == line.expires_on


def test_unverified_evidence_never_scores_until_confirmed_and_withdrawn_evidence_stops(db, schemes):
    ent = make_enterprise()
    regulator = make_user()
    ev = _penalty(ent, verified=False)
    assert db.session.scalars(sa.select(LedgerEntry)).all() == []
    verify_evidence(ev, regulator)
    assert len(db.session.scalars(sa.select(LedgerEntry)).all()) == 1
    withdraw_evidence(ev, regulator, "处罚决定被撤销")
    assert len(db.session.scalars(sa.select(LedgerEntry)).all()) == 1  # a second person must agree
    withdraw_evidence(ev, make_user(), "处罚决定被撤销")
    assert db.session.scalars(sa.select(LedgerEntry)).all() == []
    # Nothing confirmed is left and no annual run graded it: not evaluated again, no start grade (credit.standing).
    assert db.session.scalar(sa.select(CreditStanding)) is None


def test_each_grade_change_is_kept_in_the_history(db, schemes):
    ent = make_enterprise()
    _penalty(ent, "p:1")  # 6 blue (first standing: history row)
    _penalty(ent, "p:2")  # 3 yellow
    _penalty(ent, "p:3", amount=None)  # 2 red
    grades = [h.grade for h in db.session.scalars(sa.select(GradeChange).order_by(GradeChange.id))]
    assert grades == ["blue", "yellow", "red"]


def test_the_refresh_job_restores_points_when_deductions_expire(db, schemes):
    ent = make_enterprise()
    _penalty(ent, on=date(2020, 1, 1))
    standing = db.session.scalar(sa.select(CreditStanding))
    assert standing.score == 9  # long expired
    standing.next_change_on = date(2020, 7, 1)
    standing.score = 6
    assert services.refresh_due_standings() == 1
    assert standing.score == 9 and standing.next_change_on is None
    assert services.refresh_due_standings() == 0


def test_a_regulator_records_evidence_unverified_and_the_same_document_once(db, schemes):
    ent = make_enterprise()
    regulator = make_user(Role.REGULATOR)
    kwargs = dict(kind=EvidenceKind.PENALTY, occurred_on=date(2026, 1, 5), title="", document_no="淮环罚〔2026〕3号",
                  authority="淮安市生态环境局", amount_yuan=80000, penalty_type="fine", legal_basis="大气法第九十九条")
    first, created = services.record_regulator_evidence(regulator, ent, **kwargs)
    again, created_again = services.record_regulator_evidence(regulator, ent, **kwargs)
    assert created and not created_again and first.id == again.id
    assert not first.is_verified and first.recorded_by_id == regulator.id
    assert first.details == {"penalty_type": "fine", "legal_basis": "大气法第九十九条"}


@pytest.mark.parametrize("kind, extra, field", [
    (EvidenceKind.PENALTY, {"penalty_type": ""}, "penalty_type"),
    (EvidenceKind.PENALTY, {"penalty_type": "fine", "amount_yuan": None}, "amount_yuan"),
    (EvidenceKind.DAILY_PENALTY, {}, "amount_yuan"),
    (EvidenceKind.INCIDENT, {"incident_level": "bad"}, "incident_level"),
    (EvidenceKind.INSPECTION_FINDING, {}, "findings"),
    (EvidenceKind.CRIMINAL, {"document_no": " "}, "document_no"),
    (EvidenceKind.CRIMINAL, {"occurred_on": date(2099, 1, 1)}, "occurred_on"),
    (EvidenceKind.MONITORING_GAP, {}, "kind"),
])
def test_an_incomplete_evidence_record_names_the_field(db, schemes, kind, extra, field):
    ent = make_enterprise()
    kwargs = dict(kind=kind, occurred_on=date(2026, 1, 5), title="", document_no="X-1", authority="局")
    kwargs.update(extra)
    with pytest.raises(ValidationFailed) as err:
        services.record_regulator_evidence(make_user(), ent, **kwargs)
    assert field in err.value.errors


def test_evidence_outside_the_jurisdiction_cannot_be_recorded_or_confirmed(db, schemes):
    foreign = make_enterprise(region_code="210100")
    with pytest.raises(NotAllowed):
        services.record_regulator_evidence(make_user(), foreign, kind=EvidenceKind.CRIMINAL,
                                           occurred_on=date(2026, 1, 5), title="", document_no="X", authority="局")
    ev = _penalty(foreign, verified=False)
    with pytest.raises(NotAllowed):
        services.confirm_evidence(make_user(), ev)


def test_the_recorder_cannot_confirm_their_own_record_but_a_colleague_or_a_lead_can(db, schemes):
    ent = make_enterprise()
    recorder, colleague = make_user(Role.REGULATOR), make_user(Role.REGULATOR)
    ev = _penalty(ent, verified=False, actor=recorder)
    with pytest.raises(NotAllowed):
        services.confirm_evidence(recorder, ev)
    services.confirm_evidence(colleague, ev)
    assert ev.is_verified and ev.verified_by_id == colleague.id
    with pytest.raises(InvalidTransition):
        services.confirm_evidence(colleague, ev)
    lead = make_user(Role.REGULATOR_LEAD)
    own = _penalty(ent, ref="p:2", verified=False, actor=lead)
    services.confirm_evidence(lead, own)
    assert own.is_verified


def test_withdrawing_needs_a_reason(db, schemes):
    ent = make_enterprise()
    ev = _penalty(ent)
    with pytest.raises(ValidationFailed):
        services.withdraw_regulator_evidence(make_user(), ev, "  ")


def test_the_credit_json_hides_non_public_evidence_details(db, schemes):
    ent = make_enterprise()
    ev = _penalty(ent)
    ev.is_public = False
    data = services.credit_json(ent)
    assert data["scheme"]["code"] == "jiangsu-12" and data["grade"]["code"] == "blue" and data["score"] == 6
    assert data["ledger"][0]["evidence"]["document_no"] is None and data["ledger"][0]["points"] == -3
    assert data["history"][0]["grade"]["code"] == "blue"


def test_recompute_all_covers_every_enterprise_under_a_prefix(db, schemes):
    a, b = make_enterprise(), make_enterprise(region_code="210100")
    add_evidence(enterprise_id=a.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR, source_ref="p:a",
                 occurred_on=china_today() - timedelta(days=20), title="罚款", verified=True, amount_yuan=1000)
    db.session.execute(sa.delete(CreditStanding))
    assert services.recompute_all("32") == 1
    assert db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == a.id)).score == 6
    assert services.recompute_all() == 2
    # b has no confirmed evidence and no final annual result: never evaluated, so no standing, never "green 100".
    assert db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == b.id)) is None


def test_the_batch_recompute_gives_the_same_ledger_and_standing_as_the_incremental_update(db, schemes):
    ents = [make_enterprise() for _ in range(3)]
    _penalty(ents[0], "p:1")
    _penalty(ents[0], "p:2")
    _penalty(ents[1], "p:3", amount=None)
    incremental = {s.enterprise_id: (s.score, s.grade, s.next_change_on)
                   for s in db.session.scalars(sa.select(CreditStanding))}
    lines = sorted((e.enterprise_id, e.evidence_id, e.points, e.expires_on)
                   for e in db.session.scalars(sa.select(LedgerEntry)))
    assert services.recompute_all(batch=2) == 3
    batch = {s.enterprise_id: (s.score, s.grade, s.next_change_on)
             for s in db.session.scalars(sa.select(CreditStanding))}
    assert {k: batch[k] for k in incremental} == incremental
    assert ents[2].id not in batch  # never evaluated: no standing, not the start grade 9 blue
    assert sorted((e.enterprise_id, e.evidence_id, e.points, e.expires_on)
                  for e in db.session.scalars(sa.select(LedgerEntry))) == lines
    history = [h.grade for h in db.session.scalars(sa.select(GradeChange)
                                                   .where(GradeChange.enterprise_id == ents[0].id))]
    assert history == ["blue", "yellow"]  # no new row: the grade did not change


def test_a_lower_grade_between_runs_is_mailed_to_the_enterprise_users(db, schemes):
    from portal.mail.models import OutboxMessage

    ent = make_enterprise()
    make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    _penalty(ent, "p:1")  # first standing: blue, nothing to compare
    _penalty(ent, "p:2")  # 3 yellow: lower
    _penalty(ent, "p:3", amount=None)  # 2 red: lower again
    mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(mails) == 2
    assert ent.uscc in mails[0].body_text
    from_red = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == "p:3"))
    withdraw_evidence(from_red, make_user(), "撤销")
    withdraw_evidence(from_red, make_user(), "撤销")  # two people: back to yellow: better, no mail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
