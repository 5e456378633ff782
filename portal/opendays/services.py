"""Open-day use cases: publish, change and cancel (enterprise users of that enterprise), register (the public, no
account), read registrations (decrypted for the enterprise's own users only), and record held open days as credit
evidence where the enterprise's scheme gives a bonus. Services flush and audit; views and jobs commit."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.complaints.crypto import decrypt_identity, encrypt_identity
from portal.core.clock import china_today
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.opendays import rules
from portal.opendays.models import OpenDay, OpenDayRegistration, OpenDayStatus

_PROBLEMS = {
    "required": lambda: _("This field is required."),
    "past": lambda: _("The date has passed; choose today or a later day."),
    "too_far": lambda: _("Publish open days at most a year ahead."),
    "before_start": lambda: _("The end time must be after the start time."),
    "range": lambda: _("Give a capacity from 1 to %(n)s visitors.", n=rules.MAX_CAPACITY),
    "below_registered": lambda: _("More visitors have already registered; the capacity cannot be lower than that."),
}
AUDIT_EXCLUDE = ("created_at", "updated_at", "identity", "phone_mac", "submission_key")


def _snap(od: OpenDay) -> dict:
    """Audit snapshot; times as HH:MM (the audit's JSON knows dates and datetimes, not times of day)."""
    data = snapshot(od)
    for key in ("start_time", "end_time"):
        if data.get(key) is not None:
            data[key] = data[key].strftime("%H:%M")
    return data


def _check_manager(actor: Any, enterprise_id: int) -> None:
    role = getattr(actor, "role", None)
    if not rules.can_manage(bool(role and role.is_enterprise), getattr(actor, "enterprise_id", None), enterprise_id):
        raise NotAllowed(_("Only the enterprise's own users manage its open days."))


def _apply(od: OpenDay, data: rules.OpenDayData, registered: int) -> None:
    problems = rules.check_open_day(data, china_today(), registered)
    if problems:
        raise ValidationFailed({name: _PROBLEMS[code]() for name, code in problems.items()})
    for f in fields(data):
        value = getattr(data, f.name)
        setattr(od, f.name, value.strip() if isinstance(value, str) else value)


def publish(actor: Any, ent: Enterprise, data: rules.OpenDayData) -> OpenDay:
    _check_manager(actor, ent.id)
    od = OpenDay(enterprise_id=ent.id, created_by_id=actor.id, status=OpenDayStatus.PUBLISHED)
    _apply(od, data, 0)
    db.session.add(od)
    db.session.flush()
    record(actor, "openday.publish", od, after=_snap(od))
    return od


def update(actor: Any, od: OpenDay, data: rules.OpenDayData) -> OpenDay:
    """Change a coming open day; the capacity may not fall below those already registered."""
    _check_manager(actor, od.enterprise_id)
    if od.status == OpenDayStatus.CANCELLED or rules.is_past(od.day, china_today()):
        raise InvalidTransition(_("A cancelled or past open day cannot be changed."))
    before = _snap(od)
    _apply(od, data, taken(od.id))
    record(actor, "openday.update", od, before=before, after=_snap(od))
    return od


def cancel(actor: Any, od: OpenDay, reason: str) -> OpenDay:
    _check_manager(actor, od.enterprise_id)
    if od.status == OpenDayStatus.CANCELLED or rules.is_past(od.day, china_today()):
        raise InvalidTransition(_("A cancelled or past open day cannot be cancelled."))
    if not (reason or "").strip():
        raise ValidationFailed({"reason": _("Say why the open day is cancelled; the public page shows it.")})
    before = _snap(od)
    od.status, od.cancel_reason = OpenDayStatus.CANCELLED, reason.strip()
    record(actor, "openday.cancel", od, before=before, after=_snap(od))
    return od


# --- public registration ------------------------------------------------------------------------------------------

def taken(open_day_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(OpenDayRegistration.party_size), 0))
                             .where(OpenDayRegistration.open_day_id == open_day_id)) or 0


def phone_mac(open_day_id: int, phone: str) -> str:
    """Keyed hash of the phone for this open day: a copy of the database alone cannot list the phones."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"openday:{open_day_id}:{phone}".encode(), hashlib.sha256).hexdigest()


def existing_submission(key: str | None) -> OpenDayRegistration | None:
    if not key:
        return None
    return db.session.scalar(sa.select(OpenDayRegistration).where(OpenDayRegistration.submission_key == key))


_REFUSALS = {
    "cancelled": lambda n: _("This open day was cancelled; registration is closed."),
    "past": lambda n: _("This open day is over; registration is closed."),
    "party": lambda n: _("Register 1 to %(n)s visitors at a time.", n=rules.MAX_PARTY),
    "full": lambda n: _("This open day is full: every place has been taken. Watch the enterprise page for the next one."),
    "too_many": lambda n: _("Only %(n)s places are left; register fewer visitors.", n=n),
}


def register(od: OpenDay, *, name: str, phone: str, party_size: int, submission_key: str | None) -> OpenDayRegistration:
    """The open day row is locked while the places are counted, so two visitors cannot take the last place."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("Give your name; the enterprise checks it at the gate.")
    clean_phone = rules.normalise_phone(phone)
    if clean_phone is None:
        errors["phone"] = _("Give a mainland mobile number (11 digits) or a landline with its area code.")
    if errors:
        raise ValidationFailed(errors)
    db.session.execute(sa.select(OpenDay.id).where(OpenDay.id == od.id).with_for_update())
    used = taken(od.id)
    refusal = rules.registration_refusal(cancelled=od.status == OpenDayStatus.CANCELLED,
                                         is_past=rules.is_past(od.day, china_today()), capacity=od.capacity,
                                         taken=used, party_size=party_size)
    if refusal in ("party", "too_many"):
        raise ValidationFailed({"party_size": _REFUSALS[refusal](rules.seats_left(od.capacity, used))})
    if refusal is not None:  # full, cancelled or over: a message for the whole page
        raise Conflict(_REFUSALS[refusal](0))
    mac = phone_mac(od.id, clean_phone)
    if db.session.scalar(sa.select(OpenDayRegistration.id).where(OpenDayRegistration.open_day_id == od.id,
                                                                 OpenDayRegistration.phone_mac == mac)):
        raise Conflict(_("This phone number is already registered for this open day."), field="phone")
    reg = OpenDayRegistration(open_day_id=od.id, party_size=party_size, phone_mac=mac,
                              identity=encrypt_identity({"name": name.strip()[:64], "phone": clean_phone}),
                              submission_key=submission_key or None, created_at=utcnow())
    db.session.add(reg)
    db.session.flush()
    record("public", "openday.register", reg, after=snapshot(reg, exclude=AUDIT_EXCLUDE),
           enterprise_id=od.enterprise_id)
    return reg


@dataclass
class RegistrationRow:
    id: int
    name: str
    phone: str
    party_size: int
    created_at: Any


def registrations(actor: Any, od: OpenDay) -> list[RegistrationRow]:
    """Decrypted only for the enterprise's own users (NotAllowed for anyone else, regulators included)."""
    _check_manager(actor, od.enterprise_id)
    rows = []
    for reg in od.registrations:
        ident = decrypt_identity(reg.identity)
        rows.append(RegistrationRow(reg.id, ident.get("name", ""), ident.get("phone", ""), reg.party_size,
                                    reg.created_at))
    return rows


# --- reading ------------------------------------------------------------------------------------------------------

def open_days_of(enterprise_id: int) -> list[OpenDay]:
    """Coming open days first (soonest first), then past ones (latest first); past ones stay on the page."""
    items = list(db.session.scalars(sa.select(OpenDay).where(OpenDay.enterprise_id == enterprise_id)
                                    .order_by(OpenDay.day, OpenDay.start_time)))
    today = china_today()
    coming = [o for o in items if not rules.is_past(o.day, today)]
    past = [o for o in items if rules.is_past(o.day, today)]
    return coming + past[::-1]


def upcoming(limit: int = 100) -> list[OpenDay]:
    return list(db.session.scalars(sa.select(OpenDay).where(OpenDay.day >= china_today(),
                                                            OpenDay.status == OpenDayStatus.PUBLISHED)
                                   .order_by(OpenDay.day, OpenDay.start_time, OpenDay.id).limit(limit)))


def taken_by_day(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(OpenDayRegistration.open_day_id,
                                             sa.func.sum(OpenDayRegistration.party_size))
                                   .where(OpenDayRegistration.open_day_id.in_(ids))
                                   .group_by(OpenDayRegistration.open_day_id)).all())


# --- credit bonus -------------------------------------------------------------------------------------------------

def scheme_bonus(ent: Enterprise) -> bool:
    """Whether the enterprise's active credit scheme has a rule for held open days (DOMAIN §2.3 bonus items)."""
    from portal.credit.models import EvidenceKind
    from portal.credit.services import parsed, version_for_region

    version = version_for_region(ent.region_code)
    return bool(version and parsed(version).rules_by_kind.get(EvidenceKind.OPEN_DAY.value))


def record_held_open_days(today: date | None = None, window_days: int = 60) -> dict[str, int]:
    """Job: each published open day held in the last `window_days` days becomes credit evidence (kind open_day,
    declared by the enterprise, unverified until a regulator confirms it: DOMAIN §2.1, only verified information
    scores) when the enterprise's scheme gives a bonus for it. add_evidence is idempotent on the source_ref."""
    from portal.credit.evidence import add_evidence
    from portal.credit.models import EvidenceKind, EvidenceSource

    today = today or china_today()
    held = list(db.session.scalars(sa.select(OpenDay).where(
        OpenDay.status == OpenDayStatus.PUBLISHED, OpenDay.day < today,
        OpenDay.day >= today - timedelta(days=window_days)).order_by(OpenDay.id)))
    counts = taken_by_day([o.id for o in held])
    recorded = 0
    bonus: dict[int, bool] = {}
    for od in held:
        if od.enterprise_id not in bonus:
            bonus[od.enterprise_id] = scheme_bonus(od.enterprise)
        if not bonus[od.enterprise_id]:
            continue
        add_evidence(enterprise_id=od.enterprise_id, kind=EvidenceKind.OPEN_DAY, source=EvidenceSource.ENTERPRISE,
                     source_ref=f"openday:{od.id}", occurred_on=od.day, verified=False, finding=True,
                     message=("opendays.held", {"facility": od.facility[:200], "day": od.day.isoformat()}),
                     details={"open_day_id": od.id, "registered": int(counts.get(od.id, 0)),
                              "capacity": od.capacity, "place": od.place[:100]})
        recorded += 1
    db.session.commit()
    return {"held": len(held), "recorded": recorded}
