"""JSON API /api/v1 (read-only open data) and its OpenAPI document.

Errors follow PRODUCT §3: {"error": {"code", "message"}} with a 4xx status; a bad parameter is 400
invalid_parameter and its message names the parameter.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from portal.api import openapi as openapi_doc
from portal.api import serializers
from portal.api.lookup import InvalidParameter, enterprise_by_uscc
from portal.opendata import http
from portal.errors import DomainError, json_error
from portal.extensions import csrf
from portal.search import cache as search_cache
from portal.search import queries, reference
from portal.core.links import public_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
# ETag/Last-Modified/304 and CORS for GET on every /api/v1 blueprint: portal/opendata/http.py.
bp.record_once(lambda state: http.install(state.app))

LIST_PARAMS = ("q", "region", "industry", "key_unit", "grade", "list", "exceedance", "disclosure", "sort", "cursor",
               "per_page", "bbox", "near", "radius_km")


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    if exc.field and exc.code in ("invalid", "invalid_parameter"):
        message = _("Parameter “%(name)s”: %(message)s", name=exc.field, message=exc.message)
        return json_error("invalid_parameter", message, 400)
    return json_error(exc.code, exc.message, exc.status)


def _per_page() -> int:
    raw = request.args.get("per_page", "")
    limit = current_app.config["API_MAX_PER_PAGE"]
    if raw == "":
        return current_app.config["SEARCH_PER_PAGE"]
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise InvalidParameter(_("must be a whole number from 1 to %(n)d.", n=limit), field="per_page")
    return int(raw)


def _list_url(**overrides: Any) -> str:
    args = {k: v for k, v in request.args.items() if k in LIST_PARAMS and v}
    args.update({k: v for k, v in overrides.items() if v})
    return public_url("api.enterprises", **args)


@bp.get("/enterprises")
def enterprises():
    unknown = sorted(set(request.args) - set(LIST_PARAMS) - {"lang"})
    if unknown:
        raise InvalidParameter(_("unknown parameter; the parameters are %(names)s.", names=", ".join(LIST_PARAMS)),
                               field=unknown[0])
    from portal.maps import area_api  # search by area (issue 21): bbox, near + radius_km

    if area_api.wanted(request.args):
        return search_cache.serve(lambda: area_api.page(request.args, _per_page(), _list_url))
    return search_cache.serve(_search_page)


def _search_page() -> Response:
    params = queries.SearchParams(q=request.args.get("q", ""), region=request.args.get("region", ""),
                                  industry=request.args.get("industry", ""),
                                  key_unit=request.args.get("key_unit", ""),
                                  grade=request.args.get("grade", ""), list=request.args.get("list", ""),
                                  exceedance=request.args.get("exceedance", ""),
                                  disclosure=request.args.get("disclosure", ""),
                                  sort=request.args.get("sort", "") or "relevance",
                                  after=request.args.get("cursor", ""), per_page=_per_page())
    result = queries.search_enterprises(params)
    return jsonify({
        "data": [serializers.enterprise_summary(e, result.grades.get(e.id)) for e in result.items],
        "meta": {"total": result.total, "total_is_capped": result.total_is_capped, "mode": result.mode,
                 "sort": result.sort, "per_page": params.per_page},
        "links": {"self": _list_url(),  # percent-encoded (request.url is an IRI)
                  "next": _list_url(cursor=result.next_cursor) if result.next_cursor else None,
                  "prev": _list_url(cursor=result.prev_cursor) if result.prev_cursor else None},
    })


@bp.get("/enterprises/<uscc>")
def enterprise(uscc: str):
    ent = enterprise_by_uscc(uscc)
    return jsonify({"data": serializers.enterprise_detail(ent)})


@bp.get("/regions")
def regions():
    raw = request.args.get("level", "")
    if raw and raw not in ("1", "2", "3"):
        raise InvalidParameter(_("must be 1 (province), 2 (prefecture) or 3 (county)."), field="level")
    items = reference.list_regions(int(raw) if raw else None)
    return jsonify({"data": [serializers.region_dict(r) for r in items], "meta": {"total": len(items)}})


@bp.get("/industries")
def industries():
    items = reference.list_industries()
    return jsonify({"data": [serializers.industry_dict(i) for i in items], "meta": {"total": len(items)}})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_doc.document())
