from datetime import date

from portal.audit.models import AuditRecord
from portal.credit.evidence import EVIDENCE_LISTENERS, add_evidence, scoring_evidence, verify_evidence, withdraw_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from tests.factories import make_enterprise, make_user


def _add(ent, verified=True, ref="exceedance:1"):
    return add_evidence(enterprise_id=ent.id, kind=EvidenceKind.MONITORING_EXCEEDANCE, source=EvidenceSource.MONITORING,
                        source_ref=ref, occurred_on=date(2026, 3, 2), title="DW001 化学需氧量日均值超标 0.5 倍",
                        verified=verified)


def test_adding_the_same_evidence_twice_keeps_one_record(db):
    ent = make_enterprise()
    first, second = _add(ent), _add(ent)
    assert first.id == second.id
    assert db.session.query(AuditRecord).filter_by(action="evidence.add").count() == 1


def test_only_verified_and_not_withdrawn_evidence_scores(db):
    ent = make_enterprise()
    regulator = make_user()
    pending = _add(ent, verified=False, ref="penalty:1")
    confirmed = _add(ent, ref="exceedance:2")
    assert scoring_evidence(ent.id) == [confirmed]
    verify_evidence(pending, regulator)
    assert set(scoring_evidence(ent.id)) == {pending, confirmed}
    withdraw_evidence(confirmed, regulator, "监测数据经核实为设备故障")
    assert set(scoring_evidence(ent.id)) == {pending, confirmed}  # one person only asked
    withdraw_evidence(confirmed, make_user(), "监测数据经核实为设备故障")
    assert scoring_evidence(ent.id) == [pending]


def test_listeners_hear_every_change(db):
    heard = []
    EVIDENCE_LISTENERS.append(heard.append)
    try:
        ent = make_enterprise()
        ev = _add(ent, verified=False, ref="x:1")
        verify_evidence(ev, make_user())
    finally:
        EVIDENCE_LISTENERS.remove(heard.append)
    assert heard == [ev, ev]
