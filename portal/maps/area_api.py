"""The area form of GET /api/v1/enterprises (`bbox`, or `near` with `radius_km`): validation and the response,
shaped like the list's (data, meta, links) with each item's location and, for `near`, its distance."""
from __future__ import annotations

from typing import Callable, Mapping

from flask import Response, jsonify
from flask_babel import gettext as _

from portal.api import serializers
from portal.errors import DomainError
from portal.maps import rules
from portal.maps.area import search_area

AREA_PARAMS = ("bbox", "near", "radius_km")
COMBINABLE = {"bbox", "near", "radius_km", "cursor", "per_page", "lang"}


def wanted(args: Mapping[str, str]) -> bool:
    return any(args.get(name) is not None for name in AREA_PARAMS)


def parse(args: Mapping[str, str]) -> rules.BBox | rules.Near:
    others = sorted(k for k in args if k not in COMBINABLE and args.get(k))
    if others:
        raise DomainError(_("cannot be combined with bbox or near; search by area with per_page and cursor only."),
                          field=others[0])
    if args.get("bbox") is not None:
        if args.get("near") is not None or args.get("radius_km") is not None:
            raise DomainError(_("give either bbox, or near with radius_km, not both."), field="bbox")
        return rules.parse_bbox(args["bbox"])
    if args.get("near") is None:
        raise DomainError(_("radius_km needs near=lat,lon."), field="near")
    return rules.parse_near(args["near"], args.get("radius_km", ""))


def page(args: Mapping[str, str], per_page: int, list_url: Callable[..., str]) -> Response:
    area = parse(args)
    result = search_area(area, per_page, args.get("cursor", ""))
    data = []
    for ent in result.items:
        item = serializers.enterprise_summary(ent, result.grades.get(ent.id))
        item["location"] = {"latitude": str(ent.latitude), "longitude": str(ent.longitude)}
        if result.mode == "near":
            item["distance_km"] = result.distances[ent.id]
        data.append(item)
    if isinstance(area, rules.Near):
        meta_area = {"near": [area.lat, area.lon], "radius_km": area.radius_km}
    else:
        meta_area = {"bbox": [area.min_lon, area.min_lat, area.max_lon, area.max_lat]}
    return jsonify({
        "data": data,
        "meta": {"total": result.total, "total_is_capped": result.total_is_capped, "mode": result.mode,
                 "sort": result.sort, "per_page": per_page, "area": meta_area},
        "links": {"self": list_url(),
                  "next": list_url(cursor=result.next_cursor) if result.next_cursor else None,
                  "prev": list_url(cursor=result.prev_cursor) if result.prev_cursor else None},
    })
