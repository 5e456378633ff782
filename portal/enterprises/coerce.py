"""Coercion of registry input: strings from forms and JSON proposal payloads to typed values, with every field's
error collected (Errors) so a form shows all its mistakes at once. Used by services.py before anything changes."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from flask_babel import gettext as _

from portal.audit import services as audit
from portal.errors import ValidationFailed

MAX_LEN = {"name": 200, "legal_rep": 64, "address": 300, "production_address": 300, "contact_phone": 32,
           "stock_code": 16, "issued_by": 100, "destination": 200, "unit": 16, "standard_code": 64}


class Errors(dict):
    def add(self, field: str, message: str | None) -> None:
        if message and field not in self:
            self[field] = message

    def raise_if_any(self) -> None:
        if self:
            raise ValidationFailed(dict(self))


def clean_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def number(errors: Errors, field: str, value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    text = clean_text(value).replace("，", ".").replace(",", ".")
    if not text:
        return None
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        errors.add(field, _("Enter a number (for example 50 or 6.5)."))
        return None
    if not parsed.is_finite():
        errors.add(field, _("Enter a number (for example 50 or 6.5)."))
        return None
    return parsed


def day(errors: Errors, field: str, value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    text = clean_text(value)
    if not text:
        errors.add(field, _("Enter a date (YYYY-MM-DD)."))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.add(field, _("“%(v)s” is not a date; use the form YYYY-MM-DD, for example 2025-03-31.", v=text))
        return None


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return clean_text(value).lower() in ("1", "true", "y", "yes", "on")


def choice(errors: Errors, field: str, value: Any, enum_cls: type) -> Any:
    text = clean_text(getattr(value, "value", value))
    try:
        return enum_cls(text)
    except ValueError:
        errors.add(field, _("Choose one of the listed options."))
        return None


def required(errors: Errors, field: str, value: str) -> str:
    if not value:
        errors.add(field, _("This field is required."))
    elif field in MAX_LEN and len(value) > MAX_LEN[field]:
        errors.add(field, _("At most %(n)d characters.", n=MAX_LEN[field]))
    return value


def optional_text(errors: Errors, field: str, value: Any) -> str:
    text = clean_text(value)
    if field in MAX_LEN and len(text) > MAX_LEN[field]:
        errors.add(field, _("At most %(n)d characters.", n=MAX_LEN[field]))
    return text


def coordinates(errors: Errors, data: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    lat = number(errors, "latitude", data.get("latitude"))
    lon = number(errors, "longitude", data.get("longitude"))
    if lat is not None and not -90 <= lat <= 90:
        errors.add("latitude", _("Latitude must be between -90 and 90."))
    if lon is not None and not -180 <= lon <= 180:
        errors.add("longitude", _("Longitude must be between -180 and 180."))
    return lat, lon


def former_names(value: Any, current_name: str) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else re.split(r"[\n;；]+", clean_text(value))
    names: list[str] = []
    for item in items:
        item = clean_text(item)
        if item and item != current_name and item not in names:
            names.append(item)
    return names


def _current(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def merge_current(obj: Any, fields: tuple[str, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Partial updates: fields missing from data keep their current value."""
    merged = _current(obj, fields) if obj is not None else {}
    merged.update({k: v for k, v in data.items() if k in fields})
    return merged


def apply_changes(obj: Any, clean: Mapping[str, Any]) -> None:
    for key, value in clean.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


def after_with_note(obj: Any, note: str | None) -> dict | None:
    if not note:
        return None
    return {**audit.snapshot(obj), "_note": note}
