"""to_dict functions for the JSON API: plain JSON values only (dates ISO 8601, decimals as exact strings)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g

from portal.enterprises.models import Enterprise
from portal.enterprises.services import public_profile, region_path
from portal.reference.models import Industry, Region
from portal.core.links import public_url


def jsonable(value: Any) -> Any:
    """Decimals become strings so limits keep their exact digits (a float would turn 0.1 into 0.1000000000000000055)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def region_dict(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "name_en": region.name_en, "level": region.level,
            "parent_code": region.parent_code, "prefix": region.prefix}


def industry_dict(industry: Industry) -> dict[str, Any]:
    return {"code": industry.code, "name": industry.name, "name_en": industry.name_en, "level": industry.level,
            "parent_code": industry.parent_code}


_PLACEHOLDER = "0" * 18


def _link_templates() -> tuple[str, str]:
    """Build the two enterprise URLs once per request (url_for costs ~90 µs; a page has 2 × 100 links)."""
    cached = g.get("_api_link_templates")
    if cached is None:
        cached = (public_url("api.enterprise", uscc=_PLACEHOLDER),
                  public_url("enterprises.public", uscc=_PLACEHOLDER))
        g._api_link_templates = cached
    return cached


def _links(ent: Enterprise) -> dict[str, str]:
    api_url, html_url = _link_templates()
    return {"self": api_url.replace(_PLACEHOLDER, ent.uscc), "html": html_url.replace(_PLACEHOLDER, ent.uscc)}


def enterprise_summary(ent: Enterprise, grade: str | None = None) -> dict[str, Any]:
    """One search hit; `grade` is the current credit grade code from the stored current standing (credit.standing);
    None with `credit_status` "not_evaluated" for an enterprise never evaluated."""
    return {
        "uscc": ent.uscc,
        "name": ent.name,
        "former_names": list(ent.former_names or []),
        "region": {"code": ent.region_code, "name": ent.region.name if ent.region else ""},
        "industry": {"code": ent.industry_code, "name": ent.industry.name if ent.industry else ""},
        "grade": grade,
        "credit_status": "evaluated" if grade else "not_evaluated",
        "links": _links(ent),
    }


def enterprise_detail(ent: Enterprise) -> dict[str, Any]:
    """The public profile (shared with the HTML page and the PDF) plus the region path with codes and links."""
    body = jsonable(public_profile(ent))
    body["region"] = {"code": ent.region_code, "path": [region_dict(r) for r in region_path(ent.region_code)]}
    body["industry"] = {"code": ent.industry_code, "name": ent.industry.name if ent.industry else "",
                        "name_en": ent.industry.name_en if ent.industry else ""}
    body["links"] = _links(ent)
    return body
