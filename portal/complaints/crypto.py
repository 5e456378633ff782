"""Reporter identity encrypted at rest (DOMAIN §6.5) with Fernet from the `cryptography` package.

REPORTER_KEY holds one or more urlsafe-base64 Fernet keys separated by commas: the first encrypts, all decrypt
(MultiFernet), so a key can be rotated by putting the new key first and re-encrypting at leisure.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

log = logging.getLogger(__name__)
IDENTITY_FIELDS = ("name", "phone", "email", "id_no")


class ReporterKeyMissing(RuntimeError):
    pass


def _keys() -> list[str]:
    raw = current_app.config.get("REPORTER_KEY") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ReporterKeyMissing("REPORTER_KEY is not configured")
    return keys


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in _keys()])


def _code_mac(key: str, salt: str, code: str) -> str:
    return hmac.new(key.encode(), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def hash_query_code(code: str) -> str:
    """The query code is 60 random bits, so a keyed hash suffices (no slow password hash needed): HMAC-SHA256 with
    a per-case salt, keyed with the first REPORTER_KEY, so a copy of the database alone cannot test codes."""
    salt = secrets.token_hex(8)
    return f"h1${salt}${_code_mac(_keys()[0], salt, code)}"


def check_query_code(stored: str, code: str) -> bool:
    """Checks against every configured key, so rotating REPORTER_KEY keeps old codes working."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "h1":
        return False
    return any(hmac.compare_digest(_code_mac(key, salt, code), digest) for key in _keys())


def encrypt_identity(identity: dict) -> str:
    """An empty identity stays empty (anonymous reports store nothing)."""
    clean = {k: (identity.get(k) or "").strip() for k in IDENTITY_FIELDS}
    if not any(clean.values()):
        return ""
    return _fernet().encrypt(json.dumps(clean, ensure_ascii=False).encode()).decode()


def decrypt_identity(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        log.error("a reporter identity could not be decrypted (wrong or rotated-out REPORTER_KEY)")
        return {}


class SealedTextUnreadable(ValueError):
    """A sealed text whose key is no longer configured (REPORTER_KEY rotated out): the caller records a failure."""


def seal_text(text: str) -> str:
    """Encrypt a short text with the reporter key (used for outbox mails that carry a query code or go to a
    reporter's address, so they do not sit in clear until the mail job sends them)."""
    return _fernet().encrypt(text.encode()).decode()


def open_sealed(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SealedTextUnreadable("a sealed text could not be decrypted (wrong or rotated-out REPORTER_KEY)") from None
