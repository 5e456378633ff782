"""OpenAPI path items for the monitoring API, merged into portal/api/openapi.py's document."""
from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_nullable_number = {"type": ["number", "null"]}


def _param(name: str, where: str, description: str, schema: dict[str, Any], required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


_RESULT = {"type": "object", "required": ["line", "result"], "properties": {
    "line": {"type": "integer", "description": "1-based line number of the packet in the request body."},
    "result": {"type": "string", "enum": ["accepted", "partial", "duplicate", "bad_header", "bad_length", "bad_crc",
                                          "crc_byte_swapped", "crc_modbus", "crc_modbus_swapped",
                                          "bad_terminator", "bad_encoding", "missing_field", "malformed_field",
                                          "duplicate_field", "malformed_item", "duplicate_item", "bad_datetime",
                                          "bad_time", "unauthorised", "decrypt_failed", "protocol_mismatch",
                                          "kept"],
               "description": "accepted / partial (some items not stored, see issues) / duplicate are stored; "
                              "kept: a command the portal does not read, stored raw and marked; every other result "
                              "stored nothing. Unknown MN and wrong password are both "
                              "`unauthorised`."},
    "issues": {"type": "array", "description": "Items not stored, or stored marked (partial packets).",
               "items": {"type": "object", "properties": {
                   "position": {"type": "integer"}, "key": {"type": "string"}, "value": {"type": "string"},
                   "issue": {"type": "string", "enum": ["extra_field", "ambiguous_duplicate", "malformed_value",
                                                       "flag_unrecognised", "malformed_code", "out_of_range",
                                                       "unknown_code", "unknown_command"]}}}},
    "parts": {"type": "string", "description": "Split uploads: parts held of PNUM, e.g. 2/3."},
    "backfill": {"type": "boolean", "description": "Older than the back-fill window: stored, opens no incident."},
    "message": {"type": "string"},
    "position": {"type": "integer", "description": "For item errors: the 1-based item number inside CP."},
    "mn": {"type": ["string", "null"]}, "qn": {"type": ["string", "null"]},
    "values": {"type": "integer", "description": "Pollutant items stored (accepted packets)."},
    "unknown_codes": {"type": "array", "items": {"type": "string"},
                      "description": "Pollutant codes not in the reference table: stored and reported."}}}

_POINT = {"type": "object", "properties": {
    "period": {"type": "string", "format": "date-time", "description": "Period start, China time (+08:00)."},
    "mean": _nullable_number, "min": _nullable_number, "max": _nullable_number,
    "valid": {"type": "integer", "description": "Values with flag N (the only ones that count)."},
    "total": {"type": "integer", "description": "All values, flagged ones included."},
    "exceeds": {"type": "boolean"}}}

_SERIES = {"type": "object", "properties": {
    "outlet": {"type": "string"}, "outlet_name": {"type": "string"}, "pollutant": {"type": "string"},
    "pollutant_name": {"type": "string"}, "unit": {"type": "string"},
    "averaging": {"type": "string", "enum": ["hourly", "daily", "instant"]},
    "limit_value": _nullable_number, "limit_min": _nullable_number, "limit_max": _nullable_number,
    "reference_o2": _nullable_number, "standard": {"type": "string"},
    "resolution": {"type": "string", "enum": ["hour", "day", "month"]},
    "points": {"type": "array", "items": _POINT},
    "incidents": {"type": "array", "items": {"type": "object", "properties": {
        "period": {"type": "string", "format": "date-time"},
        "basis": {"type": "string", "enum": ["hourly_mean", "daily_mean", "range", "instant", "manual"]},
        "value": {"type": "number"}, "multiple": _nullable_number,
        "state": {"type": "string", "enum": ["open", "explained", "closed"]}}}}}}

_SAMPLE = {"type": "object", "properties": {
    "outlet": {"type": "string"}, "sampled_at": {"type": "string", "format": "date-time"},
    "production_load": {**_nullable_number, "description": "Production load at sampling, per cent of capacity "
                                                            "(生态环境监测条例 Art. 24); null when not recorded."},
    "facility_status": {"type": ["string", "null"], "enum": ["running", "stopped", "abnormal", None],
                        "description": "Treatment facilities at sampling; null when not recorded."},
    "facility_status_label": {"type": ["string", "null"]},
    "results": {"type": "array", "items": {"type": "object", "properties": {
        "pollutant": {"type": "string"}, "value": _nullable_number, "flag": {"type": "string"}}}}}}

PATHS: dict[str, Any] = {
    "/api/v1/monitoring/hj212": {"post": {
        "operationId": "postHj212Packets",
        "summary": "Automatic monitoring data: HJ 212-2017 and HJ 212-2025 packets (2005 edition read too), one "
                   "per line.",
        "description": "Each line is a full frame: ##, 4-digit length, data segment, CRC16 (appendix algorithm), "
                       "CRLF. The device authenticates with MN and PW; CN 2011/2051/2061/2031 are stored, 2013 and "
                       "3020 kept raw, 9015 is a heartbeat; a 2025 device's data area is SM4-encrypted. Every line "
                       "gets its own result; a packet with the same MN, QN and PNO as one received before is a "
                       "duplicate, and re-sent values never count twice. Limits per client address: requests, "
                       "packets and failed authentications (429).",
        "requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}},
        "responses": {"200": {"description": "One result per packet line.", "content": {"application/json": {
            "schema": {"type": "object", "required": ["results", "meta"], "properties": {
                "results": {"type": "array", "items": _RESULT},
                "meta": {"type": "object", "properties": {"packets": {"type": "integer"},
                                                          "accepted": {"type": "integer"}}}}}}}},
            "400": _ERROR, "429": _ERROR},
    }},
    "/api/v1/enterprises/{uscc}/monitoring/samples": {"get": {
        "operationId": "getEnterpriseManualSamples",
        "summary": "Manual (laboratory) samples with their results and the operating conditions at sampling.",
        "description": "Newest first; a sample is one outlet and sampling time. The production load and the "
                       "treatment facilities' status are recorded with every manual result (生态环境监测条例 "
                       "Art. 24). At most 366 days and 5,000 results per request (meta.truncated).",
        "parameters": [
            _param("uscc", "path", "统一社会信用代码.", {"type": "string"}, required=True),
            _param("from", "query", "First day (China time), YYYY-MM-DD; default 365 days before `to`.",
                   {"type": "string", "format": "date"}),
            _param("to", "query", "Last day (China time), YYYY-MM-DD; default today.",
                   {"type": "string", "format": "date"}),
        ],
        "responses": {"200": {"description": "Samples, newest first.", "content": {"application/json": {
            "schema": {"type": "object", "required": ["data", "meta"], "properties": {
                "data": {"type": "array", "items": _SAMPLE}, "meta": {"type": "object"}}}}}},
            "400": _ERROR, "404": _ERROR},
    }},
    "/api/v1/enterprises/{uscc}/monitoring": {"get": {
        "operationId": "getEnterpriseMonitoring",
        "summary": "The enterprise's own self-monitoring data per outlet and pollutant against the permitted limit.",
        "description": "From the hourly, daily or monthly roll-ups. Means use valid (flag N) data only and are "
                       "converted to reference oxygen where the limit says so; pH is never averaged (min/max vs "
                       "the range).",
        "parameters": [
            _param("uscc", "path", "统一社会信用代码.", {"type": "string"}, required=True),
            _param("outlet", "query", "Outlet code, e.g. DW001.", {"type": "string"}),
            _param("pollutant", "query", "HJ 212 pollutant code, e.g. w01018.", {"type": "string"}),
            _param("from", "query", "First day (China time), YYYY-MM-DD.", {"type": "string", "format": "date"}),
            _param("to", "query", "Last day (China time), YYYY-MM-DD; default today.",
                   {"type": "string", "format": "date"}),
            _param("resolution", "query", "hour (at most 92 days), day (5 years) or month.",
                   {"type": "string", "enum": ["hour", "day", "month"], "default": "day"}),
        ],
        "responses": {"200": {"description": "One series per monitored outlet and pollutant.", "content": {
            "application/json": {"schema": {"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": _SERIES},
                "meta": {"type": "object"}}}}}}, "400": _ERROR, "404": _ERROR},
    }},
}
