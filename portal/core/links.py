"""Absolute public links: the one helper every absolute URL goes through (API links, Open311 discovery, Atom feeds,
datapackage.json, e-mails, PDFs, 环保码 QR codes), in a request or not.

The base is PORTAL_PUBLIC_BASE_URL (config PUBLIC_BASE_URL) when set: the address the public reaches, e.g. behind a
reverse proxy. Otherwise it is the address the portal serves (PORTAL_HOST and PORTAL_PORT, which `make run` passes to
the web server and exports to the seeding and the scheduler), resolved once when the app is created. The request's
Host header is never used: a forged header must not put a foreign address into a password-reset e-mail."""
from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

from flask import Flask, current_app

log = logging.getLogger(__name__)
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", "5000"
_WILDCARDS = {"0.0.0.0", "::", "[::]", ""}


def serving_base_url(environ: dict | None = None) -> str:
    """http://HOST:PORT from PORTAL_HOST / PORTAL_PORT (a wildcard bind address becomes localhost)."""
    env = os.environ if environ is None else environ
    host = env.get("PORTAL_HOST", DEFAULT_HOST).strip()
    port = env.get("PORTAL_PORT", DEFAULT_PORT).strip() or DEFAULT_PORT
    if host in _WILDCARDS:
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


def resolve_base_url(configured: str | None, environ: dict | None = None) -> str:
    """The configured public base URL (without a trailing slash) or, when unset, the serving address."""
    configured = (configured or "").strip()
    if configured:
        parts = urlsplit(configured)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"PORTAL_PUBLIC_BASE_URL must be an absolute http(s) URL, got {configured!r}")
        return configured.rstrip("/")
    return serving_base_url(environ)


def init_app(app: Flask) -> None:
    """Resolve PUBLIC_BASE_URL once and offer public_url() to the templates."""
    explicit = bool((app.config.get("PUBLIC_BASE_URL") or "").strip())
    app.config["PUBLIC_BASE_URL"] = resolve_base_url(app.config.get("PUBLIC_BASE_URL"))
    if not explicit and urlsplit(app.config["PUBLIC_BASE_URL"]).hostname == "localhost" \
            and os.environ.get("PORTAL_HOST", "").strip() in _WILDCARDS - {""}:
        log.warning("The portal listens on all addresses; set PORTAL_PUBLIC_BASE_URL so that links in e-mails, "
                    "PDFs and QR codes name the address the public uses.")
    app.jinja_env.globals["public_url"] = public_url


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def public_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) as an absolute URL on the public base (`_anchor` adds a fragment)."""
    anchor = values.pop("_anchor", None)
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def public_enterprise_url(uscc: str) -> str:
    return public_url("enterprises.public", uscc=uscc)
