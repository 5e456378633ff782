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
    if must_not_store() and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"  # wins over a view's own caching: the page is private
    return response


# Pages that show a person, a query code, a draft or a private decision even to a visitor who is not logged in:
# the complaint intake and its receipt (case number and query code), case tracking, data-error tracking codes, the
# 12345 intake's tokens, subscription e-mail addresses, open-day registrations; and every private area.
NO_STORE_PREFIXES = ("/auth", "/regulator", "/my", "/admin", "/console", "/monitoring", "/credit/my",
                     "/credit/regulator", "/complaints/new", "/complaints/receipt", "/complaints/track", "/data-errors",
                     "/open311/v2/requests", "/open311/v2/tokens", "/subscriptions")
NO_STORE_SUFFIXES = ("/registered", "/data-errors/new")


def must_not_store() -> bool:
    """One rule for `Cache-Control: no-store` (ASVS 8.2.1): every response to a logged-in user (static files
    aside) and every response under a private or personal path, whoever asks. The session cookie is read, not the
    user row, so a response never needs the database to decide."""
    from flask import session

    if request.endpoint == "static":
        return False
    if request.path.startswith(NO_STORE_PREFIXES) or request.path.endswith(NO_STORE_SUFFIXES):
        return True
    return bool(session.get("_user_id"))


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


MAX_PAGE = 100_000
PAGE_PARAMS = ("page",)  # per_page is checked by the API itself against API_MAX_PER_PAGE


def check_page_params() -> None:
    """`page`, wherever it appears, is a whole number from 1 to MAX_PAGE: anything else is a 400
    that names the parameter, before a view turns it into an OFFSET the database cannot take (ASVS 5.1.3)."""
    from flask_babel import gettext as _

    from portal.errors import DomainError

    for name in PAGE_PARAMS:
        for value in request.args.getlist(name):
            if not (value.isascii() and value.isdigit() and len(value) <= 6 and 1 <= int(value) <= MAX_PAGE):
                raise DomainError(_("%(name)s must be a whole number from 1 to %(max)d.", name=name,
                                    max=MAX_PAGE), field=name)
