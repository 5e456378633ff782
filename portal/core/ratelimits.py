"""Rate limits that several routes share (ASVS 11.1.4): one budget per client address for every channel that does
the same thing, whatever the route.

- complaint-intake: the web form (POST /complaints/new) and the Open311 JSON and XML intake share
  COMPLAINT_RATE_LIMIT; partners with a valid api_key stay exempt on Open311, as before.
- public-pdf: every public PDF (they are rendered on demand) shares PUBLIC_PDF_RATE_LIMIT.

The counters live in RATELIMIT_STORAGE_URI: memory:// is per process; with redis://host:6379 every worker on
every host draws from the same budget (the `redis` package is in requirements.txt).
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app

from portal.extensions import limiter


def _config(key: str, default: str) -> Callable[[], str]:
    return lambda: current_app.config.get(key) or default


def _open311_partner() -> bool:
    from portal.complaints.open311 import _has_valid_key

    return _has_valid_key()


# scope -> (limit, [(endpoint, methods or None, exempt_when or None)])
SHARED = {
    "complaint-intake": (_config("COMPLAINT_RATE_LIMIT", "10 per minute;100 per day"), [
        ("complaints.new", ["POST"], None),
        ("open311.create_json", None, _open311_partner),
        ("open311.create_xml", None, _open311_partner),
    ]),
    "public-pdf": (_config("PUBLIC_PDF_RATE_LIMIT", "20 per minute;300 per day"), [
        ("reports.enterprise_summary", None, None),
        ("credit.report_pdf", None, None),
        ("disclosures.report_pdf", None, None),
        ("envcode.sign_a3", None, None),
        ("envcode.sign_a4", None, None),
        ("monitoring.lab_report", None, None),
        ("complaints.receipt_pdf", None, None),
    ]),
}


def install(app: Flask) -> None:
    """Wrap the registered views with their shared limits (after the blueprints are registered)."""
    for scope, (limit, routes) in SHARED.items():
        wrapped: dict[int, Callable] = {}
        for endpoint, methods, exempt in routes:
            view = app.view_functions.get(endpoint)
            if view is None:
                continue
            if id(view) not in wrapped:  # one function behind two endpoints (Open311 JSON/XML) is wrapped once
                wrapped[id(view)] = limiter.shared_limit(limit, scope=scope, methods=methods,
                                                         exempt_when=exempt)(view)
            app.view_functions[endpoint] = wrapped[id(view)]
