"""Second factor (ASVS V2.8): TOTP (RFC 6238, pyotp) with one-time recovery codes.

Required for regulators, leads, administrators and signatories (rules.requires_second_factor), optional for
enterprise staff. Enrolment is guided: a QR code of the otpauth:// URI (segno) and a first code that proves the
authenticator works; only then is the factor confirmed and ten recovery codes are shown once (stored as SHA-256).
A code is accepted once (the time step is remembered); a recovery code once. An administrator resets a lost factor
(audited), which also ends the account's sessions. Services flush; views and CLI commit.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets

import pyotp
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth import sessions
from portal.auth.models import RecoveryCode, Role, TotpFactor, User
from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db

REQUIRED_ROLES = frozenset({Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN, Role.ENTERPRISE_SIGNATORY})
RECOVERY_CODE_COUNT = 10
TOTP = "totp"
RECOVERY = "recovery_code"
_CODE_RE = re.compile(r"^\d{6}$")


def requires_second_factor(user: User) -> bool:
    return user.role in REQUIRED_ROLES


def _seal(secret: str) -> str:
    from portal.complaints.crypto import seal_text

    return seal_text(secret)


def _open(sealed: str) -> str:
    from portal.complaints.crypto import open_sealed

    return open_sealed(sealed)


def totp_of(user: User) -> TotpFactor | None:
    return db.session.scalar(sa.select(TotpFactor).where(TotpFactor.user_id == user.id))


def has_factor(user: User) -> bool:
    factor = totp_of(user)
    return factor is not None and factor.confirmed_at is not None


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


# --- enrolment ---------------------------------------------------------------------------------------------------

def begin_enrolment(user: User) -> str:
    """A new secret awaiting confirmation (replaces an unconfirmed one); returns the secret (base32)."""
    factor = totp_of(user)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict(_("A second factor is already set up for this account."))
    secret = pyotp.random_base32()
    if factor is None:
        factor = TotpFactor(user_id=user.id, secret_sealed=_seal(secret))
        db.session.add(factor)
    else:
        factor.secret_sealed, factor.last_step = _seal(secret), None
    db.session.flush()
    return secret


def pending_secret(user: User) -> str | None:
    factor = totp_of(user)
    return _open(factor.secret_sealed) if factor is not None and factor.confirmed_at is None else None


def provisioning_uri(user: User, secret: str) -> str:
    issuer = current_app.config.get("TOTP_ISSUER") or "Portal"
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True,
                                    title="TOTP", dark="#000", light="#fff")
    return out.getvalue().decode()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code equals `code`, one step of clock drift either way (RFC 6238 §5.2)."""
    totp = pyotp.TOTP(secret)
    now = utcnow()
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def confirm_enrolment(user: User, code: str) -> list[str]:
    """The first code proves the authenticator works: confirm the factor and return fresh recovery codes (shown
    once)."""
    factor = totp_of(user)
    if factor is None or factor.confirmed_at is not None:
        raise Conflict(_("Start the set-up again: no second factor is waiting for confirmation."))
    code = (code or "").strip().replace(" ", "")
    step = _matching_step(_open(factor.secret_sealed), code) if _CODE_RE.match(code) else None
    if step is None:
        raise ValidationFailed({"code": _("The code is not correct. Enter the 6 digits your authenticator app shows "
                                          "now for this account.")})
    factor.confirmed_at, factor.last_step = utcnow(), step
    codes = _new_recovery_codes(user)
    db.session.flush()
    record(user, "user.factor_enrol", user, after={"factor": TOTP})
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits, one use, behind the password
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw)))
    db.session.flush()
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    if not has_factor(user):
        raise Conflict(_("Set up a second factor first."))
    codes = _new_recovery_codes(user)
    record(user, "user.recovery_codes", user, after={"recovery_codes": RECOVERY_CODE_COUNT})
    return codes


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


# --- verification ------------------------------------------------------------------------------------------------

def verify(user: User, code: str) -> str | None:
    """Check a second-factor code (6-digit TOTP or a recovery code): the factor used, or None. A TOTP step or a
    recovery code is spent by a success, so the same code never works twice (flushes)."""
    factor = totp_of(user)
    if factor is None or factor.confirmed_at is None:
        return None
    code = (code or "").strip().replace(" ", "")
    if _CODE_RE.match(code):
        factor = db.session.execute(sa.select(TotpFactor).where(TotpFactor.id == factor.id)
                                    .with_for_update()).scalar_one()
        step = _matching_step(_open(factor.secret_sealed), code)
        if step is None or (factor.last_step is not None and step <= factor.last_step):
            return None
        factor.last_step = step
        db.session.flush()
        return TOTP
    digest = _hash_code(_normalise_recovery(code))
    spent = db.session.execute(sa.update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if spent.rowcount:
        record(user, "user.recovery_code_used", user, after={"left": unused_recovery_codes(user)})
        return RECOVERY
    return None


# --- removal and reset -------------------------------------------------------------------------------------------

def _remove(user: User) -> None:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(TotpFactor).where(TotpFactor.user_id == user.id))
    db.session.flush()


def remove_own(user: User, code: str) -> None:
    """Staff may turn their optional factor off (proving it with a current code); required roles may not."""
    if requires_second_factor(user):
        raise NotAllowed(_("Your role requires a second factor; it cannot be turned off. If you lost your "
                           "authenticator, ask the portal administrator to reset it."))
    if verify(user, code) is None:
        raise ValidationFailed({"code": _("The code is not correct. Enter the 6 digits your authenticator app "
                                          "shows, or one of your recovery codes.")})
    _remove(user)
    record(user, "user.factor_remove", user, after={"factor": None})


def admin_reset(actor, user: User) -> None:
    """A lost authenticator: an administrator removes the factor; every session of the account ends, and the next
    login of a role that needs a factor leads through enrolment again."""
    if not has_factor(user) and totp_of(user) is None:
        raise Conflict(_("This account has no second factor to reset."))
    _remove(user)
    ended = sessions.end_all(user, "factor_reset")
    record(actor, "user.factor_reset", user, after={"factor": None, "sessions_ended": ended})
