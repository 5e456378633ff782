"""Absolute public links for use outside a request (e-mails, PDFs, QR codes, feeds)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def public_enterprise_url(uscc: str) -> str:
    return public_url("enterprises.public", uscc=uscc)
