"""The app refuses to start without a secret key of real strength (issue 20: a forged admin cookie)."""
from __future__ import annotations

import secrets

import pytest

from portal import InsecureConfiguration, create_app
from portal.config import TEST_SECRET_KEY, Config, check_data_keys, check_secret_key


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


def _instance_copy(tmp_path):
    """A copy of the project layout the script needs (scripts/, portal/ and the venv) in a temporary directory."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "ensure-instance.sh"
    script.write_bytes((root / "scripts" / "ensure-instance.sh").read_bytes())
    script.chmod(0o755)
    (tmp_path / ".venv").symlink_to(root / ".venv")
    (tmp_path / "portal").symlink_to(root / "portal")
    return script


def _key_in(cfg) -> str:
    settings: dict = {}
    exec(compile(cfg.read_text(), str(cfg), "exec"), settings)
    return settings["SECRET_KEY"]


def test_make_run_writes_a_strong_key_and_replaces_a_weak_one(tmp_path):
    import subprocess

    script = _instance_copy(tmp_path)
    cfg = tmp_path / "instance" / "portal.cfg"
    subprocess.run([str(script)], check=True, capture_output=True)
    first = _key_in(cfg)
    assert check_secret_key(first) is None and "REPORTER_KEY" in cfg.read_text()
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"
    subprocess.run([str(script)], check=True, capture_output=True)
    assert _key_in(cfg) == first  # a good key is kept (sessions survive a restart)
    cfg.write_text(cfg.read_text().replace(first, "dev-only-not-secret"))
    subprocess.run([str(script)], check=True, capture_output=True)
    replaced = _key_in(cfg)
    assert replaced != first and check_secret_key(replaced) is None
    assert cfg.read_text().count("SECRET_KEY =") == 1


def _fernet() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def test_the_data_keys_have_no_public_defaults():
    assert not Config.REPORTER_KEY and not Config.AUDIT_KEY
    assert check_data_keys(Config.REPORTER_KEY, secrets.token_urlsafe(48)) is not None
    assert check_data_keys(_fernet(), Config.AUDIT_KEY) is not None


@pytest.mark.parametrize("reporter, audit, field", [
    ("ZGV2LW9ubHktcmVwb3J0ZXIta2V5LW5vdC1zZWNyZXQ=", None, "REPORTER_KEY"),  # the former default
    ("not-a-fernet-key", None, "REPORTER_KEY"),
    (None, "dev-only-audit-key-not-secret", "AUDIT_KEY"),  # the former default
    (None, "short", "AUDIT_KEY"),
])
def test_public_or_weak_data_keys_are_refused_and_named(reporter, audit, field):
    problem = check_data_keys(reporter or _fernet(), audit or secrets.token_urlsafe(48))
    assert problem is not None and field in problem


def test_a_former_default_may_follow_a_new_reporter_key_to_decrypt_old_data():
    assert check_data_keys(f"{_fernet()},ZGV2LW9ubHktcmVwb3J0ZXIta2V5LW5vdC1zZWNyZXQ=",
                           secrets.token_urlsafe(48)) is None


def test_create_app_refuses_to_start_without_the_data_keys(monkeypatch):
    for name in ("PORTAL_SECRET_KEY", "PORTAL_REPORTER_KEY", "PORTAL_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = {"SECRET_KEY": secrets.token_urlsafe(48), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    with pytest.raises(InsecureConfiguration, match="REPORTER_KEY|AUDIT_KEY"):
        create_app({**settings, "REPORTER_KEY": "", "AUDIT_KEY": ""})
    with pytest.raises(InsecureConfiguration, match="AUDIT_KEY"):
        create_app({**settings, "REPORTER_KEY": _fernet(), "AUDIT_KEY": ""})
    create_app({**settings, "REPORTER_KEY": _fernet(), "AUDIT_KEY": secrets.token_urlsafe(48)})
