"""One grade, one truth (issue 18): credit.standing decides the current standing once; the enterprise page, the API
(detail and list), the search filter, the bulk grades CSV, the 环保码 and the PDF content all say the same."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import presets, scoring, services, standing
from portal.credit.evidence import add_evidence
from portal.credit.models import (CreditStanding, EvaluationResult, EvaluationRun, EvidenceKind, EvidenceSource,
                                  LedgerEntry, RunStatus)
from portal.db import utcnow
from portal.envcode import services as envcode
from portal.opendata import bulk
from tests.factories import make_enterprise, make_user

# --- the pure decision --------------------------------------------------------------------------------------------

JIANGSU = scoring.parse_rules(presets.JIANGSU_12)
TODAY = date(2026, 6, 1)


def _entry(evidence_id, points, counts_from, expires_on):
    return scoring.Entry(evidence_id, "fine", "罚款", points, False, counts_from, expires_on)


def _annual(grade="blue", score=9, version_id=1, year=2025):
    return standing.Annual(result_id=7, run_id=3, year=year, scheme_version_id=version_id, grade=grade, score=score,
                           is_vetoed=False, finalised_on=date(year + 1, 4, 20))


def test_nothing_confirmed_and_no_published_result_is_not_evaluated():
    assert standing.decide(JIANGSU, 1, [], TODAY, None) is None


def test_a_final_result_without_later_ledger_changes_is_the_current_grade():
    # An entry that counted during 2025 and still counts does not change anything after 31 December.
    entries = [_entry(1, -3, date(2025, 11, 1), date(2026, 11, 1))]
    d = standing.decide(JIANGSU, 1, entries, TODAY, _annual("blue", 6))
    assert (d.basis, d.grade, d.score, d.since, d.adjustments) == ("evaluation", "blue", 6, date(2026, 4, 20), ())


def test_ledger_changes_after_the_evaluated_period_make_the_dynamic_grade_current_and_say_which():
    lapsing = _entry(1, -3, date(2025, 11, 1), date(2026, 5, 1))  # stopped counting after 31 Dec 2025
    new = [_entry(2, -3, date(2026, 2, 1), date(2026, 8, 1)), _entry(3, -3, date(2026, 3, 1), date(2026, 9, 1))]
    d = standing.decide(JIANGSU, 1, [lapsing, *new], TODAY, _annual("blue", 6))
    # 9 − 3 − 3 = 3: yellow, since the last change on 1 May 2026 (the lapse of entry 1).
    assert (d.basis, d.grade, d.score, d.since) == ("dynamic", "yellow", 3, date(2026, 5, 1))
    assert {e.evidence_id for e in d.adjustments} == {1, 2, 3}


def test_a_changed_scheme_version_makes_the_ledger_current():
    d = standing.decide(JIANGSU, 2, [_entry(1, -3, date(2025, 11, 1), date(2026, 11, 1))], TODAY,
                        _annual("blue", 6, version_id=1))
    assert (d.basis, d.grade, d.score) == ("dynamic", "blue", 6)


def test_a_ledger_without_a_published_result_is_a_dynamic_grade_since_its_last_change():
    d = standing.decide(JIANGSU, 1, [_entry(1, -3, date(2026, 2, 1), date(2026, 8, 1))], TODAY, None)
    assert (d.basis, d.grade, d.score, d.since, d.next_change_on) == ("dynamic", "blue", 6, date(2026, 2, 1),
                                                                      date(2026, 8, 1))


# --- every reader agrees ------------------------------------------------------------------------------------------

@pytest.fixture
def world(db):
    services.seed_schemes()
    never = make_enterprise(name="从未评价化工有限公司")  # Jiangsu (3208)
    never_national = make_enterprise(name="未评国标化工有限公司", region_code="210100")
    graded = make_enterprise(name="动态扣分化工有限公司")
    annual_only = make_enterprise(name="年度评价化工有限公司")
    year = china_today().year - 2  # every ledger change below falls after its 31 December
    run = EvaluationRun(year=year, jurisdiction_prefix="32", status=RunStatus.FINAL, computed_at=utcnow(),
                        finalised_at=utcnow())
    db.session.add(run)
    db.session.flush()
    version = services.version_for_region("320800")
    for ent in (graded, annual_only):
        db.session.add(EvaluationResult(run_id=run.id, enterprise_id=ent.id, scheme_version_id=version.id, score=9,
                                        grade="blue"))
    db.session.flush()
    services.recompute_enterprises([graded.id, annual_only.id], reason="test")
    for n in (1, 2):
        add_evidence(enterprise_id=graded.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                     source_ref=f"fine:{n}", occurred_on=china_today() - timedelta(days=40 + n), title=f"罚款{n}",
                     verified=True, amount_yuan=20000, document_no=f"淮环罚〔2026〕{n}号", authority="淮安市生态环境局")
    db.session.commit()
    return {"never": never, "never_national": never_national, "graded": graded, "annual_only": annual_only,
            "run": run}


def _standing_row(db, ent):
    return db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))


def _search_names(client, **params):
    data = client.get("/api/v1/enterprises", query_string=params).get_json()["data"]
    return {row["name"]: row for row in data}


def test_a_never_evaluated_enterprise_is_not_evaluated_everywhere(db, client, world):
    for key in ("never", "never_national"):
        ent = world[key]
        assert standing.current_standing(ent.id).status == "not_evaluated"
        page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
        assert "Not evaluated" in page or "未评价" in page
        assert "环保诚信企业" not in page and "100/100" not in page and "蓝色（良好）" not in page
        api = client.get(f"/api/v1/enterprises/{ent.uscc}/credit").get_json()["data"]
        assert api["grade"] is None and api["status"] == "not_evaluated" and api["score"] is None
        assert api["scheme"]["code"] in ("jiangsu-12", "national-2013")  # the scheme that will apply
        assert envcode.facts_for([ent.id])[ent.id].grade is None
    for grade in ("green", "blue"):
        found = _search_names(client, q="化工", grade=grade)
        assert "从未评价化工有限公司" not in found and "未评国标化工有限公司" not in found
    listed = _search_names(client, q="化工")
    assert listed["从未评价化工有限公司"]["grade"] is None
    assert listed["从未评价化工有限公司"]["credit_status"] == "not_evaluated"
    usccs = {row[0] for row in bulk.grade_rows()}
    assert world["never"].uscc not in usccs and world["never_national"].uscc not in usccs


def test_an_annual_result_alone_is_the_grade_everywhere(db, client, world):
    ent = world["annual_only"]
    cur = standing.current_standing(ent.id)
    assert (cur.status, cur.basis, cur.grade_code, cur.score, cur.evaluation.year) == (
        "evaluated", "evaluation", "blue", 9, world["run"].year)
    api = client.get(f"/api/v1/enterprises/{ent.uscc}/credit").get_json()["data"]
    assert (api["status"], api["basis"], api["grade"]["code"], api["score"]) == ("evaluated", "evaluation", "blue", 9)
    assert "年度评价化工有限公司" in _search_names(client, q="化工", grade="blue")
    page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert f"/credit/results/{world['run'].id}" in page


def test_page_api_search_csv_and_envcode_agree_after_dynamic_deductions(db, client, world):
    ent = world["graded"]
    lines = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.enterprise_id == ent.id)).all()
    assert len(lines) == 2
    cur = standing.current_standing(ent.id)
    # Jiangsu: 9 − 3 − 3 = 3 → yellow; the annual result said blue 9.
    assert (cur.basis, cur.grade_code, cur.score, cur.evaluation.grade) == ("dynamic", "yellow", 3, "blue")
    assert set(cur.adjustment_ids) == {line.id for line in lines}
    api = client.get(f"/api/v1/enterprises/{ent.uscc}/credit").get_json()["data"]
    assert (api["status"], api["grade"]["code"], api["score"], api["basis"]) == ("evaluated", "yellow", 3, "dynamic")
    assert api["evaluation"]["grade"] == "blue" and sorted(api["adjustments"]) == sorted(l.id for l in lines)
    assert _search_names(client, q="化工", grade="yellow")["动态扣分化工有限公司"]["grade"] == "yellow"
    assert "动态扣分化工有限公司" not in _search_names(client, q="化工", grade="blue")
    rows = {row[0]: row for row in bulk.grade_rows()}
    assert rows[ent.uscc][5:7] == ("yellow", 3) and rows[ent.uscc][9] == "dynamic"
    assert rows[ent.uscc][11] == world["run"].year
    assert envcode.facts_for([ent.id])[ent.id].grade == "yellow"
    page = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    for line in lines:  # the one sentence names and links each ledger row that made the difference
        assert f'href="#ledger-{line.id}"' in page and f'id="ledger-{line.id}"' in page
    assert "黄色（警示）" in page


def test_my_credit_shows_the_current_grade_score_and_earliest_improvement_at_the_top(db, login, world):
    ent = world["graded"]
    client = login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    page = client.get("/credit/my").get_data(as_text=True)
    lines = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.enterprise_id == ent.id)
                               .order_by(LedgerEntry.expires_on)).all()
    # 3 → 6 when the first fine lapses: yellow → blue.
    assert "黄色（警示）" in page and lines[0].expires_on.isoformat() in page
    assert page.index("黄色（警示）") < page.index(lines[0].expires_on.isoformat())
    never = login(make_user(Role.ENTERPRISE_STAFF, enterprise=world["never"]))
    assert "蓝色（良好）" not in never.get("/credit/my").get_data(as_text=True)


def test_withdrawing_the_only_evidence_of_a_never_evaluated_enterprise_leaves_it_not_evaluated(db, world):
    ent = world["never"]
    ev = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                      source_ref="fine:x", occurred_on=china_today() - timedelta(days=30), title="罚款",
                      verified=True, amount_yuan=1000, document_no="淮环罚〔2026〕9号", authority="淮安市生态环境局")
    assert standing.current_standing(ent.id).grade_code == "blue"
    from portal.credit.evidence import withdraw_evidence

    withdraw_evidence(ev, make_user(), "录入错误")  # confirmed evidence: a second person must agree (DOMAIN §2.6)
    assert standing.current_standing(ent.id).grade_code == "blue"
    withdraw_evidence(ev, make_user(), "录入错误")
    assert standing.current_standing(ent.id).status == "not_evaluated"
    assert _standing_row(db, ent) is None


def test_the_refresh_job_picks_up_a_final_result_without_a_standing(db, world):
    ent = world["annual_only"]
    db.session.execute(sa.delete(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    db.session.commit()
    assert standing.current_standing(ent.id).status == "not_evaluated"
    services.refresh_due_standings()
    assert standing.current_standing(ent.id).grade_code == "blue"
