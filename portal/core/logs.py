"""Logging: plain lines for a terminal, or one JSON object per line (PORTAL_LOG_FORMAT=json, python-json-logger)
for a log collector. Records carry the request's method and path, never its query string, form or body, and
never the client's address: what people typed into the portal (names, phone numbers, search text) stays out of
the logs; tests/security/test_log_privacy.py checks a whole complaint's journey."""
from __future__ import annotations

import logging

from flask import has_request_context, request
from pythonjsonlogger.json import JsonFormatter

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class RequestContext(logging.Filter):
    """Adds http_method and http_path (without the query string) to records logged while serving a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.http_method, record.http_path = request.method, request.path
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Root logging for the process: `fmt` is "json" or "plain" (anything else)."""
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(PLAIN))
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    if not any(getattr(h, "_portal", False) for h in root.handlers):
        handler._portal = True  # type: ignore[attr-defined]  (configure once per process)
        root.addHandler(handler)
    root.setLevel(level)
