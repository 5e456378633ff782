"""The OpenAPI 3.1 description of /api/v1, written as data. tests/api/test_openapi.py checks that every /api/v1
route is described here and that nothing described here is missing from the app."""
from __future__ import annotations

import copy
from typing import Any

from portal.enterprises.models import Averaging, KeyUnitType, OutletType, PermitClass

API_VERSION = "1.0.0"

_ERROR = {"$ref": "#/components/responses/Error"}


def _param(name: str, where: str, description: str, schema: dict[str, Any], required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


_nullable_str = {"type": ["string", "null"]}
_decimal = {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$",
            "description": "Exact decimal written as a string."}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "examples": ["invalid_parameter", "not_found"],
                     "description": "Machine-readable: invalid_parameter, not_found, method_not_allowed, "
                                    "too_many_requests, service_unavailable, internal_error."},
            "message": {"type": "string", "description": "Human-readable, in the request's language; names the "
                                                         "parameter at fault."}}}},
    },
    "Named": {"type": "object", "required": ["code", "name"],
              "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "Links": {"type": "object", "properties": {"self": {"type": "string", "format": "uri"},
                                                "html": {"type": "string", "format": "uri"}}},
    "EnterpriseSummary": {
        "type": "object", "required": ["uscc", "name", "former_names", "region", "industry", "links"],
        "properties": {
            "uscc": {"type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
                     "description": "统一社会信用代码 (GB 32100-2015)."},
            "name": {"type": "string"},
            "former_names": {"type": "array", "items": {"type": "string"}},
            "region": {"$ref": "#/components/schemas/Named"},
            "industry": {"$ref": "#/components/schemas/Named"},
            "grade": {"type": ["string", "null"], "enum": ["green", "blue", "yellow", "red", "black", None],
                      "description": "Current environmental credit grade; null when not evaluated."},
            "credit_status": {"type": "string", "enum": ["evaluated", "not_evaluated"]},
            "links": {"$ref": "#/components/schemas/Links"},
        },
    },
    "EnterprisePage": {
        "type": "object", "required": ["data", "meta", "links"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/EnterpriseSummary"}},
            "meta": {"type": "object", "properties": {
                "total": {"type": "integer", "description": "Matching enterprises, counted up to 5,000."},
                "total_is_capped": {"type": "boolean", "description": "True when more than 5,000 match."},
                "mode": {"type": "string", "enum": ["uscc", "permit", "fulltext", "all"]},
                "sort": {"type": "string", "enum": ["relevance", "name", "grade", "penalty", "id"],
                         "description": "The order used: name when q is empty; id (registry order) when more "
                                        "than 5,000 match, since ranking them all would be slow."},
                "per_page": {"type": "integer"}}},
            "links": {"type": "object", "properties": {
                "self": {"type": "string", "format": "uri"},
                "next": {"type": ["string", "null"], "format": "uri",
                         "description": "The next page (null on the last page)."},
                "prev": {"type": ["string", "null"], "format": "uri"}}},
        },
    },
    "Region": {
        "type": "object", "required": ["code", "name", "level"],
        "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}, "name": {"type": "string"},
                       "name_en": {"type": "string"}, "level": {"type": "integer", "enum": [1, 2, 3]},
                       "parent_code": _nullable_str,
                       "prefix": {"type": "string", "description": "Region-code prefix to filter enterprises with."}},
    },
    "Industry": {"type": "object", "required": ["code", "name"],
                 "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                "name_en": {"type": "string"},
                                "level": {"type": "integer", "description": "GB/T 4754-2017: 1 section (A–T), "
                                          "2 division, 3 group, 4 class (enterprises are registered under a class)."},
                                "parent_code": _nullable_str}},
    "Limit": {
        "type": "object",
        "properties": {"pollutant_code": {"type": "string", "description": "HJ 212-2017 / HJ 524 code."},
                       "pollutant_name": {"type": "string"}, "limit_value": _decimal, "limit_min": _decimal,
                       "limit_max": _decimal, "unit": {"type": "string"},
                       "averaging": {"type": "string", "enum": [a.value for a in Averaging]},
                       "reference_o2": _decimal, "standard_code": {"type": "string"}},
    },
    "Permit": {
        "type": "object",
        "properties": {"permit_no": {"type": "string", "minLength": 22, "maxLength": 22},
                       "management_class": {"type": "string", "enum": [p.value for p in PermitClass]},
                       "valid_from": {"type": "string", "format": "date"},
                       "valid_to": {"type": "string", "format": "date"}, "issued_by": {"type": "string"},
                       "days_left": {"type": "integer"}, "expired": {"type": "boolean"}},
    },
    "Outlet": {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^D[AW][0-9]{3}$"}, "name": {"type": "string"},
                       "outlet_type": {"type": "string", "enum": [o.value for o in OutletType]},
                       "medium": {"type": "string", "enum": ["gas", "water"]}, "destination": {"type": "string"},
                       "latitude": _decimal, "longitude": _decimal, "permit_no": _nullable_str,
                       "limits": {"type": "array", "items": {"$ref": "#/components/schemas/Limit"}}},
    },
    "EnterpriseDetail": {
        "type": "object", "required": ["uscc", "name", "region", "industry", "permits", "outlets"],
        "properties": {
            "uscc": {"type": "string"}, "name": {"type": "string"},
            "former_names": {"type": "array", "items": {"type": "string"}},
            "legal_rep": {"type": "string"}, "address": {"type": "string"}, "production_address": {"type": "string"},
            "region_code": {"type": "string"},
            "region_path": {"type": "array", "items": {"type": "string"}, "description": "Names, province first."},
            "region_path_text": {"type": "string"},
            "region": {"type": "object", "properties": {
                "code": {"type": "string"},
                "path": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}}}},
            "industry_code": {"type": "string"}, "industry_name": {"type": "string"},
            "industry": {"$ref": "#/components/schemas/Industry"},
            "is_listed": {"type": "boolean"}, "stock_code": {"type": "string"}, "is_bond_issuer": {"type": "boolean"},
            "year": {"type": "integer"},
            "key_unit_types": {"type": "array", "items": {"type": "string", "enum": [k.value for k in KeyUnitType]},
                               "description": "Key pollutant-discharge unit types for `year`."},
            "permits": {"type": "array", "items": {"$ref": "#/components/schemas/Permit"}},
            "outlets": {"type": "array", "items": {"$ref": "#/components/schemas/Outlet"}},
            "as_of": {"type": "string", "format": "date"},
            "links": {"$ref": "#/components/schemas/Links"},
        },
    },
}

_credit_grade = {"type": ["object", "null"], "properties": {
    "code": {"type": "string", "examples": ["green", "blue", "yellow", "red", "black"]},
    "label": {"type": "string"}, "colour": {"type": "string", "description": "CSS colour, e.g. #2e7d32."}}}
SCHEMAS["EnterpriseCredit"] = {
    "type": "object", "required": ["uscc", "status", "scheme", "grade", "ledger", "history"],
    "properties": {
        "uscc": {"type": "string"},
        "status": {"type": "string", "enum": ["evaluated", "not_evaluated"],
                   "description": "not_evaluated: no published annual result and no confirmed evidence scored; "
                                  "grade and score are then null."},
        "basis": {"type": ["string", "null"], "enum": ["evaluation", "dynamic", None],
                  "description": "evaluation: the latest final annual result stands; dynamic: the points ledger "
                                 "today (no final result yet, or entries started or stopped counting since)."},
        "since": {"type": ["string", "null"], "format": "date", "description": "Day the current grade took effect."},
        "evaluation": {"type": ["object", "null"], "description": "The latest final annual result.",
                       "properties": {"year": {"type": "integer"}, "run": {"type": "integer"},
                                      "grade": {"type": "string"}, "score": {"type": "integer"},
                                      "vetoed": {"type": "boolean"},
                                      "finalised_on": {"type": "string", "format": "date"},
                                      "scheme_version": {"type": "integer"}}},
        "adjustments": {"type": "array", "items": {"type": "integer"},
                        "description": "Ids of the ledger lines that started or stopped counting after the "
                                       "evaluated period: why the current grade differs from the annual one."},
        "scheme": {"type": ["object", "null"], "properties": {
            "code": {"type": "string", "examples": ["national-2013", "jiangsu-12"]}, "name": {"type": "string"},
            "version": {"type": "integer"}, "start_score": {"type": "integer"}, "max_score": {"type": "integer"}}},
        "as_of": {"type": ["string", "null"], "format": "date"},
        "score": {"type": ["integer", "null"]},
        "grade": _credit_grade,
        "vetoed": {"type": "boolean", "description": "A one-vote veto event counts and caps the grade."},
        "ledger": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "rule": {"type": "string"}, "rule_label": {"type": "string"}, "points": {"type": "integer"},
            "veto": {"type": "boolean"}, "counts_from": {"type": "string", "format": "date"},
            "expires_on": {"type": ["string", "null"], "format": "date",
                           "description": "First day the entry no longer counts."},
            "counting": {"type": "boolean"},
            "evidence": {"type": "object", "properties": {
                "id": {"type": "integer"}, "kind": {"type": "string"}, "source": {"type": "string"},
                "occurred_on": {"type": "string", "format": "date"},
                "title": {"type": ["string", "null"], "description": "null when the details are not public."},
                "document_no": {"type": ["string", "null"]}, "authority": {"type": ["string", "null"]}}}}}},
        "history": {"type": "array", "items": {"type": "object", "properties": {
            "grade": _credit_grade, "score": {"type": "integer"},
            "effective_on": {"type": "string", "format": "date"}, "scheme_version": {"type": "integer"}}}},
    },
}

SCHEMAS["ListEntry"] = {"type": "object", "properties": {
    "uscc": {"type": "string"}, "name": {"type": "string"}, "reason": {"type": "string"},
    "decision": {"type": "string"}, "listed_on": {"type": "string", "format": "date"},
    "removable_from": {"type": ["string", "null"], "format": "date",
                       "description": "End of the minimum period (black list); null for the positive list."},
    "expires_on": {"type": "string", "format": "date", "description": "End of the maximum period."}}}

_list_of = lambda ref: {"type": "object", "required": ["data"], "properties": {  # noqa: E731
    "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
    "meta": {"type": "object", "properties": {"total": {"type": "integer"}}}}}

PATHS: dict[str, Any] = {
    "/api/v1/enterprises": {"get": {
        "operationId": "listEnterprises",
        "summary": "Search enterprises by name fragment, credit code or permit number, with filters.",
        "description": "Name search has substring semantics for two or more Chinese characters; every Chinese run "
                       "and every Latin word must match. An 18-character credit code or a 22-character permit "
                       "number is looked up exactly. Pages are keyset cursors: follow links.next.",
        "parameters": [
            _param("q", "query", "Name fragment, 统一社会信用代码 or permit number.",
                   {"type": "string", "maxLength": 100}),
            _param("region", "query", "Region-code prefix: province 32, prefecture 3208, county 320826 (a full "
                                      "province or prefecture code such as 320800 also works).",
                   {"type": "string", "pattern": "^[0-9]{2}([0-9]{2}([0-9]{2})?)?$"}),
            _param("industry", "query", "GB/T 4754 industry code or prefix (2–4 digits).",
                   {"type": "string", "pattern": "^[0-9]{2,4}$"}),
            _param("key_unit", "query", "Key pollutant-discharge unit type in the current year.",
                   {"type": "string", "enum": [k.value for k in KeyUnitType]}),
            _param("grade", "query", "Current environmental credit grade; not_evaluated: never evaluated.",
                   {"type": "string", "enum": ["green", "blue", "yellow", "red", "black", "not_evaluated"]}),
            _param("list", "query", "Currently on the black list (严重失信) or the white list (正面清单).",
                   {"type": "string", "enum": ["black", "white"]}),
            _param("exceedance", "query", "open: has at least one open (unexplained or unclosed) monitoring "
                                          "exceedance.", {"type": "string", "enum": ["open"]}),
            _param("disclosure", "query", "Status of last year's annual disclosure report (due this spring).",
                   {"type": "string", "enum": ["pending", "on_time", "late", "missing"]}),
            _param("sort", "query", "relevance (shorter names first), name, grade (best first, ungraded last) or "
                                    "penalty (latest public penalty first). grade and penalty without q need a "
                                    "filter narrowing the result to 5,000 or fewer; otherwise name is used. "
                                    "meta.sort tells the order applied.",
                   {"type": "string", "enum": ["relevance", "name", "grade", "penalty"], "default": "relevance"}),
            _param("cursor", "query", "Opaque page cursor from links.next or links.prev.", {"type": "string"}),
            _param("per_page", "query", "Results per page.",
                   {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        ],
        "responses": {"200": _json("EnterprisePage", "A page of enterprises."), "400": _ERROR},
    }},
    "/api/v1/enterprises/{uscc}": {"get": {
        "operationId": "getEnterprise",
        "summary": "One enterprise: identity, region path, industry, permits, outlets and their limits.",
        "parameters": [_param("uscc", "path", "统一社会信用代码; spaces, hyphens, full-width characters and lower "
                                              "case are normalised. A wrong check character is a 400.",
                              {"type": "string"}, required=True)],
        "responses": {"200": {"description": "The enterprise.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["data"],
            "properties": {"data": {"$ref": "#/components/schemas/EnterpriseDetail"}}}}}},
            "400": _ERROR, "404": _ERROR},
    }},
    "/api/v1/enterprises/{uscc}/credit": {"get": {
        "operationId": "getEnterpriseCredit",
        "summary": "An enterprise's environmental credit: grade, score, the points ledger rule by rule (evidence "
                   "details where public) and the grade history.",
        "parameters": [_param("uscc", "path", "统一社会信用代码 (normalised as for /enterprises/{uscc}).",
                              {"type": "string"}, required=True)],
        "responses": {"200": {"description": "The credit record; `grade` is null with `status` "
                                             "`not_evaluated` for an enterprise never evaluated, `scheme` is null "
                                             "when no scheme applies.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["data"],
            "properties": {"data": {"$ref": "#/components/schemas/EnterpriseCredit"}}}}}},
            "400": _ERROR, "404": _ERROR},
    }},
    "/api/v1/lists/black": {"get": {
        "operationId": "getBlackList",
        "summary": "Enterprises on the black list (serious environmental dishonesty) with reason and listed period.",
        "responses": {"200": {"description": "Listed enterprises, newest first.",
                              "content": {"application/json": {"schema": _list_of("ListEntry")}}}},
    }},
    "/api/v1/lists/white": {"get": {
        "operationId": "getWhiteList",
        "summary": "Enterprises on the enforcement positive list (whitelist) with reason and listed period.",
        "responses": {"200": {"description": "Listed enterprises, newest first.",
                              "content": {"application/json": {"schema": _list_of("ListEntry")}}}},
    }},
    "/api/v1/regions": {"get": {
        "operationId": "listRegions",
        "summary": "Administrative regions (GB/T 2260) known to the portal.",
        "parameters": [_param("level", "query", "1 province, 2 prefecture, 3 county.",
                              {"type": "integer", "enum": [1, 2, 3]})],
        "responses": {"200": {"description": "Regions ordered by code.",
                              "content": {"application/json": {"schema": _list_of("Region")}}}, "400": _ERROR},
    }},
    "/api/v1/industries": {"get": {
        "operationId": "listIndustries",
        "summary": "Industry classes (GB/T 4754-2017).",
        "responses": {"200": {"description": "Industries ordered by code.",
                              "content": {"application/json": {"schema": _list_of("Industry")}}}},
    }},
    "/api/v1/openapi.json": {"get": {
        "operationId": "getOpenAPI",
        "summary": "This document.",
        "responses": {"200": {"description": "OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
}

from portal.disclosures.openapi import PATHS as _DISCLOSURE_PATHS  # noqa: E402

PATHS.update(_DISCLOSURE_PATHS)

from portal.monitoring.openapi import PATHS as _MONITORING_PATHS  # noqa: E402

PATHS.update(_MONITORING_PATHS)

from portal.enterprises.openapi import PATHS as _ENTERPRISE_PATHS  # noqa: E402

PATHS.update(_ENTERPRISE_PATHS)

from portal.maps.openapi import extend as _extend_with_area_search  # noqa: E402

_extend_with_area_search(PATHS, SCHEMAS)


_CACHE_PARAMS = [
    _param("If-None-Match", "header", "An ETag from an earlier response: 304 Not Modified when it still matches.",
           {"type": "string"}),
    _param("If-Modified-Since", "header", "An HTTP date: 304 Not Modified when nothing changed since (If-None-Match "
                                          "wins when both are sent).", {"type": "string"}),
]
HEADERS = {
    "ETag": {"description": "Strong validator: the SHA-256 of the body (first 40 hex digits), quoted.",
             "schema": {"type": "string"}},
    "Last-Modified": {"description": "When this server first served these bytes at this URL.",
                      "schema": {"type": "string"}},
    "Access-Control-Allow-Origin": {"description": "Always * on GET: any site may read open data (no credentials).",
                                    "schema": {"type": "string", "const": "*"}},
}


def _with_http_caching(paths: dict[str, Any]) -> dict[str, Any]:
    """Every GET takes the conditional headers, may answer 304, and its 200 carries ETag, Last-Modified and CORS
    (portal/opendata/http.py does this for every open-data response)."""
    for item in paths.values():
        operation = item.get("get")
        if operation is None:
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        operation["parameters"] = operation.get("parameters", []) + [p for p in _CACHE_PARAMS if p["name"] not in names]
        operation["responses"].setdefault("304", {"$ref": "#/components/responses/NotModified"})
        ok = operation["responses"].get("200")
        if isinstance(ok, dict) and "$ref" not in ok:
            ok.setdefault("headers", {}).update({name: {"$ref": f"#/components/headers/{name}"} for name in HEADERS})
    return paths


def document() -> dict[str, Any]:
    """A fresh copy, so a caller can add `servers` without changing the module data."""
    doc = _document()
    _with_http_caching(doc["paths"])
    return doc


def _document() -> dict[str, Any]:
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "Enterprise Environmental Credit and Disclosure Portal — open data API",
                 "version": API_VERSION,
                 "description": "Read-only open data. Errors are JSON {\"error\": {\"code\", \"message\"}} with a "
                                "4xx status. GET responses allow any origin (CORS) and carry ETag and Last-Modified; "
                                "send If-None-Match or If-Modified-Since to get 304 Not Modified."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "headers": HEADERS, "responses": {
            "Error": {"description": "An error; the message names the parameter at fault.",
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "NotModified": {"description": "The copy the client holds (If-None-Match / If-Modified-Since) is "
                                           "current; no body."}}},
    })
