from decimal import Decimal as D
from datetime import date

import pytest

from portal.enterprises import rules


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108123456788E", "52440300000000019C",
                                  " 91110108-12345678 8e "])
def test_valid_credit_codes_pass_after_normalisation(code):
    assert rules.check_uscc(code).ok


@pytest.mark.parametrize("code, fragment", [
    ("91110108123456788F", "“E”"),
    ("9111010812345678E", "18"),
    ("9111010812345678IE", "“I”"),
    ("91AB0108123456788E", "3–8"),
])
def test_invalid_credit_codes_name_the_problem(app_ctx, code, fragment):
    result = rules.check_uscc(code)
    assert not result.ok
    assert fragment in result.error


def test_wrong_check_character_names_position_and_expected_character(app_ctx):
    error = rules.check_uscc("91110108123456788F").error
    assert "18" in error and "“F”" in error and "“E”" in error


@pytest.mark.parametrize("permit, uscc, ok", [
    ("91110108123456788E001P", "91110108123456788E", True),
    ("91110108123456788e001p", "91110108123456788E", True),
    ("91350100M000100Y43001P", "91110108123456788E", False),
    ("91110108123456788E01P", None, False),
])
def test_permit_numbers_must_start_with_the_enterprises_code(app_ctx, permit, uscc, ok):
    assert rules.check_permit_no(permit, uscc).ok is ok


@pytest.mark.parametrize("code, ok", [("DA001", True), ("dw012", True), ("DX001", False), ("DA01", False),
                                      ("DA0011", False)])
def test_outlet_codes_are_da_or_dw_with_three_digits(app_ctx, code, ok):
    assert rules.check_outlet_code(code).ok is ok


@pytest.mark.parametrize("value, low, high, ok", [
    (D("50"), None, None, True), (None, D("6"), D("9"), True), (None, None, None, False),
    (D("-1"), None, None, False), (None, D("6"), None, False), (None, D("9"), D("6"), False),
])
def test_a_limit_is_a_value_or_an_ordered_range(app_ctx, value, low, high, ok):
    assert (rules.check_limit(value, low, high) is None) is ok


@pytest.mark.parametrize("o2, medium, ok", [(None, "water", True), (D("6"), "gas", True), (D("6"), "water", False),
                                            (D("21"), "gas", False), (D("-1"), "gas", False)])
def test_reference_oxygen_only_for_gas_and_below_21_percent(app_ctx, o2, medium, ok):
    assert (rules.check_reference_o2(o2, medium) is None) is ok


@pytest.mark.parametrize("start, end, ok", [(date(2024, 1, 1), date(2029, 1, 1), True),
                                            (date(2024, 1, 1), date(2024, 1, 1), False),
                                            (date(2024, 1, 2), date(2024, 1, 1), False)])
def test_permit_validity_must_be_ordered(app_ctx, start, end, ok):
    assert (rules.check_validity(start, end) is None) is ok
