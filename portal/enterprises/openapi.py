"""OpenAPI description of the enterprise compliance grid (merged into portal/api/openapi.py PATHS)."""
from __future__ import annotations

from portal.enterprises.compliance import Row

_count = {"type": "integer", "minimum": 0}
COMPLIANCE_SCHEMA = {
    "type": "object", "required": ["uscc", "as_of", "quarters", "rows", "quarters_in_violation"],
    "properties": {
        "uscc": {"type": "string"},
        "as_of": {"type": "string", "format": "date", "description": "China date the grid was computed on."},
        "quarters": {"type": "array", "minItems": 12, "maxItems": 12, "description": "Oldest first; the last is "
                     "the current quarter (in_progress).", "items": {"type": "object", "properties": {
                         "key": {"type": "string", "pattern": "^[0-9]{4}-Q[1-4]$"}, "year": {"type": "integer"},
                         "quarter": {"type": "integer", "enum": [1, 2, 3, 4]},
                         "start": {"type": "string", "format": "date"},
                         "end": {"type": "string", "format": "date", "description": "First day after the quarter."},
                         "in_progress": {"type": "boolean"}}}},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
            "row": {"type": "string", "enum": [r.value for r in Row],
                    "description": "exceedances: self-monitoring exceedance incidents by period start; reports: "
                                   "disclosure obligations late or missing by due date; penalties: verified public "
                                   "penalty evidence by decision date; complaints: complaints closed as "
                                   "substantiated by closing date."},
            "total": _count, "quarters_in_violation": _count,
            "cells": {"type": "array", "items": {"type": "object", "required": ["quarter", "count", "state"],
                                                 "properties": {
                "quarter": {"type": "string"}, "count": _count,
                "state": {"type": "string", "enum": ["violation", "none"],
                          "description": "none: no violation identified in the quarter."},
                "detail": {"type": "object", "description": "reports row only: counts by status (late, missing).",
                           "additionalProperties": _count}}}}}}},
        "quarters_in_violation": {**_count, "description": "Quarters with a violation in any row."},
        "links": {"$ref": "#/components/schemas/Links"},
    },
}

PATHS = {
    "/api/v1/enterprises/{uscc}/compliance": {"get": {
        "operationId": "getEnterpriseCompliance",
        "summary": "The 12-quarter compliance grid (as EPA ECHO's detailed facility report): per calendar quarter, "
                   "monitoring exceedances, late or missing disclosure reports, penalties and substantiated "
                   "complaints.",
        "parameters": [{"name": "uscc", "in": "path", "required": True,
                        "description": "统一社会信用代码 (normalised as for /enterprises/{uscc}).",
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The grid.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["data"], "properties": {"data": COMPLIANCE_SCHEMA}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}},
    }},
    "/api/v1/enterprises/{uscc}/deadlines": {"get": {
        "operationId": "getEnterpriseDeadlines",
        "summary": "The upcoming obligations of the enterprise's compliance calendar (the events of calendar.ics).",
        "parameters": [{"name": "uscc", "in": "path", "required": True,
                        "description": "统一社会信用代码 (normalised as for /enterprises/{uscc}).",
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Deadlines, soonest first.", "content": {"application/json": {
            "schema": {"type": "object", "required": ["data"], "properties": {"data": {
                "type": "object", "required": ["uscc", "as_of", "deadlines"], "properties": {
                    "uscc": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
                    "deadlines": {"type": "array", "items": {"type": "object", "required": [
                        "key", "category", "due_on", "summary", "provisional"], "properties": {
                        "key": {"type": "string"},
                        "category": {"type": "string", "enum": ["disclosure", "monitoring", "permit", "credit"]},
                        "due_on": {"type": "string", "format": "date"},
                        "summary": {"type": "string"}, "description": {"type": "string"},
                        "provisional": {"type": "boolean", "description": "Counted in working days of a year "
                                        "whose official holidays the portal's calendar does not have yet: the "
                                        "date may move once they are imported."}}}},
                    "links": {"$ref": "#/components/schemas/Links"}}}}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}},
    }},
}
