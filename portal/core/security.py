"""Security headers on every response: a CSP with no inline script, frame denial and the rest (OWASP headers)."""
from __future__ import annotations

from flask import Response, current_app, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith(("/auth", "/regulator", "/my", "/admin")):
        headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_nul_bytes() -> None:
    """A NUL byte in the path, the query string or a form field is never meaningful: answer 400 before any view passes it to the
    database (PostgreSQL text cannot hold NUL, so it would surface as a 500)."""
    from flask import abort, current_app, request

    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                     for key, values in request.args.lists() for value in values):
        abort(400)
    # Form fields too (uploaded files are sniffed and stored as bytes, never as text). A body above the app-wide
    # limit is left to its view, which may allow more for itself (complaint photos) and names the file at fault.
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    within = request.content_length is not None and (limit is None or request.content_length <= limit)
    if within and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and any(
            "\x00" in key or "\x00" in value for key, values in request.form.lists() for value in values):
        abort(400)
