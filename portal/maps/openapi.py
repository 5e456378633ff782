"""OpenAPI for search by area: the bbox / near / radius_km parameters of listEnterprises and what they add to a
page (merged into portal/api/openapi.py)."""
from __future__ import annotations

from typing import Any

from portal.maps.rules import MAX_RADIUS_KM

PARAMETERS = [
    {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
     "description": "Search by area: minLon,minLat,maxLon,maxLat in WGS-84 decimal degrees, edges included "
                    "(e.g. 118.9,33.5,119.3,33.9). Only enterprises with coordinates match; results come in registry "
                    "order (meta.sort = id). Combines with per_page and cursor only (another filter is a 400). "
                    "Served by the (longitude, latitude) index.",
     "schema": {"type": "string", "pattern": r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"}},
    {"name": "near", "in": "query", "required": False,
     "description": "Search by distance: lat,lon in WGS-84 decimal degrees, with radius_km. Great-circle (haversine) "
                    "distance, nearest first (meta.sort = distance); each item carries distance_km. Not with bbox.",
     "schema": {"type": "string", "pattern": r"^-?[0-9.]+,-?[0-9.]+$"}},
    {"name": "radius_km", "in": "query", "required": False,
     "description": f"Radius for near, in kilometres (above 0, at most {int(MAX_RADIUS_KM)}).",
     "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM}},
]

ITEM_PROPERTIES = {
    "location": {"type": "object", "description": "Only in an area search: the registered coordinates (WGS-84, "
                                                  "decimal strings).",
                 "properties": {"latitude": {"type": "string"}, "longitude": {"type": "string"}}},
    "distance_km": {"type": "number", "description": "Only with near: great-circle distance from the point."},
}

META_AREA = {"type": "object", "description": "Only in an area search: the area as understood.",
             "properties": {"bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                            "near": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                            "radius_km": {"type": "number"}}}


def extend(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    op = paths["/api/v1/enterprises"]["get"]
    names = {p["name"] for p in op["parameters"]}
    op["parameters"].extend(p for p in PARAMETERS if p["name"] not in names)
    op["summary"] = op["summary"].rstrip(".") + "; or by area (bbox, near + radius_km)."
    schemas["EnterpriseSummary"]["properties"].update(ITEM_PROPERTIES)
    meta = schemas["EnterprisePage"]["properties"]["meta"]["properties"]
    meta["area"] = META_AREA
    for value in ("bbox", "near"):
        if value not in meta["mode"]["enum"]:
            meta["mode"]["enum"].append(value)
    if "distance" not in meta["sort"]["enum"]:
        meta["sort"]["enum"].append("distance")
