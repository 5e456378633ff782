"""Pure reward rules: eligibility, first reporter, amounts from the table, four eyes, visibility, payment."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from portal.auth.models import Role
from portal.rewards import rules
from portal.rewards.models import RewardStatus

TABLE = rules.parse_table({"tiers": [{"code": "general", "amount_yuan": 500}, {"code": "major", "amount_yuan": 2000}],
                           "insider_bonus_percent": 50, "max_amount_yuan": 2500})
ELIGIBLE = dict(real_name=True, first_reporter=True, already_known=False, substantiated=True)


def test_a_real_name_first_unknown_substantiated_report_is_eligible():
    assert rules.ineligibility(rules.Facts(**ELIGIBLE)) == []


@pytest.mark.parametrize("change, reason", [
    ({"real_name": False}, rules.NOT_REAL_NAME), ({"first_reporter": False}, rules.NOT_FIRST),
    ({"already_known": True}, rules.ALREADY_KNOWN), ({"substantiated": False}, rules.NOT_SUBSTANTIATED)])
def test_each_missing_condition_is_named_as_the_reason(change, reason):
    assert rules.ineligibility(rules.Facts(**{**ELIGIBLE, **change})) == [reason]


def test_every_failing_condition_is_listed_and_the_insider_flag_never_refuses():
    facts = rules.Facts(real_name=False, first_reporter=False, already_known=True, substantiated=False, insider=True)
    assert rules.ineligibility(facts) == list(rules.REASONS)
    assert rules.ineligibility(rules.Facts(**ELIGIBLE, insider=True)) == []


@pytest.mark.parametrize("anonymous, identity, expected", [
    (False, {"name": "李四", "id_no": "3208", "phone": "138"}, True),
    (False, {"name": "李四", "id_no": "3208", "email": "a@b.cn"}, True),
    (False, {"name": "李四", "phone": "138"}, False),  # no ID number
    (False, {"id_no": "3208", "phone": "138"}, False),  # no name
    (False, {"name": "李四", "id_no": "3208"}, False),  # no way to reach the reporter
    (True, {"name": "李四", "id_no": "3208", "phone": "138"}, False),  # reported anonymously
])
def test_real_name_needs_a_name_an_id_number_and_a_contact(anonymous, identity, expected):
    assert rules.is_real_name(anonymous, identity) is expected


def test_only_the_earliest_report_of_a_duplicate_group_is_the_first_reporter():
    t = lambda h: datetime(2026, 5, 1, h, tzinfo=timezone.utc)  # noqa: E731
    group = [(10, t(9)), (11, t(8)), (12, t(10))]
    assert rules.is_first_reporter(11, group)
    assert not rules.is_first_reporter(10, group)
    assert rules.is_first_reporter(3, [(3, t(8)), (4, t(8))])  # same second: the lower id
    assert not rules.is_first_reporter(4, [(3, t(8)), (4, t(8))])


@pytest.mark.parametrize("tier, insider, amount", [("general", False, 500), ("general", True, 750),
                                                    ("major", False, 2000), ("major", True, 2500)])
def test_amount_is_the_tier_plus_the_insider_bonus_capped_at_the_maximum(tier, insider, amount):
    assert rules.proposed_amount(TABLE, tier, insider) == amount


def test_an_unknown_tier_is_refused():
    with pytest.raises(rules.TableError):
        rules.proposed_amount(TABLE, "huge", False)


@pytest.mark.parametrize("data, key", [
    ({}, "tiers"), ({"tiers": []}, "tiers"), ({"tiers": [{"amount_yuan": 5}]}, "tiers[0]"),
    ({"tiers": [{"code": "a", "amount_yuan": -1}]}, "tiers[0]"),
    ({"tiers": [{"code": "a", "amount_yuan": 1}, {"code": "a", "amount_yuan": 2}]}, "tiers[1]"),
    ({"tiers": [{"code": "a", "amount_yuan": 1}], "insider_bonus_percent": "50"}, "table")])
def test_a_malformed_table_is_refused_naming_the_key(data, key):
    with pytest.raises(rules.TableError, match=key.replace("[", r"\[").replace("]", r"\]")):
        rules.parse_table(data)


def test_the_longest_jurisdiction_prefix_gives_the_table():
    assert rules.table_prefix_for("320826", ["32", "3208", "21"]) == "3208"
    assert rules.table_prefix_for("210100", ["32", "3208"]) is None


def test_four_eyes_a_lead_decides_but_never_their_own_proposal():
    assert rules.approval_refusal(RewardStatus.PROPOSED, Role.REGULATOR_LEAD, 1, 2) is None
    refusal = rules.approval_refusal(RewardStatus.PROPOSED, Role.REGULATOR_LEAD, 2, 2)
    assert "four eyes" in refusal or "双人复核" in refusal
    assert rules.approval_refusal(RewardStatus.PROPOSED, Role.REGULATOR, 1, 2)
    assert rules.approval_refusal(RewardStatus.APPROVED, Role.REGULATOR_LEAD, 1, 2)


@pytest.mark.parametrize("role, user_id, jurisdiction, expected", [
    (Role.REGULATOR, 7, "3208", True),  # the handler
    (Role.REGULATOR, 8, "3208", False),  # another regulator of the same jurisdiction
    (Role.REGULATOR_LEAD, 9, "3208", True),  # the lead
    (Role.REGULATOR_LEAD, 9, "21", False),  # a lead elsewhere
    (Role.ENTERPRISE_STAFF, 7, None, False), (Role.ADMIN, 7, None, False), (None, None, None, False)])
def test_reward_data_is_seen_by_the_handler_and_the_lead_only(role, user_id, jurisdiction, expected):
    assert rules.can_see_reward(role, user_id, 7, jurisdiction, "320826", "320826") is expected


def test_transitions_follow_the_state_machine():
    assert rules.can_transition(RewardStatus.INELIGIBLE, RewardStatus.PROPOSED)
    assert rules.can_transition(RewardStatus.APPROVED, RewardStatus.PAID)
    assert not rules.can_transition(RewardStatus.PROPOSED, RewardStatus.PAID)
    assert not rules.can_transition(RewardStatus.REJECTED, RewardStatus.PROPOSED)


def test_payment_needs_approval_a_date_between_approval_and_today_a_method_and_a_reference():
    today, approved = date(2026, 6, 10), date(2026, 6, 1)
    assert rules.payment_problems(RewardStatus.APPROVED, date(2026, 6, 5), today, "bank_transfer", "TX123",
                                  approved) == {}
    errors = rules.payment_problems(RewardStatus.APPROVED, date(2026, 5, 30), today, "", "x", approved)
    assert set(errors) == {"paid_on", "payment_method", "payment_reference"}
    assert "paid_on" in rules.payment_problems(RewardStatus.APPROVED, date(2026, 6, 11), today, "cash", "R-1",
                                               approved)
    assert "status" in rules.payment_problems(RewardStatus.PROPOSED, date(2026, 6, 5), today, "cash", "R-1", None)


def test_the_reporter_reads_a_rejection_like_ineligibility():
    assert rules.public_status(RewardStatus.REJECTED) == rules.public_status(RewardStatus.INELIGIBLE) == "not_eligible"
    assert rules.public_status(RewardStatus.PAID) == "paid"
