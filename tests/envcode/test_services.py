"""The stored code follows its causes in the same commit, with a history row per change (session hook), and the
refresh job is a backstop."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from portal.core.clock import china_today
from portal.credit import services as credit
from portal.credit.evidence import add_evidence
from portal.auth.models import Role
from portal.credit import findings
from portal.credit.models import (CreditListEntry, CreditStanding, Evidence, EvidenceKind, EvidenceSource, ListKind,
                                   ListStatus)
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus
from portal.envcode import services
from portal.envcode.models import EnvCode, EnvCodeChange
from portal.monitoring.models import ExceedanceIncident, IncidentState
from tests.factories import make_enterprise, make_incident, make_user


def _code(db, ent) -> EnvCode | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(EnvCode).where(EnvCode.enterprise_id == ent.id))


def _history(db, ent) -> list[EnvCodeChange]:
    return list(db.session.scalars(sa.select(EnvCodeChange).where(EnvCodeChange.enterprise_id == ent.id)
                                   .order_by(EnvCodeChange.id)))


def _incident(db, ent, hour: int = 0, confirmed: bool = True) -> ExceedanceIncident:
    return make_incident(ent, hour=hour, confirmed=confirmed)


def test_an_unconfirmed_exceedance_leaves_the_code_until_two_regulators_confirm_its_finding(db):
    ent = make_enterprise(region_code="320826")
    db.session.commit()
    services.recompute([ent.id])
    db.session.commit()
    incident = _incident(db, ent, confirmed=False)
    db.session.commit()
    assert _code(db, ent).colour == "green"  # detected, nobody confirmed it: no public verdict moves
    finding = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == f"exceedance:{incident.id}"))
    first, second = make_user(Role.REGULATOR), make_user(Role.REGULATOR)
    findings.confirm(first, finding)
    db.session.commit()
    assert _code(db, ent).colour == "green"  # one person is not enough
    findings.confirm(second, db.session.get(Evidence, finding.id))
    db.session.commit()
    code = _code(db, ent)
    assert code.colour == "yellow" and code.reasons[0] == {"code": "open_incidents", "colour": "yellow", "value": 1}


def test_an_exceedance_turns_the_code_yellow_in_the_same_commit_and_explaining_it_turns_it_back(db):
    ent = make_enterprise()
    db.session.commit()
    services.recompute([ent.id])
    db.session.commit()
    assert _code(db, ent).colour == "green"
    first_since = _code(db, ent).since

    incident = _incident(db, ent)
    db.session.commit()
    code = _code(db, ent)
    assert code.colour == "yellow"
    assert code.reasons[0] == {"code": "open_incidents", "colour": "yellow", "value": 1}
    assert code.since >= first_since

    incident = db.session.get(ExceedanceIncident, incident.id)
    incident.state = IncidentState.EXPLAINED
    db.session.commit()
    assert _code(db, ent).colour == "green"
    assert [(h.previous_colour, h.colour) for h in _history(db, ent)] == [(None, "green"), ("green", "yellow"),
                                                                           ("yellow", "green")]


def test_a_second_incident_records_a_history_row_but_keeps_the_since_date(db):
    ent = make_enterprise()
    _incident(db, ent, 0)
    db.session.commit()
    since = _code(db, ent).since
    _incident(db, ent, 1)
    db.session.commit()
    code = _code(db, ent)
    assert code.colour == "yellow" and code.since == since
    assert [h.reasons[0]["value"] for h in _history(db, ent)] == [1, 2]


def test_a_black_listing_makes_it_red_and_its_end_lifts_it(db):
    ent = make_enterprise()
    entry = CreditListEntry(enterprise_id=ent.id, kind=ListKind.BLACK, status=ListStatus.PRIOR_NOTICE, basis="veto",
                            reason="一票否决")
    db.session.add(entry)
    db.session.commit()
    assert _code(db, ent).colour == "green"  # prior notice is not a listing
    entry = db.session.get(CreditListEntry, entry.id)
    entry.status, entry.listed_on = ListStatus.LISTED, date(2026, 1, 5)
    db.session.commit()
    code = _code(db, ent)
    assert code.colour == "red" and code.reasons[0]["code"] == "black_list"
    entry = db.session.get(CreditListEntry, entry.id)
    entry.status = ListStatus.REMOVED
    db.session.commit()
    assert _code(db, ent).colour == "green"


def test_overdue_disclosure_obligations_count_until_filed(db):
    ent = make_enterprise()
    today = china_today()
    for year in (2023, 2024):
        db.session.add(Obligation(ref=f"annual:{ent.id}:{year}", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                                  year=year, due_on=today - timedelta(days=30), status=ObligationStatus.MISSING))
    db.session.commit()
    assert _code(db, ent).colour == "red"
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == f"annual:{ent.id}:2024"))
    ob.status, ob.submitted_at = ObligationStatus.LATE, datetime.now(timezone.utc)
    db.session.commit()
    code = _code(db, ent)
    assert code.colour == "yellow" and code.reasons[0] == {"code": "overdue_obligations", "colour": "yellow",
                                                           "value": 1}


def test_a_grade_lowered_by_new_evidence_changes_the_code_in_the_same_commit(db):
    credit.seed_schemes()
    ent = make_enterprise()
    db.session.commit()
    credit.recompute_enterprise(ent.id)
    db.session.commit()
    # Never evaluated: no standing, so the code has no grade cause (never the start grade's colour).
    assert db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id)) is None
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PERMIT_REVOKED, source=EvidenceSource.REGULATOR,
                 source_ref="test:revoked", occurred_on=china_today() - timedelta(days=40), title="吊销许可证",
                 verified=True, document_no="环罚〔2026〕1号", authority="生态环境局")
    db.session.commit()
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    code = _code(db, ent)
    assert standing.grade == "black"  # Jiangsu scheme (3208): permit revoked, −12
    assert code.colour == "red" and code.reasons[0] == {"code": "grade", "colour": "red", "value": "black"}


def test_core_bulk_standings_written_by_a_recompute_are_seen(db):
    credit.seed_schemes()
    ent = make_enterprise()
    db.session.commit()
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="test:fine", occurred_on=china_today() - timedelta(days=40), title="罚款",
                 verified=True, amount_yuan=1000, document_no="环罚〔2026〕2号", authority="生态环境局")
    db.session.execute(sa.delete(CreditStanding))
    db.session.commit()
    credit.recompute_all()  # Core executemany inserts of credit_standings naming the enterprise
    db.session.commit()
    code = _code(db, ent)
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    assert code is not None and {"code": "grade", "colour": code.colour, "value": standing.grade} in code.reasons


def test_an_unchanged_cause_adds_no_history(db):
    ent = make_enterprise()
    _incident(db, ent)
    db.session.commit()
    ent.contact_phone = "0517-1234567"  # not a cause
    services.recompute([ent.id])
    db.session.commit()
    assert len(_history(db, ent)) == 1


def test_the_refresh_job_creates_missing_codes_and_catches_a_deadline_passing(db):
    ent, other = make_enterprise(), make_enterprise()
    db.session.add(Obligation(ref=f"annual:{ent.id}:2025", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                              year=2025, due_on=china_today() + timedelta(days=1), status=ObligationStatus.PENDING))
    db.session.commit()
    assert _code(db, ent).colour == "green" and _code(db, other) is None
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.enterprise_id == ent.id))
    db.session.execute(sa.update(Obligation.__table__).where(Obligation.__table__.c.id == ob.id)
                       .values(due_on=china_today() - timedelta(days=1)))  # a Core write naming no enterprise
    db.session.commit()
    assert _code(db, ent).colour == "green"
    assert services.refresh_all() == {"enterprises": 2, "changed": 2}
    assert _code(db, ent).colour == "yellow" and _code(db, other).colour == "green"
    assert services.refresh_all() == {"enterprises": 2, "changed": 0}


def test_a_failing_recompute_does_not_block_the_write_that_triggered_it(db, monkeypatch, caplog):
    ent = make_enterprise()
    db.session.commit()

    def broken(ids, today=None):
        db.session.execute(sa.text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(services, "recompute", broken)
    incident = _incident(db, ent)
    db.session.commit()
    assert db.session.get(ExceedanceIncident, incident.id) is not None
    assert "will" in caplog.text  # logged for the job to repair


def test_many_touched_enterprises_are_recomputed_in_chunks(db, monkeypatch):
    """A full credit re-evaluation touches every enterprise in one commit: the recomputation goes in chunks (on
    PostgreSQL one IN list of 150,000 ids exceeded the 65,535 bind parameters and the codes were left stale)."""
    monkeypatch.setattr(services, "CHUNK", 2)
    ents = [make_enterprise(f"分块测试化工{i}有限公司") for i in range(5)]
    db.session.flush()
    services.recompute([e.id for e in ents] + [10 ** 9])  # an id that no longer exists is skipped
    codes = {c.enterprise_id for c in db.session.scalars(sa.select(EnvCode))}
    assert {e.id for e in ents} <= codes
