"""Pure disclosure rules: deadlines on the real calendar, obligation status, state machine, validation, digest."""
from __future__ import annotations

import copy
from datetime import date

import chinese_calendar
import pytest

from portal.disclosures import rules
from portal.disclosures.models import ObligationStatus, ReportStatus, Trigger
from portal.errors import InvalidTransition
from tests.disclosures.helpers import filled, not_applicable, valid_sections
from tests.factories import make_uscc

cn = chinese_calendar.is_workday
USCC = make_uscc(7)


@pytest.mark.parametrize("received, due", [
    (date(2025, 3, 7), date(2025, 3, 14)),    # received on a Friday: the received day is not counted
    (date(2025, 3, 8), date(2025, 3, 14)),    # received on a Saturday
    (date(2025, 9, 26), date(2025, 10, 10)),  # Friday before National Day 2025: make-up Sunday 28 Sep counts
    (date(2025, 9, 30), date(2025, 10, 14)),  # eve of National Day 2025: 9, 10, make-up Sat 11, 13, 14 Oct
    (date(2025, 10, 3), date(2025, 10, 14)),  # received during the National Day holiday
    (date(2026, 2, 13), date(2026, 2, 27)),   # Friday before Spring Festival 2026: make-up Sat 14 Feb, 24–27 Feb
    (date(2026, 2, 14), date(2026, 2, 28)),   # received on the make-up Saturday: due on the next make-up Saturday
    (date(2026, 2, 16), date(2026, 2, 28)),   # received during Spring Festival 2026
])
def test_a_temporary_report_is_due_five_working_days_after_the_document_arrived(received, due):
    assert rules.temporary_due_date(received, Trigger.ADMIN_PENALTY, cn) == due


@pytest.mark.parametrize("trigger", [Trigger.EMERGENCY, Trigger.CHANGE])
def test_incidents_and_changes_have_no_five_day_clock(trigger):
    assert rules.temporary_due_date(date(2025, 3, 7), trigger, cn) is None


@pytest.mark.parametrize("year, region, mapping, due", [
    (2025, "320826", None, date(2026, 3, 15)),                      # a Sunday: a fixed date does not move
    (2024, "320826", None, date(2025, 3, 15)),
    (2025, "440304", {"4403": "02-10"}, date(2026, 2, 10)),         # Shenzhen's earlier local deadline
    (2025, "440304", {"44": "03-01", "4403": "02-10"}, date(2026, 2, 10)),  # the longest prefix wins
    (2025, "440104", {"44": "03-01", "4403": "02-10"}, date(2026, 3, 1)),
    (2025, "320826", {"4403": "02-10"}, date(2026, 3, 15)),
])
def test_the_annual_report_is_due_on_the_configured_day_of_the_next_year(year, region, mapping, due):
    assert rules.annual_due_date(year, region, "03-15", mapping) == due


@pytest.mark.parametrize("due, submitted, today, status", [
    (date(2026, 3, 15), date(2026, 3, 15), date(2026, 3, 20), ObligationStatus.ON_TIME),  # the due day is on time
    (date(2026, 3, 15), date(2026, 3, 1), date(2026, 3, 1), ObligationStatus.ON_TIME),
    (date(2026, 3, 15), date(2026, 3, 16), date(2026, 3, 16), ObligationStatus.LATE),
    (date(2026, 3, 15), None, date(2026, 3, 15), ObligationStatus.PENDING),
    (date(2026, 3, 15), None, date(2026, 3, 16), ObligationStatus.MISSING),
])
def test_obligation_status_follows_due_date_and_filing_date(due, submitted, today, status):
    assert rules.obligation_status(due, submitted, today) == status


@pytest.mark.parametrize("today, offset", [
    (date(2026, 2, 13), 30), (date(2026, 3, 8), 7), (date(2026, 3, 14), 1), (date(2026, 3, 15), None),
    (date(2026, 3, 1), None),
])
def test_reminders_fall_30_7_and_1_days_before_the_due_date(today, offset):
    assert rules.reminder_offset(date(2026, 3, 15), today) == offset


@pytest.mark.parametrize("status, action, result", [
    (ReportStatus.DRAFT, "edit", ReportStatus.DRAFT),
    (ReportStatus.DRAFT, "submit", ReportStatus.PUBLISHED),
    (ReportStatus.PUBLISHED, "correct", ReportStatus.CORRECTED),
    (ReportStatus.CORRECTED, "correct", ReportStatus.CORRECTED),
])
def test_allowed_transitions(status, action, result):
    assert rules.transition(status, action) == result


@pytest.mark.parametrize("status, action", [
    (ReportStatus.PUBLISHED, "edit"), (ReportStatus.PUBLISHED, "submit"), (ReportStatus.CORRECTED, "edit"),
    (ReportStatus.DRAFT, "correct"), (ReportStatus.DRAFT, "delete"), (ReportStatus.PUBLISHED, "delete"),
    (ReportStatus.CORRECTED, "delete"),
])
def test_no_edit_after_submission_no_deletion_and_corrections_only_of_published_reports(status, action):
    with pytest.raises(InvalidTransition):
        rules.transition(status, action)


def _codes(issues):
    return {i.code for i in issues}


def test_a_complete_report_passes_without_warnings():
    check = rules.validate_report(valid_sections(USCC), {}, USCC)
    assert check.errors == [] and check.warnings == []


def test_an_empty_section_must_be_filled_or_declared_not_applicable():
    sections = valid_sections(USCC)
    sections["carbon"] = {"state": "empty", "data": {}}
    assert "carbon.state" in _codes(rules.validate_report(sections, {}, USCC).errors)


@pytest.mark.parametrize("section, entry, code", [
    ("carbon", not_applicable(""), "carbon.reason"),
    ("basic", not_applicable(), "basic.state"),
    ("summary", filled({"summary": ""}), "summary.summary.required"),
    ("carbon", filled({"co2_t": "-3"}), "carbon.co2_t.invalid"),
    ("carbon", filled({"co2_t": "三吨"}), "carbon.co2_t.invalid"),
    ("emergency", filled({"plan_filed": "maybe"}), "emergency.plan_filed.invalid"),
    ("management", filled({"permits": [{"permit_no": "91320826XXXX"}]}), "management.permits-1-permit_no.invalid"),
    ("violations", filled({"penalties": [{"decision_no": "淮环罚〔2025〕3号", "decided_on": "2025/3/1"}]}),
     "violations.penalties-1-decided_on.invalid"),
])
def test_hard_errors_name_the_field(section, entry, code):
    sections = valid_sections(USCC)
    sections[section] = entry
    assert code in _codes(rules.validate_report(sections, {}, USCC).errors)


def test_a_compliance_rate_above_100_percent_is_an_error():
    sections = valid_sections(USCC)
    sections["pollution"]["data"]["monitoring_compliance_pct"] = "101"
    assert "pollution.monitoring_compliance_pct.invalid" in _codes(rules.validate_report(sections, {}, USCC).errors)


def test_an_emission_row_without_a_unit_is_an_error_and_mean_above_max_too():
    sections = valid_sections(USCC)
    row = sections["pollution"]["data"]["emissions"][0]
    row.update(unit="", avg_conc="90", max_conc="80")
    codes = _codes(rules.validate_report(sections, {}, USCC).errors)
    assert {"pollution.emissions-1-unit.required", "pollution.emissions.1.mean_above_max"} <= codes


def test_inconsistent_totals_are_warnings_not_errors():
    sections = valid_sections(USCC)
    data = sections["pollution"]["data"]
    data["emissions"][0].update(annual_t="25", max_conc="120")
    data["waste"][0].update(disposed_t="20")
    data["hazardous_waste_total_t"] = "30"
    check = rules.validate_report(sections, {}, USCC)
    assert check.ok
    assert _codes(check.warnings) == {"pollution.emissions.1.above_permitted",
                                      "pollution.emissions.1.peak_without_exceedance",
                                      "pollution.waste.1.balance", "pollution.hazardous_waste_total_t.sum"}
    assert check.unacknowledged(["pollution.waste.1.balance"]) and len(check.unacknowledged(
        [w.code for w in check.warnings])) == 0


def test_a_changed_prefilled_value_needs_a_reason():
    sections = valid_sections(USCC)
    sections["basic"]["prefill"] = {"legal_rep": {"value": "赵六", "source": "registry"}}
    assert "basic.legal_rep.override" in _codes(rules.validate_report(sections, {}, USCC).errors)
    sections["basic"]["overrides"] = {"legal_rep": {"value": "张三", "reason": "2025年12月变更", "source": "registry"}}
    assert rules.validate_report(sections, {}, USCC).ok


def test_the_financing_section_applies_only_to_listed_companies_and_bond_issuers():
    sections = valid_sections(USCC)
    del sections["financing"]
    assert rules.validate_report(sections, {"financing": False}, USCC).ok
    assert "financing.state" in _codes(rules.validate_report(sections, {"financing": True}, USCC).errors)


def test_canonical_json_does_not_depend_on_key_order():
    a = {"b": 1, "a": {"y": "中", "x": [1, 2]}}
    b = {"a": {"x": [1, 2], "y": "中"}, "b": 1}
    assert rules.canonical_json(a) == rules.canonical_json(b) == '{"a":{"x":[1,2],"y":"中"},"b":1}'
    assert rules.sha256_hex(rules.canonical_json(a)) != rules.sha256_hex(rules.canonical_json({**a, "b": 2}))


@pytest.mark.parametrize("raw, expected", [
    ("A" * 64, "a" * 64), (" " + "0" * 32 + "\n" + "f" * 32, "0" * 32 + "f" * 32), ("abc", None), ("g" * 64, None),
])
def test_pasted_digests_are_normalised(raw, expected):
    assert rules.normalise_digest(raw) == expected


def test_a_change_lists_only_changed_fields_and_needs_a_reason_for_each():
    original = {"carbon.co2_t": "100", "carbon.co2_prev_t": "90"}
    changes, errors = rules.diff_changes(original, {"carbon.co2_t": "120", "carbon.co2_prev_t": "90"}, {})
    assert changes == [{"key": "carbon.co2_t", "old": "100", "new": "120", "reason": ""}]
    assert set(errors) == {"carbon.co2_t"}
    changes, errors = rules.diff_changes(original, {"carbon.co2_t": "120"}, {"carbon.co2_t": "核算错误"})
    assert errors == {} and changes[0]["reason"] == "核算错误"


def test_flat_fields_offer_filled_and_not_applicable_sections_but_not_empty_ones():
    sections = copy.deepcopy(valid_sections(USCC))
    sections["emergency"] = {"state": "empty", "reason": "", "data": {}, "prefill": {}, "overrides": {}}
    flat = rules.flat_fields(sections)
    assert flat["basic.legal_rep"] == "张三"
    assert flat["carbon.co2_t"] == ""  # not applicable: a correction may turn it into content (Art. 18)
    assert not any(k.startswith(("emergency.", "financing.")) for k in flat)


PRE = [{"outlet_code": "DW001", "limit": "100"}, {"outlet_code": "DA001", "limit": "20"}]


@pytest.mark.parametrize("current, changed", [
    ([{"outlet_code": "DW001", "limit": "100", "avg_conc": "35"}, {"outlet_code": "DA001", "limit": "20"}], False),
    (PRE + [{"outlet_code": "DW002", "limit": "50"}], False),  # an added row is not a change
    ([{"outlet_code": "DW001", "limit": "120"}, {"outlet_code": "DA001", "limit": "20"}], True),
    ([{"outlet_code": "DW001", "limit": "100"}], True),  # a removed row is
])
def test_completing_or_adding_prefilled_rows_is_not_an_override_but_editing_or_removing_is(current, changed):
    assert rules.prefill_changed(PRE, current) is changed


@pytest.mark.parametrize("prefilled, current, changed", [("张三", "张三", False), ("张三", "李四", True),
                                                         ("", None, False), (None, "", False)])
def test_scalar_prefill_changes(prefilled, current, changed):
    assert rules.prefill_changed(prefilled, current) is changed


@pytest.mark.parametrize("received, published, due", [
    (date(2026, 2, 2), date(2026, 3, 20), date(2026, 4, 3)),   # before publication: 10 working days after it
    (date(2026, 3, 20), date(2026, 3, 20), date(2026, 3, 27)),  # on the day of publication: the regular clock
    (date(2025, 12, 1), date(2026, 3, 20), date(2025, 12, 8)),  # last year's event: the regular clock
    (date(2026, 2, 2), None, date(2026, 2, 9)),                 # on no published list
])
def test_events_before_the_list_was_published_are_due_ten_working_days_after_it(received, published, due):
    regular = rules.temporary_due_date(received, Trigger.ADMIN_PENALTY, cn)
    assert rules.pre_list_due_date(received, published, regular, cn) == due
