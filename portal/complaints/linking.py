"""Which registered enterprise a case is about (DOMAIN §6.3: the reported unit's name and address).

At intake a typed name suggests registered enterprises with their address and distance from the given point; a
case filed with the exact registered name and no credit code is linked only when exactly one enterprise has that
name. Otherwise the handler links, re-links or unlinks the case with a reason (audited), whatever its channel.
Only a linked case counts in the enterprise's complaint numbers and, once substantiated, in its credit.

Services flush; views commit."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.rules import in_jurisdiction
from portal.complaints import rules
from portal.complaints.common import _event
from portal.complaints.models import Complaint, Findings
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import InvalidTransition, ValidationFailed
from portal.extensions import db

MAX_SUGGESTIONS = 8
MIN_QUERY = 2
MIN_REASON = 5
_SPACES = re.compile(r"[\s\u3000]+")
_PARENS = str.maketrans({"(": "（", ")": "）"})


def name_variants(name: str) -> list[str]:
    """The name as typed without spaces, with ASCII and full-width brackets (registered names use （）)."""
    bare = _SPACES.sub("", name or "")
    if not bare:
        return []
    return sorted({bare, bare.translate(_PARENS), bare.replace("（", "(").replace("）", ")")})


def unique_by_name(name: str) -> Enterprise | None:
    """The one registered enterprise whose name is exactly this (spaces and bracket width aside), or None when
    there is none or more than one."""
    variants = name_variants(name)
    if not variants:
        return None
    found = list(db.session.scalars(sa.select(Enterprise).where(Enterprise.name.in_(variants)).limit(2)))
    return found[0] if len(found) == 1 else None


def suggest(q: str, latitude: float | None = None, longitude: float | None = None,
            limit: int = MAX_SUGGESTIONS) -> list[dict]:
    """Registered enterprises matching a typed name (the search index), nearest first when a point is given:
    name, credit code, address, district and distance in metres (None without both points)."""
    from portal.search.queries import SearchParams, search_enterprises

    q = (q or "").strip()[:100]
    if len(q) < MIN_QUERY:
        return []
    result = search_enterprises(SearchParams(q=q, per_page=max(1, min(limit, 20))))
    here = latitude is not None and longitude is not None and rules.valid_coordinates(latitude, longitude)
    items = []
    for ent in result.items:
        distance = None
        if here and ent.latitude is not None and ent.longitude is not None:
            distance = round(rules.haversine_m(latitude, longitude, float(ent.latitude), float(ent.longitude)))
        items.append({"name": ent.name, "uscc": ent.uscc, "address": ent.address or ent.production_address,
                      "region": {"code": ent.region_code, "name": ent.region.name if ent.region else ""},
                      "distance_m": distance})
    if here:
        items.sort(key=lambda i: (i["distance_m"] is None, i["distance_m"] or 0))
    return items


def auto_link(c: Complaint) -> None:
    """Intake: a case named but not coded is linked when its name is one registered enterprise's exact name."""
    if c.enterprise_id is not None or not c.reported_name:
        return
    ent = unique_by_name(c.reported_name)
    if ent is not None:
        c.enterprise_id = ent.id
        c.enterprise = ent
        _event(c, "enterprise_matched", ent.uscc, public=False)


def enterprise_for_link(actor, uscc: str) -> Enterprise:
    """The enterprise a handler may link to: registered, and inside the handler's jurisdiction."""
    check = check_uscc(uscc or "")
    if not check.ok:
        raise ValidationFailed({"uscc": check.error})
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
    if ent is None or not in_jurisdiction(actor.jurisdiction_code, ent.region_code):
        raise ValidationFailed({"uscc": _("No registered enterprise in your jurisdiction has this credit code.")})
    return ent


def link_enterprise(c: Complaint, actor, uscc: str | None, reason: str) -> None:
    """Link (or re-link) the case to the enterprise with this credit code, or unlink it (uscc empty)."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationFailed({"reason": _("Give the reason for the link (at least 5 characters).")})
    if c.findings == Findings.SUBSTANTIATED:
        raise InvalidTransition(_("The substantiated result is recorded against the linked enterprise; the link "
                                  "can no longer change."))
    ent = enterprise_for_link(actor, uscc) if (uscc or "").strip() else None
    old = c.enterprise_id
    new = ent.id if ent else None
    if old == new:
        raise ValidationFailed({"uscc": _("The case is already linked this way.")})
    c.enterprise_id = new
    c.enterprise = ent
    kind = "enterprise_unlinked" if ent is None else ("enterprise_relinked" if old else "enterprise_linked")
    _event(c, kind, f"{ent.uscc if ent else ''} {reason}".strip(), public=False, actor=actor)
    record(actor, f"complaint.{kind.removeprefix('enterprise_')}_enterprise", c,
           before={"enterprise_id": old}, after={"enterprise_id": new, "reason": reason},
           enterprise_id=new or old)
    db.session.flush()
