"""Pure password and lockout rules (NIST SP 800-63B)."""
import pytest

pytestmark = pytest.mark.usefixtures("request_ctx")

from portal.auth.passwords import check_password, common_passwords, lockout_seconds


@pytest.mark.parametrize("password", [
    "correct horse battery staple",
    "Zq8!vR2#",                      # exactly 8 characters, not common
    "七个汉字的密码短语啊",               # any Unicode is allowed
    "x" * 7 + "unusualwords" * 10,    # long but under 128
])
def test_acceptable_passwords_have_no_problems(password):
    assert check_password(password, username="li.wei") == []


@pytest.mark.parametrize("password, username, fragment", [
    ("short1", "", "at least 8"),
    ("", "", "at least 8"),
    ("a" * 129 + "zz", "", "at most 128"),
    ("password", "", "commonly used"),
    ("PassWord", "", "commonly used"),          # case-insensitive
    ("12345678", "", "commonly used"),
    ("iloveyou", "", "commonly used"),
    ("zhangwei2024plant", "zhangwei", "username"),
    ("my-ZHANGWEI-secret", "zhangwei", "username"),  # case-insensitive
])
def test_bad_passwords_name_the_problem(password, username, fragment):
    problems = check_password(password, username=username)
    assert problems
    assert any(fragment in p for p in problems)


def test_no_composition_rules_are_imposed():
    # all lower-case letters, no digits or symbols: accepted when long and uncommon
    assert check_password("riverbankwillowtea", username="") == []


def test_minimum_length_comes_from_the_argument():
    assert check_password("abcdefghijk9z", min_length=14)
    assert check_password("abcdefghijk9z", min_length=12) == []


def test_common_password_list_is_loaded_once_and_lower_case():
    assert common_passwords() is common_passwords()
    assert "password" in common_passwords()
    assert all(p == p.lower() for p in list(common_passwords())[:1000])


@pytest.mark.parametrize("failures, expected", [
    (0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (10, 960), (11, 1920), (12, 3600), (13, 3600), (500, 3600),
])
def test_lockout_waits_double_after_the_threshold_up_to_the_cap(failures, expected):
    assert lockout_seconds(failures, threshold=5, base=30, maximum=3600) == expected


def test_lockout_disabled_with_a_zero_threshold():
    assert lockout_seconds(100, threshold=0, base=30, maximum=3600) == 0
