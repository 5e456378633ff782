"""OpenAPI path items for the disclosure API, merged into portal/api/openapi.py's document."""
from __future__ import annotations

_ERROR = {"$ref": "#/components/responses/Error"}

_SUMMARY = {"type": "object", "required": ["id", "sha256", "kind", "status", "submitted_at"], "properties": {
    "id": {"type": "string", "description": "The SHA-256 of the report's canonical JSON content; stable forever."},
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "kind": {"type": "string", "enum": ["annual", "temporary"]},
    "year": {"type": ["integer", "null"], "description": "Report year (annual reports)."},
    "trigger": {"type": ["string", "null"], "enum": ["permit_change", "admin_penalty", "detention", "criminal",
                                                     "damage_compensation", "emergency", "change", None]},
    "status": {"type": "string", "enum": ["published", "corrected"],
               "description": "corrected: a later change report refers to it; both stay public."},
    "submitted_at": {"type": "string", "format": "date-time", "description": "Signing time (legal filing time)."},
    "corrects": {"type": ["string", "null"], "description": "Change reports: the digest of the corrected report."},
    "corrected_by": {"type": "array", "items": {"type": "string"}},
    "links": {"type": "object", "properties": {"self": {"type": "string", "format": "uri"},
                                               "html": {"type": "string", "format": "uri"},
                                               "pdf": {"type": "string", "format": "uri"}}},
}}

_USCC = {"name": "uscc", "in": "path", "required": True, "description": "统一社会信用代码.",
         "schema": {"type": "string"}}
_DIGEST = {"name": "digest", "in": "path", "required": True,
           "description": "SHA-256 of the report content (as printed on the copy of record).",
           "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}

PATHS = {
    "/api/v1/enterprises/{uscc}/disclosures": {"get": {
        "operationId": "listEnterpriseDisclosures",
        "summary": "An enterprise's published disclosure reports (annual and temporary), every version, newest "
                   "year first.",
        "parameters": [_USCC],
        "responses": {"200": {"description": "Published reports.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": _SUMMARY},
                "meta": {"type": "object", "properties": {"total": {"type": "integer"}}}}}}}},
            "400": _ERROR, "404": _ERROR},
    }},
    "/api/v1/disclosures/{digest}": {"get": {
        "operationId": "getDisclosure",
        "summary": "One published report with its frozen content (the canonical JSON that was signed and hashed).",
        "parameters": [_DIGEST],
        "responses": {"200": {"description": "The report.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["data"], "properties": {"data": {"allOf": [_SUMMARY, {
                "type": "object", "properties": {"content": {
                    "type": "object", "description": "Sorting its keys and serialising without spaces (UTF-8) "
                                                     "gives bytes whose SHA-256 is the id."}}}]}}}}}},
            "400": _ERROR, "404": _ERROR},
    }},
}
