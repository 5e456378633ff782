"""Rule tests per scheme: every deduction, expiry, veto, threshold edge, and the Jiangsu examples (DOMAIN §2.3)."""
from datetime import date

import pytest

from portal.credit import presets, scoring
from portal.credit.scoring import Fact, SchemeError

JS = scoring.parse_rules(presets.JIANGSU_12)
NAT = scoring.parse_rules(presets.NATIONAL_2013)
DAY = date(2026, 3, 1)


def _eval(scheme, *facts, as_of=DAY):
    return scoring.evaluate(scheme, [Fact(i + 1, *f) if isinstance(f, tuple) else f for i, f in enumerate(facts)],
                            as_of)


# --- grades at the threshold edges --------------------------------------------------------------------------------

@pytest.mark.parametrize("score, grade", [(12, "green"), (11, "green"), (10, "blue"), (6, "blue"), (5, "yellow"),
                                          (3, "yellow"), (2, "red"), (1, "red"), (0, "black"), (-3, "black")])
def test_jiangsu_scores_map_to_the_five_colours(score, grade):
    assert scoring.grade_for(JS, score) == grade


@pytest.mark.parametrize("score, grade", [(100, "green"), (95, "green"), (94, "blue"), (80, "blue"), (79, "yellow"),
                                          (60, "yellow"), (59, "red"), (0, "red")])
def test_national_scores_map_to_four_grades_with_cut_offs_95_80_60(score, grade):
    assert scoring.grade_for(NAT, score) == grade


def test_national_thresholds_are_data_and_can_be_changed():
    data = {**presets.NATIONAL_2013, "grades": [dict(g) for g in presets.NATIONAL_2013["grades"]]}
    data["grades"][0]["min_score"] = 96  # Fujian 2016
    assert scoring.grade_for(scoring.parse_rules(data), 95) == "blue"


# --- the Jiangsu examples -----------------------------------------------------------------------------------------

def test_a_newly_enrolled_jiangsu_unit_starts_at_9_blue():
    result = _eval(JS)
    assert (result.standing.score, result.standing.grade) == (9, "blue")


def test_a_jiangsu_fine_for_exceeding_limits_deducts_3_for_6_months_then_is_restored():
    # Counts once entered; its 6-month validity runs from 15 days after the information (2020 rule, DOMAIN §2.3):
    # 10 Jan + 15 days = 25 Jan, + 6 months = 25 Jul, the first day it no longer counts.
    result = _eval(JS, ("penalty", date(2026, 1, 10), 50000))
    assert result.standing.score == 6
    [entry] = result.entries
    assert (entry.rule_code, entry.points, entry.counts_from, entry.expires_on) == (
        "fine", -3, date(2026, 1, 10), date(2026, 7, 25))
    assert scoring.standing_on(JS, result.entries, date(2026, 7, 24)).score == 6
    assert scoring.standing_on(JS, result.entries, date(2026, 7, 25)).score == 9


def test_a_jiangsu_warning_deducts_1():
    assert _eval(JS, ("penalty", date(2026, 2, 1), None)).standing.score == 8


def test_a_jiangsu_criminal_liability_deducts_12_and_turns_black():
    result = _eval(JS, ("criminal", date(2026, 2, 1)))
    assert (result.standing.score, result.standing.grade) == (-3, "black")
    assert result.entries[0].expires_on == date(2027, 2, 16)  # 1 Feb + 15 days + 12 months


def test_a_jiangsu_credit_commitment_adds_1_and_the_score_never_exceeds_12():
    assert _eval(JS, ("commendation", date(2026, 2, 1))).standing.score == 10
    many = [("commendation", date(2026, 2, d)) for d in range(1, 8)]
    assert _eval(JS, *many).standing.score == 12


def test_two_jiangsu_fines_make_a_unit_yellow_and_one_more_makes_it_red():
    two = _eval(JS, ("penalty", date(2026, 1, 10), 10000), ("penalty", date(2026, 2, 10), 10000))
    assert (two.standing.score, two.standing.grade) == (3, "yellow")
    three = _eval(JS, ("penalty", date(2026, 1, 10), 10000), ("penalty", date(2026, 2, 10), 10000),
                  ("inspection_finding", date(2026, 2, 20)))
    assert (three.standing.score, three.standing.grade) == (2, "red")


@pytest.mark.parametrize("kind, details, points, months", [
    ("criminal", {}, -12, 12), ("permit_revoked", {}, -12, 12), ("detention", {}, -6, 12),
    ("incident", {"level": "larger"}, -12, 12), ("incident", {"level": "general"}, -3, 6),
    ("production_stop", {}, -6, 12), ("daily_penalty", {}, -6, 6), ("production_limit", {}, -3, 6),
    ("supervised_listing", {}, -6, 12), ("inspection_finding", {}, -1, 6), ("disclosure_missing", {}, -2, 6),
    ("disclosure_defective", {}, -1, 6), ("disclosure_late", {}, -1, 6), ("monitoring_exceedance", {}, -1, 6),
    ("monitoring_gap", {}, -1, 6), ("monitoring_late", {}, -1, 6), ("complaint_substantiated", {}, -1, 6),
    ("commendation", {}, 1, 12),
])
def test_every_jiangsu_rule_deducts_its_points_for_its_validity(kind, details, points, months):
    [entry] = scoring.ledger(JS, [Fact(1, kind, date(2026, 1, 31), None, details)])
    assert entry.points == points
    # validity from 15 days after the information: 31 Jan + 15 days = 15 Feb
    assert entry.expires_on == {6: date(2026, 8, 15), 12: date(2027, 2, 15)}[months]


# --- national scheme ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, rule", [
    (None, "penalty"), (49999, "penalty"), (50000, "penalty-50k-plus"), (199999, "penalty-50k-plus"),
    (200000, "penalty-200k-plus"), (999999, "penalty-200k-plus"), (1000000, "penalty-1m-plus"),
])
def test_national_fine_bands_include_their_lower_boundary(amount, rule):
    # "以上" includes the number itself: ¥200,000 is a "20万元以上" fine, ¥50,000 a "5万元以上" one.
    [entry] = scoring.ledger(NAT, [Fact(1, "penalty", DAY, amount)])
    assert entry.rule_code == rule


@pytest.mark.parametrize("kind, details", [("criminal", {}), ("permit_revoked", {}), ("detention", {}),
                                           ("incident", {"level": "larger"}), ("incident", {"level": "major"}),
                                           ("incident", {"level": "especially_major"})])
def test_national_veto_events_force_red_whatever_the_score(kind, details):
    result = _eval(NAT, (kind, date(2026, 1, 5), None, details))
    assert result.standing.is_vetoed and result.standing.grade == "red"


def test_a_general_incident_is_not_a_veto():
    result = _eval(NAT, ("incident", date(2026, 1, 5), None, {"level": "general"}))
    assert not result.standing.is_vetoed
    assert (result.standing.score, result.standing.grade) == (90, "blue")


def test_the_veto_lapses_with_its_validity_and_that_is_the_earliest_improvement():
    result = _eval(NAT, ("criminal", date(2026, 1, 5)))
    assert result.earliest_improvement == date(2027, 1, 5)
    assert scoring.standing_on(NAT, result.entries, date(2027, 1, 5)).grade == "green"


def test_a_national_behaviour_class_never_costs_more_than_its_indicator_weight():
    # 行政处罚与行政命令 (M11, 15 %) scores 0 with any penalty: one fine or five, the total is 100 − 15 = 85.
    result = _eval(NAT, *[("penalty", date(2026, 1, d), 2_000_000) for d in range(1, 6)])
    assert (result.standing.score, result.standing.grade) == (85, "blue")


# --- what-if ------------------------------------------------------------------------------------------------------

def test_what_if_lists_each_expiry_and_the_first_date_the_grade_improves():
    result = _eval(JS, ("penalty", date(2026, 1, 10), 10000), ("penalty", date(2026, 2, 10), 10000),
                   ("production_stop", date(2026, 2, 15)))
    assert (result.standing.score, result.standing.grade) == (-3, "black")
    # validity from 15 days after each information: 25 Jan → 25 Jul, 25 Feb → 25 Aug, 2 Mar → 2 Mar 2027
    assert [s.on for s in result.steps] == [date(2026, 7, 25), date(2026, 8, 25), date(2027, 3, 2)]
    assert [s.standing.score for s in result.steps] == [0, 3, 9]
    assert result.earliest_improvement == date(2026, 8, 25)
    assert result.next_change_on == date(2026, 7, 25)


def test_evidence_dated_in_the_future_of_as_of_starts_counting_later():
    result = _eval(JS, ("penalty", date(2026, 4, 1), 1000))
    assert result.standing.score == 9 and result.steps[0].starting


def test_no_improvement_is_promised_when_nothing_expires():
    assert _eval(JS).earliest_improvement is None


# --- malformed schemes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"start_score": "9"}, "start_score"),
    ({"grades": [{"code": "a", "min_score": None}]}, "at least two"),
    ({"grades": [{"code": "a", "min_score": 5}, {"code": "b", "min_score": 6}, {"code": "c", "min_score": None}]},
     "fall"),
    ({"veto_grade": "purple"}, "veto_grade"),
    ({"rules": [{"code": "x", "kind": "penalty", "points": 1}]}, "validity_months"),
])
def test_a_malformed_scheme_is_refused_naming_the_key(change, message):
    with pytest.raises(SchemeError, match=message):
        scoring.parse_rules({**presets.JIANGSU_12, **change})


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)), (date(2026, 7, 15), 6, date(2027, 1, 15)),
    (date(2026, 12, 1), 12, date(2027, 12, 1)), (date(2026, 3, 10), 0, date(2026, 3, 10)),
])
def test_validity_months_end_on_the_same_day_or_the_months_last_day(day, months, expected):
    assert scoring.add_months(day, months) == expected


def test_without_steps_the_standing_and_next_change_are_the_same():
    facts = [Fact(1, "penalty", date(2026, 1, 10), 50000), Fact(2, "criminal", date(2026, 2, 1))]
    full, quick = scoring.evaluate(JS, facts, DAY), scoring.evaluate(JS, facts, DAY, with_steps=False)
    assert (quick.standing, quick.next_change_on) == (full.standing, full.next_change_on)
    assert quick.steps == () and full.steps
