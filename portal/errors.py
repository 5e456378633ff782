"""Domain errors and HTTP error handlers.

Services raise DomainError subclasses (never abort()); views turn them into a flash or a 4xx. Under /api/ and
/open311/ every error is JSON {"error": {"code", "message"}} (PRODUCT §3), never an HTML page or a 500.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule was broken; the message is already translated and names the field and the fix."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    code = "validation_failed"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


def is_api_request() -> bool:
    path = request.path
    return path.startswith("/api/") or path.startswith("/open311/")


def json_error(code: str, message: str, status: int, headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_code_name(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        if is_api_request():
            return json_error(exc.code, exc.message, exc.status)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        headers = dict(exc.get_response().headers) if exc.code in (405, 429) else {}
        headers.pop("Content-Type", None)
        headers.pop("Content-Length", None)
        if is_api_request():
            message = _api_message(exc)
            return json_error(_http_code_name(exc), message, exc.code or 500, headers)
        template = f"errors/{exc.code}.html" if exc.code in (403, 404, 429) else "errors/error.html"
        return render_template(template, status=exc.code, message=_api_message(exc)), exc.code or 500, headers

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)  # every pooled connection busy for pool_timeout seconds: a load peak
    def handle_db_down(exc: Exception):
        log.error("database unavailable: %s", exc.__class__.__name__)
        message = _("The database is unavailable. Please try again in a minute.")
        if is_api_request():
            return json_error("service_unavailable", message, 503, {"Retry-After": "30"})
        return render_template("errors/error.html", status=503, message=message), 503, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = _("Something went wrong on our side. The error was logged; please try again.")
        if is_api_request():
            return json_error("internal_error", message, 500)
        return render_template("errors/error.html", status=500, message=message), 500


def _api_message(exc: HTTPException) -> str:
    messages = {
        400: _("The request could not be understood. Check the parameters."),
        401: _("Please log in first."),
        403: _("You do not have permission to see or change this."),
        404: _("Nothing was found at this address."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    if exc.code == 400 and exc.description and "CSRF" in exc.description:
        return _("The form expired or was sent from elsewhere. Reload the page and submit again.")
    return messages.get(exc.code or 500, exc.description or "")
