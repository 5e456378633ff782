"""The colour mapping as pure rules: configuration + facts → colour and reasons."""
from __future__ import annotations

import pytest

from portal.envcode.rules import DEFAULT_RULES, Facts, RulesError, causes_changed, evaluate, parse_rules

RULES = parse_rules()


@pytest.mark.parametrize("facts, colour", [
    (Facts(grade="green"), "green"),
    (Facts(grade="blue"), "green"),
    (Facts(grade="yellow"), "yellow"),
    (Facts(grade="red"), "red"),
    (Facts(grade="black"), "red"),
    (Facts(grade="provincial-a"), "yellow"),          # a grade the mapping does not name
    (Facts(), "green"),                               # not yet graded
    (Facts(grade="green", black_listed=True), "red"),
    (Facts(grade="green", white_listed=True), "green"),
    (Facts(grade="green", white_listed=True, open_incidents=1), "yellow"),  # the positive list never improves
    (Facts(grade="green", open_incidents=2), "yellow"),
    (Facts(grade="green", open_incidents=3), "red"),
    (Facts(grade="green", overdue_obligations=1), "yellow"),
    (Facts(grade="green", overdue_obligations=2), "red"),
    (Facts(grade="yellow", open_incidents=1, overdue_obligations=1), "yellow"),
    (Facts(grade="red", open_incidents=0), "red"),
])
def test_the_code_takes_the_worst_colour_any_cause_calls_for(facts, colour):
    assert evaluate(RULES, facts).colour == colour


def test_reasons_list_every_applying_cause_worst_first_and_the_deciding_ones():
    verdict = evaluate(RULES, Facts(grade="blue", white_listed=True, open_incidents=4, overdue_obligations=1))
    assert [(r.code, r.colour, r.value) for r in verdict.reasons] == [
        ("open_incidents", "red", 4), ("overdue_obligations", "yellow", 1), ("grade", "green", "blue"),
        ("white_list", "green", None)]
    assert [r.code for r in verdict.deciding] == ["open_incidents"]


def test_a_green_code_explains_itself_by_its_grade():
    verdict = evaluate(RULES, Facts(grade="green"))
    assert verdict.colour == "green" and [r.code for r in verdict.deciding] == ["grade"]


def test_a_setting_overrides_the_defaults_key_by_key():
    strict = parse_rules({"open_incidents": [{"at_least": 1, "colour": "red"}], "grades": {"blue": "yellow"}})
    assert evaluate(strict, Facts(grade="green", open_incidents=1)).colour == "red"
    assert evaluate(strict, Facts(grade="blue")).colour == "yellow"
    assert evaluate(strict, Facts(grade="green")).colour == "yellow"  # green no longer named: other_grade
    assert strict.overdue_obligations == parse_rules().overdue_obligations


@pytest.mark.parametrize("setting, key", [
    ({"grades": {"green": "purple"}}, "grades.green"),
    ({"black_list": "black"}, "black_list"),
    ({"open_incidents": [{"at_least": 0, "colour": "red"}]}, "open_incidents[0]"),
    ({"open_incidents": [{"at_least": 2, "colour": "red"}, {"at_least": 1, "colour": "yellow"}]}, "open_incidents"),
    ({"overdue_obligations": [{"at_least": 1, "colour": "red"}, {"at_least": 2, "colour": "yellow"}]},
     "overdue_obligations"),
    ({"open_incidents": "many"}, "open_incidents"),
    ({"colour_of_sky": "green"}, "colour_of_sky"),
])
def test_a_malformed_setting_is_refused_naming_the_key(setting, key):
    with pytest.raises(RulesError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse_rules(setting)


def test_the_defaults_parse():
    assert parse_rules(DEFAULT_RULES) == RULES


def test_a_change_of_cause_without_a_change_of_colour_is_still_a_change():
    before = evaluate(RULES, Facts(grade="green", open_incidents=1))
    after = evaluate(RULES, Facts(grade="green", open_incidents=2))
    assert before.colour == after.colour == "yellow"
    assert causes_changed(before.colour, before.reasons_json(), after)
    assert not causes_changed(after.colour, after.reasons_json(), after)
