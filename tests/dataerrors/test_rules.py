"""Pure data-error rules: transitions, the 15-working-day due date, who handles, input checks, codes."""
from datetime import date

import pytest

from portal.auth.models import Role
from portal.dataerrors import rules
from portal.dataerrors.models import Status
from portal.workdays.rules import weekday_is_workday


@pytest.mark.parametrize("current, new, ok", [
    (Status.RECEIVED, Status.ACKNOWLEDGED, True), (Status.RECEIVED, Status.CORRECTED, True),
    (Status.ACKNOWLEDGED, Status.REJECTED, True), (Status.ACKNOWLEDGED, Status.ACKNOWLEDGED, False),
    (Status.CORRECTED, Status.REJECTED, False), (Status.REJECTED, Status.ACKNOWLEDGED, False)])
def test_reports_move_forward_only_and_closed_reports_stay_closed(current, new, ok):
    assert rules.can_transition(current, new) is ok


def test_the_answer_is_due_fifteen_working_days_after_receipt_not_counting_the_day_itself():
    # Friday 2026-03-06 → three weeks of weekdays later (no holidays in the plain weekday calendar)
    assert rules.due_on(date(2026, 3, 6), weekday_is_workday) == date(2026, 3, 27)
    assert rules.due_on(date(2026, 3, 7), weekday_is_workday) == date(2026, 3, 27)  # Saturday counts from Monday


def test_only_regulators_covering_the_region_handle_a_report():
    assert rules.can_handle(Role.REGULATOR, "3208", "320826")
    assert rules.can_handle(Role.REGULATOR_LEAD, "32", "320826")
    assert not rules.can_handle(Role.REGULATOR, "2101", "320826")
    assert not rules.can_handle(Role.ENTERPRISE_STAFF, "3208", "320826")
    assert not rules.can_handle(None, "3208", "320826")


@pytest.mark.parametrize("today, status, state", [
    (date(2026, 3, 28), Status.RECEIVED, "overdue"), (date(2026, 3, 25), Status.ACKNOWLEDGED, "due_soon"),
    (date(2026, 3, 10), Status.RECEIVED, "on_track"), (date(2026, 4, 30), Status.CORRECTED, "done")])
def test_sla_state(today, status, state):
    assert rules.sla_state(today, date(2026, 3, 27), status) == state


@pytest.mark.parametrize("description, contact, name, problems", [
    ("短", "", "", {"description": "description_short"}),
    ("x" * 2001, "", "", {"description": "description_long"}),
    ("许可证编号有误，应为另一个编号。", "not-a-contact", "", {"contact": "contact_invalid"}),
    ("许可证编号有误，应为另一个编号。", "a@b", "", {"contact": "contact_invalid"}),
    ("许可证编号有误，应为另一个编号。", "138 0000 0000", "张三", {}),
    ("许可证编号有误，应为另一个编号。", "zhang@example.cn", "", {}),
    ("许可证编号有误，应为另一个编号。", "", "名" * 65, {"contact_name": "name_long"})])
def test_check_report(description, contact, name, problems):
    assert rules.check_report(description, contact, name) == problems


def test_contact_box_is_an_email_or_a_phone():
    assert rules.contact_fields(" a@example.cn ") == {"email": "a@example.cn"}
    assert rules.contact_fields("13800000000") == {"phone": "13800000000"}
    assert rules.contact_fields("  ") == {}


def test_tracking_codes_are_twelve_unambiguous_characters_and_typing_is_forgiving():
    code = rules.new_tracking_code()
    assert len(code) == 12 and set(code) <= set(rules.CODE_ALPHABET) and not set(code) & set("01IO")
    assert rules.normalise_code(rules.format_code(code).lower()) == code
    assert rules.format_code("ABCDEFGHJKLM") == "ABCD-EFGH-JKLM"
