"""Registry use cases: enterprises, permits, outlets, limits, key-unit years (PRODUCT §2.1).

Every function validates the whole input with the pure rules first (all field errors at once, as
ValidationFailed), then mutates, writes an audit record in the same transaction and flushes. Nothing is changed
before validation passes, so an error leaves nothing half-written; the calling edge commits or rolls back.
Inputs are plain mappings of form values or JSON proposal payloads: strings are accepted everywhere and coerced
by coerce.py.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.messages import local_name
from portal.audit import services as audit
from portal.core.clock import china_today  # noqa: F401  (re-exported for views)
from portal.enterprises import coerce, rules
from portal.enterprises.models import (Averaging, Enterprise, KeyUnitType, KeyUnitYear, Outlet, OutletLimit,
                                       OutletType, Permit, PermitClass)
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.reference.models import Industry, Pollutant, Region

ENTERPRISE_FIELDS = ("uscc", "name", "former_names", "legal_rep", "address", "production_address", "region_code",
                     "industry_code", "latitude", "longitude", "contact_phone", "is_listed", "stock_code",
                     "is_bond_issuer")
PERMIT_FIELDS = ("permit_no", "management_class", "valid_from", "valid_to", "issued_by")
OUTLET_FIELDS = ("code", "name", "outlet_type", "permit_id", "latitude", "longitude", "destination")
LIMIT_FIELDS = ("pollutant_code", "limit_value", "limit_min", "limit_max", "unit", "averaging", "reference_o2",
                "standard_code")
OUTLET_NAME_MAX = 100


def _medium(medium: str) -> str:
    return {"water": _("water"), "gas": _("gas"), "noise": _("noise"), "ambient": _("ambient air")}.get(medium, medium)


# --- enterprises --------------------------------------------------------------------------------------------------

def validate_enterprise(data: Mapping[str, Any], enterprise_id: int | None = None) -> dict[str, Any]:
    """GB 32100 credit code (check character named), unique code, known GB/T 2260 region and GB/T 4754 industry."""
    errors = coerce.Errors()
    check = rules.check_uscc(coerce.clean_text(data.get("uscc")))
    errors.add("uscc", check.error)
    if check.ok:
        other = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
        if other is not None and other.id != enterprise_id:
            errors.add("uscc", _("An enterprise with this credit code already exists: %(name)s", name=other.name))
    name = coerce.required(errors, "name", coerce.clean_text(data.get("name")))
    region_code = coerce.clean_text(data.get("region_code"))
    if not region_code or db.session.get(Region, region_code) is None:
        errors.add("region_code", _("Choose a region from the GB/T 2260 list (6-digit code)."))
    industry_code = coerce.clean_text(data.get("industry_code"))
    industry = db.session.get(Industry, industry_code) if industry_code else None
    if industry is None or industry.level != 4:  # a GB/T 4754 class, not a section, division or group
        errors.add("industry_code", _("“%(code)s” is not a GB/T 4754 industry code in the reference table; enter a "
                                      "4-digit class code such as 2614.", code=industry_code))
    lat, lon = coerce.coordinates(errors, data)
    clean = {
        "uscc": check.value, "name": name, "former_names": coerce.former_names(data.get("former_names"), name),
        "legal_rep": coerce.optional_text(errors, "legal_rep", data.get("legal_rep")),
        "address": coerce.optional_text(errors, "address", data.get("address")),
        "production_address": coerce.optional_text(errors, "production_address", data.get("production_address")),
        "region_code": region_code, "industry_code": industry_code, "latitude": lat, "longitude": lon,
        "contact_phone": coerce.optional_text(errors, "contact_phone", data.get("contact_phone")),
        "is_listed": coerce.flag(data.get("is_listed")),
        "stock_code": coerce.optional_text(errors, "stock_code", data.get("stock_code")),
        "is_bond_issuer": coerce.flag(data.get("is_bond_issuer")),
    }
    errors.raise_if_any()
    return clean


def create_enterprise(actor: Any, data: Mapping[str, Any], note: str | None = None) -> Enterprise:
    """Register an enterprise under its credit code (the registry's key)."""
    clean = validate_enterprise(coerce.merge_current(None, ENTERPRISE_FIELDS, data))
    ent = Enterprise(**clean)
    db.session.add(ent)
    db.session.flush()
    audit.record(actor, "enterprise.create", ent, after=coerce.after_with_note(ent, note))
    return ent


def update_enterprise(actor: Any, ent: Enterprise, data: Mapping[str, Any], note: str | None = None) -> Enterprise:
    """Change registry data; a changed name is kept among the former names so searches still find it."""
    merged = coerce.merge_current(ent, ENTERPRISE_FIELDS, data)
    clean = validate_enterprise(merged, ent.id)
    if clean["name"] != ent.name and ent.name not in clean["former_names"]:
        clean["former_names"] = [*clean["former_names"], ent.name]
    before = audit.snapshot(ent)
    coerce.apply_changes(ent, clean)
    db.session.flush()
    audit.record(actor, "enterprise.update", ent, before=before, after=coerce.after_with_note(ent, note))
    return ent


# --- permits ------------------------------------------------------------------------------------------------------

def validate_permit(ent: Enterprise, data: Mapping[str, Any], permit_id: int | None = None) -> dict[str, Any]:
    """HJ 608 permit number that starts with the enterprise's credit code and is unique; ordered validity dates."""
    errors = coerce.Errors()
    check = rules.check_permit_no(coerce.clean_text(data.get("permit_no")), ent.uscc)
    errors.add("permit_no", check.error)
    if check.ok:
        other = db.session.scalar(sa.select(Permit).where(Permit.permit_no == check.value))
        if other is not None and other.id != permit_id:
            errors.add("permit_no", _("This permit number is already registered (to %(name)s).",
                                      name=other.enterprise.name))
    management_class = coerce.choice(errors, "management_class", data.get("management_class"), PermitClass)
    valid_from = coerce.day(errors, "valid_from", data.get("valid_from"))
    valid_to = coerce.day(errors, "valid_to", data.get("valid_to"))
    errors.add("valid_to", rules.check_validity(valid_from, valid_to))
    clean = {"permit_no": check.value, "management_class": management_class, "valid_from": valid_from,
             "valid_to": valid_to, "issued_by": coerce.optional_text(errors, "issued_by", data.get("issued_by"))}
    errors.raise_if_any()
    return clean


def create_permit(actor: Any, ent: Enterprise, data: Mapping[str, Any], note: str | None = None) -> Permit:
    clean = validate_permit(ent, coerce.merge_current(None, PERMIT_FIELDS, data))
    permit = Permit(enterprise_id=ent.id, **clean)
    db.session.add(permit)
    db.session.flush()
    audit.record(actor, "permit.create", permit, after=coerce.after_with_note(permit, note))
    return permit


def update_permit(actor: Any, permit: Permit, data: Mapping[str, Any], note: str | None = None) -> Permit:
    clean = validate_permit(permit.enterprise, coerce.merge_current(permit, PERMIT_FIELDS, data), permit.id)
    before = audit.snapshot(permit)
    coerce.apply_changes(permit, clean)
    db.session.flush()
    audit.record(actor, "permit.update", permit, before=before, after=coerce.after_with_note(permit, note))
    return permit


# --- outlets ------------------------------------------------------------------------------------------------------

def validate_outlet(ent: Enterprise, data: Mapping[str, Any], outlet_id: int | None = None) -> dict[str, Any]:
    """Outlet codes DA/DW + 3 digits (HJ 608), unique within the enterprise; the permit must be its own."""
    errors = coerce.Errors()
    check = rules.check_outlet_code(coerce.clean_text(data.get("code")))
    errors.add("code", check.error)
    if check.ok:
        other = db.session.scalar(sa.select(Outlet).where(Outlet.enterprise_id == ent.id, Outlet.code == check.value))
        if other is not None and other.id != outlet_id:
            errors.add("code", _("This enterprise already has an outlet %(code)s.", code=check.value))
    name = coerce.clean_text(data.get("name"))
    if not name:
        errors.add("name", _("This field is required."))
    elif len(name) > OUTLET_NAME_MAX:
        errors.add("name", _("At most %(n)d characters.", n=OUTLET_NAME_MAX))
    outlet_type = coerce.choice(errors, "outlet_type", data.get("outlet_type"), OutletType)
    permit_id = None
    raw_permit = coerce.clean_text(data.get("permit_id"))
    if raw_permit and raw_permit != "None":
        permit = db.session.get(Permit, int(raw_permit)) if raw_permit.isdigit() else None
        if permit is None or permit.enterprise_id != ent.id:
            errors.add("permit_id", _("Choose one of this enterprise's permits."))
        else:
            permit_id = permit.id
    lat, lon = coerce.coordinates(errors, data)
    clean = {"code": check.value, "name": name, "outlet_type": outlet_type, "permit_id": permit_id,
             "latitude": lat, "longitude": lon,
             "destination": coerce.optional_text(errors, "destination", data.get("destination"))}
    errors.raise_if_any()
    return clean


def create_outlet(actor: Any, ent: Enterprise, data: Mapping[str, Any], note: str | None = None) -> Outlet:
    clean = validate_outlet(ent, coerce.merge_current(None, OUTLET_FIELDS, data))
    outlet = Outlet(enterprise_id=ent.id, **clean)
    db.session.add(outlet)
    db.session.flush()
    audit.record(actor, "outlet.create", outlet, after=coerce.after_with_note(outlet, note))
    return outlet


def update_outlet(actor: Any, outlet: Outlet, data: Mapping[str, Any], note: str | None = None) -> Outlet:
    clean = validate_outlet(outlet.enterprise, coerce.merge_current(outlet, OUTLET_FIELDS, data), outlet.id)
    if outlet.limits and rules.outlet_medium(clean["code"]) != outlet.medium:
        raise ValidationFailed({"code": _("This outlet has %(medium)s pollutant limits; remove them before changing "
                                          "between DA (air) and DW (water).", medium=_medium(outlet.medium))})
    before = audit.snapshot(outlet)
    coerce.apply_changes(outlet, clean)
    db.session.flush()
    audit.record(actor, "outlet.update", outlet, before=before, after=coerce.after_with_note(outlet, note))
    return outlet


# --- outlet limits ------------------------------------------------------------------------------------------------

def validate_limit(outlet: Outlet, data: Mapping[str, Any], limit_id: int | None = None) -> dict[str, Any]:
    """A monitored pollutant of the outlet's medium, with a maximum value or a range (pH), from the permit."""
    errors = coerce.Errors()
    code = coerce.clean_text(data.get("pollutant_code"))
    pollutant = db.session.get(Pollutant, code) if code else None
    if pollutant is None:
        errors.add("pollutant_code", _("Choose a pollutant from the list."))
    else:
        if pollutant.medium != outlet.medium:
            errors.add("pollutant_code", _("%(p)s is measured in %(pm)s, but outlet %(o)s is a %(om)s outlet.",
                                           p=pollutant.name, pm=_medium(pollutant.medium), o=outlet.code,
                                           om=_medium(outlet.medium)))
        other = db.session.scalar(sa.select(OutletLimit).where(OutletLimit.outlet_id == outlet.id,
                                                               OutletLimit.pollutant_code == code))
        if other is not None and other.id != limit_id:
            errors.add("pollutant_code", _("Outlet %(o)s already has a limit for %(p)s; edit that one instead.",
                                           o=outlet.code, p=pollutant.name))
    value = coerce.number(errors, "limit_value", data.get("limit_value"))
    low = coerce.number(errors, "limit_min", data.get("limit_min"))
    high = coerce.number(errors, "limit_max", data.get("limit_max"))
    if not {"limit_value", "limit_min", "limit_max"} & errors.keys():
        problem = rules.check_limit(value, low, high)
        errors.add("limit_max" if low is not None or high is not None else "limit_value", problem)
    unit = coerce.optional_text(errors, "unit", data.get("unit")) or (pollutant.unit if pollutant else "")
    if pollutant is not None and not {"limit_value", "limit_min", "limit_max", "unit"} & errors.keys():
        fit = rules.limit_fit_problems(pollutant.code, pollutant.medium, pollutant.unit, unit, outlet.medium,
                                       value, low, high)
        for field, message in fit.items():
            if field != "pollutant_code":  # the medium was checked above, naming the pollutant and the outlet
                errors.add(field, message)
        if "unit" not in fit:
            unit = pollutant.unit  # one spelling of the catalogue unit
    averaging = coerce.choice(errors, "averaging", data.get("averaging"), Averaging)
    o2 = coerce.number(errors, "reference_o2", data.get("reference_o2"))
    errors.add("reference_o2", rules.check_reference_o2(o2, outlet.medium))
    clean = {"pollutant_code": code, "limit_value": value, "limit_min": low, "limit_max": high, "unit": unit,
             "averaging": averaging, "reference_o2": o2,
             "standard_code": coerce.optional_text(errors, "standard_code", data.get("standard_code"))}
    errors.raise_if_any()
    return clean


def create_limit(actor: Any, outlet: Outlet, data: Mapping[str, Any], note: str | None = None) -> OutletLimit:
    clean = validate_limit(outlet, coerce.merge_current(None, LIMIT_FIELDS, data))
    limit = OutletLimit(outlet_id=outlet.id, **clean)
    db.session.add(limit)
    db.session.flush()
    audit.record(actor, "outlet_limit.create", limit, after=coerce.after_with_note(limit, note),
                 enterprise_id=outlet.enterprise_id)
    return limit


def update_limit(actor: Any, limit: OutletLimit, data: Mapping[str, Any], note: str | None = None) -> OutletLimit:
    clean = validate_limit(limit.outlet, coerce.merge_current(limit, LIMIT_FIELDS, data), limit.id)
    before = audit.snapshot(limit)
    coerce.apply_changes(limit, clean)
    db.session.flush()
    audit.record(actor, "outlet_limit.update", limit, before=before, after=coerce.after_with_note(limit, note),
                 enterprise_id=limit.outlet.enterprise_id)
    return limit


def remove_limit(actor: Any, limit: OutletLimit, note: str | None = None) -> None:
    """A pollutant dropped from the permit; the audit record keeps the old limit."""
    outlet = limit.outlet
    audit.record(actor, "outlet_limit.delete", limit, before=audit.snapshot(limit),
                 after={"_note": note} if note else None, enterprise_id=outlet.enterprise_id)
    outlet.limits.remove(limit)
    db.session.flush()


# --- key-unit types -----------------------------------------------------------------------------------------------

def set_key_unit_types(actor: Any, ent: Enterprise, year: Any, types: list[Any]) -> list[KeyUnitType]:
    """The 重点排污单位名录 is fixed per year: replace that year's types in one audited step."""
    errors = coerce.Errors()
    year_text = coerce.clean_text(year)
    if not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
        errors.add("year", _("Enter a year between 2000 and 2100."))
    chosen: list[KeyUnitType] = []
    for t in types:
        value = coerce.choice(errors, "unit_types", t, KeyUnitType)
        if value is not None and value not in chosen:
            chosen.append(value)
    errors.raise_if_any()
    y = int(year_text)
    old = sorted(t.value for t in ent.key_unit_types(y))
    new = sorted(t.value for t in chosen)
    if old == new:
        return chosen
    for row in [k for k in ent.key_units if k.year == y]:
        ent.key_units.remove(row)
        db.session.delete(row)
    db.session.flush()
    for t in chosen:
        ent.key_units.append(KeyUnitYear(enterprise_id=ent.id, year=y, unit_type=t))
    db.session.flush()
    audit.record(actor, "enterprise.key_units", ent, before={"year": y, "key_unit_types": old},
                 after={"year": y, "key_unit_types": new})
    return chosen


# --- listing and the public profile -------------------------------------------------------------------------------

def jurisdiction_query(jurisdiction: str | None, q: str = "", region: str = "") -> sa.Select:
    """Enterprises a regulator may see (region code under the jurisdiction prefix), optionally filtered."""
    stmt = sa.select(Enterprise).where(Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True))
    if q:
        stmt = stmt.where(sa.or_(Enterprise.name.contains(q, autoescape=True),
                                 Enterprise.uscc == rules.normalise_code(q)))
    if region:
        stmt = stmt.where(Enterprise.region_code.startswith(region, autoescape=True))
    return stmt.order_by(Enterprise.name, Enterprise.id)


def region_path(code: str | None) -> list[Region]:
    """The region with this code and its ancestors, province first, read in one recursive query (UNION stops on a
    cycle in the data; the walk below too)."""
    if not code:
        return []
    chain = sa.select(Region.code, Region.parent_code).where(Region.code == code).cte("chain", recursive=True)
    chain = chain.union(sa.select(Region.code, Region.parent_code).join(chain, Region.code == chain.c.parent_code))
    by_code = {r.code: r for r in db.session.scalars(sa.select(Region).where(Region.code.in_(sa.select(chain.c.code))))}
    path: list[Region] = []
    region = by_code.get(code)
    while region is not None and region not in path:
        path.insert(0, region)
        region = by_code.get(region.parent_code) if region.parent_code else None
    return path


def public_profile(ent: Enterprise, today: date | None = None) -> dict[str, Any]:
    """What the public may see of an enterprise (no contact phone); shared by the page, the PDF and the API.

    Values stay typed (date, Decimal, enum values as str); callers serialise them as they need.
    """
    today = today or china_today()
    path = region_path(ent.region_code)
    permits = [{"permit_no": p.permit_no, "management_class": p.management_class.value, "valid_from": p.valid_from,
                "valid_to": p.valid_to, "issued_by": p.issued_by, "days_left": (p.valid_to - today).days,
                "expired": p.valid_to < today} for p in ent.permits]
    outlets = [{"code": o.code, "name": o.name, "outlet_type": o.outlet_type.value, "medium": o.medium,
                "destination": o.destination, "latitude": o.latitude, "longitude": o.longitude,
                "permit_no": o.permit.permit_no if o.permit else None,
                "limits": [{"pollutant_code": lim.pollutant_code, "pollutant_name": local_name(lim.pollutant),
                            "limit_value": lim.limit_value, "limit_min": lim.limit_min, "limit_max": lim.limit_max,
                            "unit": lim.unit, "averaging": lim.averaging.value, "reference_o2": lim.reference_o2,
                            "standard_code": lim.standard_code} for lim in o.limits]}
               for o in ent.outlets]
    return {
        "uscc": ent.uscc, "name": ent.name, "former_names": list(ent.former_names or []), "legal_rep": ent.legal_rep,
        "address": ent.address, "production_address": ent.production_address,
        "region_code": ent.region_code, "region_path": [r.name for r in path],
        "region_path_text": " ".join(local_name(r) for r in path),  # names in the reader's language
        "industry_code": ent.industry_code, "industry_name": local_name(ent.industry),
        "is_listed": ent.is_listed, "stock_code": ent.stock_code, "is_bond_issuer": ent.is_bond_issuer,
        "year": today.year, "key_unit_types": [t.value for t in ent.key_unit_types(today.year)],
        "permits": permits, "outlets": outlets, "as_of": today,
    }
