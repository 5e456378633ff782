"""The app refuses to start without a secret key of real strength (issue 20: a forged admin cookie)."""
from __future__ import annotations

import secrets

import pytest

from portal import InsecureConfiguration, create_app
from portal.config import TEST_SECRET_KEY, Config, check_secret_key


def test_there_is_no_public_default_key():
    assert not Config.SECRET_KEY
    assert check_secret_key(Config.SECRET_KEY) is not None


@pytest.mark.parametrize("key", ["", None, "dev-only-not-secret", "test", "fault-tests", "short-but-random-Xy1",
                                 "a" * 64, "abababababababababababababababababab"])
def test_weak_or_public_keys_are_refused(key):
    assert check_secret_key(key) is not None


def test_the_test_key_is_accepted_only_in_testing():
    assert check_secret_key(TEST_SECRET_KEY, testing=True) is None
    assert check_secret_key(TEST_SECRET_KEY) is not None


def test_a_random_key_is_accepted():
    assert check_secret_key(secrets.token_urlsafe(48)) is None


@pytest.mark.parametrize("key", ["", "dev-only-not-secret", "x" * 40])
def test_create_app_refuses_to_start(key, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY"):
        create_app({"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_create_app_refuses_the_public_test_key_outside_tests():
    with pytest.raises(InsecureConfiguration):
        create_app({"SECRET_KEY": TEST_SECRET_KEY, "TESTING": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
