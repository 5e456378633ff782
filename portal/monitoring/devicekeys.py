"""Device secrets: the HJ 212 password verifier and the HJ 212-2025 SM4 key.

The PW of a data logger is a device secret typed into its configuration, not a person's password, and it arrives
with every packet on an anonymous endpoint: it is checked with a keyed verifier, HMAC-SHA256(device key, MN NUL PW),
compared in constant time (a few microseconds), never with argon2 per packet. A copy of the database alone cannot
test guesses (the key is not in it). Unknown MNs are checked against a dummy verifier, so "unknown device" and
"wrong password" cost the same and the network is told `unauthorised` for both.

The SM4 key (GB/T 32907, 128 bits) is stored Fernet-encrypted, like reporter identities (portal/complaints/crypto.py).
Keys: HJ212_DEVICE_KEY (Fernet keys, comma-separated, the first encrypts and signs, all are tried), falling back to
REPORTER_KEY when unset. Rotating it: put the new key first; old verifiers and sealed keys keep working.

HJ 212-2025 CP encryption [V2, DOMAIN §5.10]: SM4-ECB, no padding, over the text between CP=&& and &&. How the
ciphertext is written into the ASCII frame is not verified: hex is read (either case), base64 as a fallback; zero
bytes that fill the last block are dropped after decryption.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import current_app

SCHEME = "h1"
_HEX32 = re.compile(r"[0-9A-Fa-f]{32}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{32})+")


class Sm4Error(ValueError):
    """A CP area that cannot be decrypted with the device's key."""


def _keys() -> list[str]:
    raw = current_app.config.get("HJ212_DEVICE_KEY") or current_app.config.get("REPORTER_KEY") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise RuntimeError("HJ212_DEVICE_KEY (or REPORTER_KEY) is not configured")
    return keys


def _mac(key: str, mn: str, password: str) -> str:
    return hmac.new(hashlib.sha256(b"hj212-device-pw:" + key.encode()).digest(), f"{mn}\0{password}".encode(),
                    hashlib.sha256).hexdigest()


def make_verifier(mn: str, password: str) -> str:
    return f"{SCHEME}${_mac(_keys()[0], mn, password)}"


def is_verifier(stored: str) -> bool:
    return stored.startswith(SCHEME + "$")


def check_verifier(stored: str | None, mn: str, password: str) -> bool:
    """Constant time per key; `stored` None (no such device) does the same work and fails."""
    digest = stored[len(SCHEME) + 1:] if stored and is_verifier(stored) else "0" * 64
    ok = False
    for key in _keys():
        ok |= hmac.compare_digest(_mac(key, mn, password), digest)
    return ok and stored is not None


# ---------------------------------------------------------------- SM4 keys

def new_sm4_key() -> str:
    return secrets.token_hex(16).upper()


def valid_sm4_key(text: str) -> bool:
    return bool(_HEX32.fullmatch(text or ""))


def seal_sm4_key(hex_key: str) -> str:
    return MultiFernet([Fernet(k.encode()) for k in _keys()]).encrypt(hex_key.upper().encode()).decode()


def open_sm4_key(token: str) -> bytes | None:
    if not token:
        return None
    try:
        return bytes.fromhex(MultiFernet([Fernet(k.encode()) for k in _keys()]).decrypt(token.encode()).decode())
    except (InvalidToken, ValueError):
        return None


def _cipher_bytes(text: str) -> bytes:
    text = text.strip()
    if _HEX.fullmatch(text):
        return bytes.fromhex(text)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Sm4Error("The CP area is neither hex nor base64 ciphertext.") from None
    return data


def decrypt_cp(text: str, key: bytes) -> str:
    """SM4-ECB, no padding: the plain CP text, or Sm4Error."""
    data = _cipher_bytes(text)
    if not data or len(data) % 16:
        raise Sm4Error("The CP ciphertext is not a whole number of 16-byte SM4 blocks.")
    decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    plain = (decryptor.update(data) + decryptor.finalize()).rstrip(b"\0")
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise Sm4Error("The decrypted CP area is not text: wrong key, or not encrypted with this device's key.") \
            from None


def encrypt_cp(text: str, key: bytes) -> str:
    """The device side (used by the CLI's own check and by benches): zero-filled to a whole block, upper-case hex."""
    data = text.encode("utf-8")
    data += b"\0" * (-len(data) % 16)
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return (encryptor.update(data) + encryptor.finalize()).hex().upper()
