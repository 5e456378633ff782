"""Account use cases: password hashing, login with progressive lockout, registration, enterprise bindings and
administration of accounts. Services flush; the calling view or CLI command commits (STYLE §6.3)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth import passwords, rules, sessions
from portal.auth.models import BindingStatus, EnterpriseBinding, LoginThrottle, Role, User
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import Conflict, DomainError, InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.reference.models import Region

ENTERPRISE_ROLES = (Role.ENTERPRISE_STAFF, Role.ENTERPRISE_SIGNATORY)
STAFF_ROLES = (Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN)


class LoginFailed(DomainError):
    code = "login_failed"
    status = 401


class AccountLocked(LoginFailed):
    def __init__(self, until: datetime):
        self.until = until
        super().__init__(_("Too many failed attempts. Try again after %(time)s.",
                           time=format_datetime(until, "HH:mm")))


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the account, only while this cookie's server-side session is open and within its idle
    and absolute timeouts (portal/auth/sessions.py)."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return sessions.check(user)


# --- passwords -----------------------------------------------------------------------------------------------

def _hasher() -> PasswordHasher:
    """argon2id with the library defaults in production; tests may lower the cost through config."""
    config = current_app.config
    kwargs: dict[str, int] = {}
    for key, arg in (("ARGON2_TIME_COST", "time_cost"), ("ARGON2_MEMORY_COST", "memory_cost"),
                     ("ARGON2_PARALLELISM", "parallelism")):
        if config.get(key):
            kwargs[arg] = int(config[key])
    return PasswordHasher(**kwargs)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, username: str) -> list[str]:
    config = current_app.config
    return passwords.check_password(password, username=username,
                                    min_length=config.get("PASSWORD_MIN_LENGTH", passwords.DEFAULT_MIN_LENGTH),
                                    max_length=config.get("PASSWORD_MAX_LENGTH", passwords.DEFAULT_MAX_LENGTH))


def _require_good_password(password: str, username: str, field: str = "password") -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed({field: " ".join(problems)})


# --- login ---------------------------------------------------------------------------------------------------

def find_user(username: str) -> User | None:
    name = (username or "").strip().lower()
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == name)) if name else None


def _account_key(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _throttle(username: str, address: str) -> LoginThrottle | None:
    return db.session.scalar(sa.select(LoginThrottle).where(LoginThrottle.account_key == _account_key(username),
                                                            LoginThrottle.address == address[:45]))


def check_throttle(username: str, address: str, now: datetime | None = None) -> None:
    """Raise AccountLocked while this account name is locked for this address (whether or not it exists)."""
    now = now or utcnow()
    throttle = _throttle(username, address)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        raise AccountLocked(throttle.locked_until)


def count_failure(username: str, address: str, now: datetime | None = None) -> None:
    """One failed attempt (password or second factor) for this name from this address; the progressive back-off
    (NIST 800-63B §5.2.2) applies to the pair only. Raises AccountLocked when this failure starts a lock."""
    now = now or utcnow()
    config = current_app.config
    throttle = _throttle(username, address)
    if throttle is None:
        throttle = LoginThrottle(account_key=_account_key(username), address=address[:45], failures=0)
        db.session.add(throttle)
    throttle.failures = (throttle.failures or 0) + 1
    wait = passwords.lockout_seconds(throttle.failures, threshold=config["LOCKOUT_THRESHOLD"],
                                     base=config["LOCKOUT_BASE_SECONDS"], maximum=config["LOCKOUT_MAX_SECONDS"])
    throttle.locked_until = now + timedelta(seconds=wait) if wait else None
    user = find_user(username)
    if user is not None:  # a summary for the administrator's account page (not what the check reads)
        user.failed_logins = (user.failed_logins or 0) + 1
        if throttle.locked_until is not None:
            user.locked_until = max(user.locked_until or throttle.locked_until, throttle.locked_until)
    db.session.flush()
    if throttle.locked_until is not None:
        raise AccountLocked(throttle.locked_until)


def clear_failures(user: User, address: str | None = None) -> None:
    """A successful login clears its own address's counter; an unlock or a reset clears them all."""
    stmt = sa.delete(LoginThrottle).where(LoginThrottle.account_key == _account_key(user.username))
    if address is not None:
        stmt = stmt.where(LoginThrottle.address == address[:45])
    db.session.execute(stmt)
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()


def authenticate(username: str, password: str, address: str = "", now: datetime | None = None) -> User:
    """Check the password step of a login. Failures count per account name and address with back-off; every
    message is the same whether or not the account exists (a name that matches nothing is throttled alike).
    A correct password upgrades an outdated hash; the caller then asks for the second factor where there is one.
    """
    now = now or utcnow()
    address = address or "unknown"
    generic = _("The username or password is not correct.")
    check_throttle(username, address, now)
    user = find_user(username)
    if user is None:
        verify_password(_dummy_hash(), password)  # spend the same time as for a real account
        count_failure(username, address, now)
        raise LoginFailed(generic)
    if not verify_password(user.password_hash, password):
        count_failure(username, address, now)
        raise LoginFailed(generic)
    if not user.is_active_account:
        raise LoginFailed(_("This account has been deactivated. Please contact the portal administrator."))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def complete_login(user: User, address: str = "", now: datetime | None = None) -> None:
    """Both steps passed: clear this address's failures and note the time."""
    clear_failures(user, address or "unknown")
    user.last_login_at = now or utcnow()
    db.session.flush()


_DUMMY: dict[tuple, str] = {}


def _dummy_hash() -> str:
    params = (current_app.config.get("ARGON2_TIME_COST"), current_app.config.get("ARGON2_MEMORY_COST"))
    if params not in _DUMMY:
        _DUMMY[params] = hash_password("not-a-real-password-only-for-timing")
    return _DUMMY[params]


# --- accounts ------------------------------------------------------------------------------------------------

def valid_jurisdiction(code: str | None) -> Region | None:
    """The region a jurisdiction prefix stands for: '32' → 320000 (level 1), '3208' → 320800, '320826' itself."""
    code = (code or "").strip()
    if len(code) not in (2, 4, 6) or not code.isdigit():
        return None
    region = db.session.get(Region, code.ljust(6, "0"))
    return region if region is not None and region.prefix == code else None


def _check_jurisdiction(role: Role, code: str | None) -> str | None:
    code = (code or "").strip() or None
    if role.is_regulator and not code:
        raise ValidationFailed({"jurisdiction_code": _("Regulator accounts need a jurisdiction: a region-code "
                                                       "prefix such as 32, 3208 or 320826.")})
    if role.is_enterprise:
        return None
    if code and valid_jurisdiction(code) is None:
        raise ValidationFailed({"jurisdiction_code": _(
            "“%(code)s” is not a known region prefix. Use 2 digits for a province (32), 4 for a city (3208) or "
            "6 for a county (320826).", code=code)})
    return code


def create_account(actor: Any, *, username: str, display_name: str, email: str | None, password: str,
                   role: Role, jurisdiction_code: str | None = None, enterprise: Enterprise | None = None) -> User:
    """Create any account. Regulators must name an existing jurisdiction; the password follows 800-63B."""
    username = (username or "").strip()
    if find_user(username) is not None:
        raise Conflict(_("The username “%(name)s” is already taken. Choose another one.", name=username))
    _require_good_password(password, username)
    jurisdiction = _check_jurisdiction(role, jurisdiction_code)
    user = User(username=username, display_name=(display_name or "").strip() or username,
                email=(email or "").strip() or None, password_hash=hash_password(password), role=role,
                jurisdiction_code=jurisdiction, enterprise_id=enterprise.id if enterprise and role.is_enterprise else None,
                is_active_account=True, failed_logins=0)
    db.session.add(user)
    db.session.flush()
    record(actor if actor is not None else user, "user.create", user)
    return user


def register_user(*, username: str, display_name: str, email: str, password: str) -> User:
    """Self-registration: an enterprise staff account with no enterprise until a regulator approves a binding."""
    return create_account(None, username=username, display_name=display_name, email=email, password=password,
                          role=Role.ENTERPRISE_STAFF)


def change_password(user: User, current: str, new: str) -> None:
    """The current password proves the session holder is the account owner."""
    if not verify_password(user.password_hash, current):
        raise ValidationFailed({"current_password": _("The current password is not correct.")})
    _require_good_password(new, user.username, field="new_password")
    user.password_hash = hash_password(new)
    ended = sessions.end_all(user, "password_change", keep=sessions.current())
    db.session.flush()
    record(user, "user.password", user, after={"password_changed": True, "other_sessions_ended": ended})


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed({"locale": _("Choose one of the offered languages.")})
    user.locale = locale
    db.session.flush()


def update_account(actor: User, user: User, *, role: Role, jurisdiction_code: str | None) -> None:
    """Change a role or jurisdiction. An administrator cannot demote themselves (no lock-out of the last admin)."""
    if actor.id == user.id and role != Role.ADMIN:
        raise NotAllowed(_("You cannot remove your own administrator role."))
    jurisdiction = _check_jurisdiction(role, jurisdiction_code)
    before = snapshot(user)
    old_role = user.role
    user.role = role
    user.jurisdiction_code = jurisdiction
    if not role.is_enterprise:
        user.enterprise_id = None
    db.session.flush()
    if old_role != role:
        record(actor, "user.role", user, before=before)
    else:
        record(actor, "user.update", user, before=before)


def set_active(actor: User, user: User, active: bool) -> None:
    if actor.id == user.id and not active:
        raise NotAllowed(_("You cannot deactivate your own account."))
    if user.is_active_account == active:
        return
    before = snapshot(user)
    user.is_active_account = active
    if not active:
        sessions.end_all(user, "deactivated")
    db.session.flush()
    record(actor, "user.reactivate" if active else "user.deactivate", user, before=before)


def unlock_account(actor: User, user: User) -> None:
    before = snapshot(user)
    clear_failures(user)
    record(actor, "user.unlock", user, before=before)


def list_users(role: Role | None, page: int, per_page: int = 25, state: str = ""):
    """Accounts by role; state "locked" (failed logins, lock not yet over) or "inactive" (deactivated)."""
    stmt = sa.select(User).order_by(User.username)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if state == "locked":
        stmt = stmt.where(User.locked_until.is_not(None), User.locked_until > utcnow())
    elif state == "inactive":
        stmt = stmt.where(User.is_active_account.is_(False))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# --- enterprise bindings -------------------------------------------------------------------------------------

def request_binding(user: User, uscc: str, requested_role: Role, note: str) -> EnterpriseBinding:
    """An enterprise user asks to act for an enterprise; nothing is granted until a regulator approves."""
    if requested_role not in ENTERPRISE_ROLES:
        raise ValidationFailed({"requested_role": _("Choose enterprise staff or authorised signatory.")})
    checked = check_uscc(uscc)
    if not checked.ok:
        raise ValidationFailed({"uscc": checked.error or ""})
    enterprise = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == checked.value))
    if enterprise is None:
        raise ValidationFailed({"uscc": _("No enterprise with the credit code %(uscc)s is registered in the portal. "
                                          "Check the code, or ask the environmental authority to register the "
                                          "enterprise first.", uscc=checked.value)})
    if user.enterprise_id is not None and user.enterprise_id != enterprise.id:
        raise Conflict(_("Your account already acts for another enterprise. Use a separate account for each "
                         "enterprise."))
    if user.enterprise_id == enterprise.id and user.role == requested_role:
        raise Conflict(_("Your account already acts for this enterprise in this role."))
    duplicate = db.session.scalar(sa.select(EnterpriseBinding.id).where(
        EnterpriseBinding.user_id == user.id, EnterpriseBinding.enterprise_id == enterprise.id,
        EnterpriseBinding.status == BindingStatus.PENDING))
    if duplicate is not None:
        raise Conflict(_("You already have a pending request for this enterprise. Wait for the regulator's decision."))
    binding = EnterpriseBinding(user_id=user.id, enterprise_id=enterprise.id, requested_role=requested_role,
                                status=BindingStatus.PENDING, note=(note or "").strip())
    db.session.add(binding)
    db.session.flush()
    record(user, "binding.request", binding)
    return binding


def user_bindings(user: User) -> list[EnterpriseBinding]:
    stmt = (sa.select(EnterpriseBinding).where(EnterpriseBinding.user_id == user.id)
            .order_by(EnterpriseBinding.created_at.desc(), EnterpriseBinding.id.desc()))
    return list(db.session.scalars(stmt))


def pending_bindings(jurisdiction_code: str | None, page: int, per_page: int = 25):
    """Pending requests for enterprises inside the regulator's jurisdiction prefix only."""
    stmt = (sa.select(EnterpriseBinding).join(Enterprise, Enterprise.id == EnterpriseBinding.enterprise_id)
            .where(EnterpriseBinding.status == BindingStatus.PENDING,
                   Enterprise.region_code.startswith(jurisdiction_code or "\x00", autoescape=True))
            .order_by(EnterpriseBinding.created_at, EnterpriseBinding.id))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def can_decide(actor: User, binding: EnterpriseBinding) -> bool:
    return actor.role.is_regulator and rules.in_jurisdiction(actor.jurisdiction_code, binding.enterprise.region_code)


def decide_binding(actor: User, binding: EnterpriseBinding, approve: bool, note: str) -> None:
    """A regulator of the enterprise's jurisdiction verifies the request; approval binds the account and grants
    the requested role, both audited."""
    if not can_decide(actor, binding):
        raise NotAllowed(_("This request belongs to another jurisdiction."))
    if binding.status != BindingStatus.PENDING:
        raise InvalidTransition(_("This request was already decided."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed({"note": _("Give a reason when rejecting a request; the applicant will see it.")})
    user = binding.user
    if approve and not user.role.is_enterprise:
        raise InvalidTransition(_("The account is no longer an enterprise account; reject the request instead."))
    if approve and user.enterprise_id not in (None, binding.enterprise_id):
        raise InvalidTransition(_("The account already acts for another enterprise; reject the request instead."))
    before = snapshot(binding)
    binding.status = BindingStatus.APPROVED if approve else BindingStatus.REJECTED
    binding.decided_by_id = actor.id
    binding.decided_at = utcnow()
    binding.decision_note = note
    db.session.flush()
    record(actor, "binding.approve" if approve else "binding.reject", binding, before=before)
    if approve:
        user_before = snapshot(user)
        user.enterprise_id = binding.enterprise_id
        user.role = binding.requested_role
        db.session.flush()
        record(actor, "user.role", user, before=user_before, enterprise_id=binding.enterprise_id)
