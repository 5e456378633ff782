"""Service-body scoring through the credit engine with the shipped scheme, four eyes, list status, periods."""
from __future__ import annotations

from datetime import date

import pytest

from portal.auth.models import Role
from portal.credit import scoring
from portal.servicebodies import rules
from portal.servicebodies.presets import SERVICE_BODY_DEFAULT

SCHEME = scoring.parse_rules(SERVICE_BODY_DEFAULT)
TODAY = date(2026, 6, 1)


def _standing(*rows: rules.EvidenceRow) -> scoring.Standing:
    return scoring.evaluate(SCHEME, rules.scoring_facts(list(rows)), TODAY).standing


def _row(i, kind, on=date(2026, 3, 1), confirmed=True, withdrawn=False):
    return rules.EvidenceRow(id=i, kind=kind, occurred_on=on, is_confirmed=confirmed, is_withdrawn=withdrawn)


def test_a_body_without_findings_has_the_best_grade_and_is_not_listed():
    standing = _standing()
    assert (standing.score, standing.grade, rules.list_status(standing)) == (100, "A", None)


def test_negligent_work_lowers_the_grade_without_listing():
    standing = _standing(_row(1, "negligent_work"))
    assert (standing.score, standing.grade, rules.list_status(standing)) == (85, "B", None)


def test_a_falsified_lab_report_is_a_veto_that_lists_the_body():
    standing = _standing(_row(1, "report_untrue"))
    assert standing.score == 70 and standing.grade == "D" and standing.is_vetoed
    assert rules.list_status(standing) == rules.SERIOUS_DISHONESTY


@pytest.mark.parametrize("row", [_row(1, "data_falsified", confirmed=False), _row(1, "data_falsified", withdrawn=True)])
def test_unconfirmed_or_withdrawn_findings_never_count(row):
    assert _standing(row).grade == "A"


def test_a_finding_stops_counting_when_its_validity_ends():
    old = _row(1, "negligent_work", on=date(2025, 5, 1))  # 12 months: ended 2026-05-01
    untrue = _row(2, "report_untrue", on=date(2024, 5, 1))  # 24 months: ended 2026-05-01
    assert _standing(old, untrue).grade == "A"


def test_four_eyes_the_recorder_never_confirms_their_own_finding():
    assert rules.confirm_refusal(Role.REGULATOR, 5, "3208", "320826", 4, False, False) is None
    refusal = rules.confirm_refusal(Role.REGULATOR_LEAD, 4, "3208", "320826", 4, False, False)
    assert "four eyes" in refusal or "双人复核" in refusal
    assert rules.confirm_refusal(Role.REGULATOR, 5, "21", "320826", 4, False, False)  # other jurisdiction
    assert rules.confirm_refusal(Role.ENTERPRISE_STAFF, 5, None, "320826", 4, False, False)
    assert rules.confirm_refusal(Role.REGULATOR, 5, "3208", "320826", 4, True, False)  # already confirmed


def test_findings_need_a_document_number_and_a_past_date():
    assert rules.evidence_problems("报告数据不实", "环监〔2026〕1号", TODAY, TODAY) == {}
    errors = rules.evidence_problems("", "", None, TODAY)
    assert set(errors) == {"title", "document_no", "occurred_on"}
    assert "occurred_on" in rules.evidence_problems("报告数据不实", "环监1号", date(2026, 6, 2), TODAY)


def test_engagement_periods():
    assert set(rules.engagement_problems(date(2026, 1, 1), date(2025, 1, 1))) == {"ends_on"}
    assert set(rules.engagement_problems(None, None)) == {"starts_on"}
    assert rules.engagement_problems(date(2026, 1, 1), None) == {}
    assert rules.serving_on(date(2026, 1, 1), None, TODAY)
    assert not rules.serving_on(date(2026, 1, 1), date(2026, 5, 31), TODAY)
