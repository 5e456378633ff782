"""Reporter identity encrypted at rest (DOMAIN §6.5) with Fernet from the `cryptography` package.

REPORTER_KEY holds one or more urlsafe-base64 Fernet keys separated by commas: the first encrypts, all decrypt
(MultiFernet), so a key can be rotated by putting the new key first and re-encrypting at leisure.
"""
from __future__ import annotations

import json
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

log = logging.getLogger(__name__)
IDENTITY_FIELDS = ("name", "phone", "email", "id_no")


class ReporterKeyMissing(RuntimeError):
    pass


def _fernet() -> MultiFernet:
    raw = current_app.config.get("REPORTER_KEY") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ReporterKeyMissing("REPORTER_KEY is not configured")
    return MultiFernet([Fernet(k.encode()) for k in keys])


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
