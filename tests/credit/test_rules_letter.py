"""Rules to the letter (issue 18), hand-worked from the sources in DOMAIN §2.1 (national 2013: 21 weighted
indicators, cut-offs 95/80/60), §2.3 (Jiangsu: points, validity from 15 days after the information, no repair by
application) and the "以上 includes the number" reading of the fine bands. Caps per behaviour class are scheme data."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.core.clock import china_today
from portal.credit import evidence_repair, presets, schemes, scoring, services
from portal.credit.evidence import add_evidence
from portal.credit.models import (CreditScheme, CreditSchemeVersion, CreditStanding, EvidenceKind, EvidenceSource,
                                  SchemeStatus)
from portal.credit.scoring import Fact
from tests.factories import make_enterprise

NAT = scoring.parse_rules(presets.NATIONAL_2013)
JS = scoring.parse_rules(presets.JIANGSU_12)
DAY = date(2026, 6, 1)


def _nat(*facts):
    return scoring.evaluate(NAT, [Fact(i + 1, *f) for i, f in enumerate(facts)], DAY).standing


# --- national 2013: the weighted total -------------------------------------------------------------------------------

def test_a_200000_yuan_fine_is_in_the_20_wan_and_above_band_and_costs_the_15_percent_indicator():
    [entry] = scoring.ledger(NAT, [Fact(1, "penalty", DAY, 200_000)])
    assert entry.rule_code == "penalty-200k-plus" and "20 万元以上" in entry.rule_label
    assert (_nat(("penalty", DAY, 200_000)).score, _nat(("penalty", DAY, 200_000)).grade) == (85, "blue")


def test_a_late_disclosure_and_an_exceedance_cost_their_weighted_share():
    # 环境信息公开 (3 %) 100 → 75, 达标排放 (15 %) 100 → 90: 100 − 0.75 − 1.5 = 97.75 → 97, 环保诚信 (green).
    s = _nat(("disclosure_late", date(2026, 2, 1)), ("monitoring_exceedance", date(2026, 3, 1)))
    assert (s.score, s.grade) == (97, "green")


def test_the_grade_is_read_from_the_exact_total_not_a_rounded_one():
    three = [("monitoring_exceedance", date(2026, 3, d)) for d in (1, 2, 3)]  # 达标排放 70: −4.5
    late = ("monitoring_late", date(2026, 4, 1))  # 自行监测 (3 %) 90: −0.3
    assert (_nat(*three, late).score, _nat(*three, late).grade) == (95, "green")  # 95.2
    late2 = ("monitoring_late", date(2026, 4, 2))  # 自行监测 80: −0.6 → 94.9, shown as 94, 环保良好 (blue)
    assert (_nat(*three, late, late2).score, _nat(*three, late, late2).grade) == (94, "blue")


def test_a_behaviour_class_costs_at_most_its_indicator_weight():
    # 群众投诉 (4 %): each substantiated complaint −25 on the indicator; four reach 0, a fifth changes nothing.
    four = [("complaint_substantiated", date(2026, 1, d)) for d in range(1, 5)]
    assert _nat(*four).score == 96
    assert _nat(*four, ("complaint_substantiated", date(2026, 1, 9))).score == 96


def test_two_penalties_and_a_general_incident_make_an_enterprise_yellow():
    # M11 0 (−15) and M10 0 (−10): 75 → 环保警示 (60–<80).
    s = _nat(("penalty", date(2026, 1, 5), 10_000), ("penalty", date(2026, 2, 5), 500_000),
             ("incident", date(2026, 3, 1), None, {"level": "general"}))
    assert (s.score, s.grade) == (75, "yellow")


def test_every_national_rule_names_an_indicator_of_the_scheme():
    codes = {i.code for i in NAT.indicators}
    assert NAT.method == "weighted_indicators" and all(r.indicator in codes for r in NAT.rules)
    bad = {**presets.NATIONAL_2013, "rules": [{**presets.NATIONAL_2013["rules"][0], "indicator": "Z9"}]}
    with pytest.raises(scoring.SchemeError, match=r"rules\[0\]: 'indicator'"):
        scoring.parse_rules(bad)


# --- Jiangsu: validity from 15 days after the information, no repair by application --------------------------------

def test_a_jiangsu_fine_counts_at_once_and_its_six_months_run_from_15_days_after_the_information():
    [entry] = scoring.ledger(JS, [Fact(1, "penalty", date(2026, 3, 10), 20_000)])
    assert (entry.points, entry.counts_from, entry.expires_on) == (-3, date(2026, 3, 10), date(2026, 9, 25))
    assert JS.method == "deductions" and JS.indicators == () and not JS.evidence_repair


def test_repair_by_application_is_offered_only_where_the_scheme_allows_it(db):
    services.seed_schemes()
    jiangsu, liaoning = make_enterprise(), make_enterprise(region_code="210100")
    items = {}
    for ent in (jiangsu, liaoning):
        items[ent.id] = add_evidence(
            enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
            source_ref=f"fine:{ent.id}", occurred_on=china_today() - timedelta(days=200), title="罚款",
            verified=True, amount_yuan=20_000, document_no=f"环罚〔2026〕{ent.id}号", authority="生态环境局")
    assert [code for code, _ in evidence_repair.ineligibility(items[jiangsu.id])] == ["scheme"]
    assert "scheme" not in [code for code, _ in evidence_repair.ineligibility(items[liaoning.id])]


# --- caps per behaviour class are scheme data ------------------------------------------------------------------------

def _capped(max_points=2):
    return scoring.parse_rules({**presets.JIANGSU_12, "caps": [
        {"code": "late-publication", "kinds": ["monitoring_late"], "max_points": max_points,
         "basis": "test variant"}]})


def test_a_cap_limits_what_one_behaviour_class_costs_in_a_calendar_year():
    scheme = _capped()
    facts = [Fact(i, "monitoring_late", date(2026, 1, i)) for i in range(1, 6)]
    facts.append(Fact(9, "monitoring_late", date(2027, 1, 2)))
    entries = scoring.ledger(scheme, facts)
    assert [e.points for e in entries] == [-1, -1, 0, 0, 0, -1]  # the 2027 entry starts a new period
    assert scoring.standing_on(scheme, entries, date(2026, 2, 1)).score == 7  # 9 − 2, not 9 − 5
    uncapped = scoring.ledger(JS, facts)
    assert scoring.standing_on(JS, uncapped, date(2026, 2, 1)).score == 4


@pytest.mark.parametrize("cap, message", [
    ({"code": "x", "kinds": ["nope"], "max_points": 2}, "kinds"),
    ({"code": "x", "kinds": ["monitoring_late"], "max_points": 0}, "max_points"),
    ({"code": "x", "kinds": ["monitoring_late"], "max_points": 2, "period": "month"}, "period"),
])
def test_a_malformed_cap_is_refused_naming_the_key(cap, message):
    with pytest.raises(scoring.SchemeError, match=message):
        scoring.parse_rules({**presets.JIANGSU_12, "caps": [cap]})


# --- shipped presets reach existing installations ----------------------------------------------------------------------

def test_an_unedited_older_preset_is_upgraded_audited_and_its_standings_regraded(db):
    old = {k: v for k, v in presets.NATIONAL_2013.items() if k not in ("method", "preset_revision")}
    old["rules"] = [{k: v for k, v in r.items() if k != "indicator"} for r in old["rules"]]
    scheme = CreditScheme(code=presets.NATIONAL_CODE, name="national", description="")
    db.session.add(scheme)
    db.session.flush()
    db.session.add(CreditSchemeVersion(scheme_id=scheme.id, number=1, status=SchemeStatus.ACTIVE, rules=old))
    db.session.flush()
    ent = make_enterprise(region_code="210100")
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="fine:1", occurred_on=china_today() - timedelta(days=20), title="罚款", verified=True,
                 amount_yuan=200_000, document_no="辽环罚〔2026〕1号", authority="沈阳市生态环境局")
    result = services.seed_schemes()
    assert "upgraded" in result[presets.NATIONAL_CODE]
    active = db.session.scalar(sa.select(CreditSchemeVersion).where(CreditSchemeVersion.status == SchemeStatus.ACTIVE,
                                                                    CreditSchemeVersion.scheme_id == scheme.id))
    assert active.number == 2 and active.rules["method"] == "weighted_indicators"
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "credit_scheme.preset_upgrade"))
    services.refresh_due_standings()
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == ent.id))
    assert (standing.scheme_version_id, standing.score, standing.grade) == (active.id, 85, "blue")
    assert "upgraded" not in services.seed_schemes().get(presets.NATIONAL_CODE, "")  # once
