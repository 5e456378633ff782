"""Form helpers shared by every domain's views."""
from __future__ import annotations

from flask import flash

from portal.errors import DomainError, ValidationFailed


def apply_domain_error(form, exc: DomainError) -> None:
    """Show a service error next to the field(s) it names, or as a flash message when it names no field on the form
    (services validate the rules; forms only the shape, so the view carries the service's words back to the field)."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field: exc.message} if exc.field else {}
    placed = False
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
            placed = True
    if not placed:
        flash(exc.message, "error")
