"""JSON typed into a form (credit schemes, the reward table, the service-body scheme): parsed and checked, with
the line and column, or the checker's own message, reported on the form field."""
from __future__ import annotations

import json
from typing import Any, Callable

from flask_babel import gettext as _

from portal.errors import ValidationFailed


def load_json_field(text: str, field: str, check: Callable[[Any], Any] | None = None,
                    errors: tuple[type[Exception], ...] = ()) -> Any:
    """The parsed value; ValidationFailed on `field` when the text is not JSON or `check` raises one of `errors`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed({field: _("Not valid JSON at line %(line)d, column %(col)d: %(msg)s",
                                         line=exc.lineno, col=exc.colno, msg=exc.msg)}) from exc
    if check is not None:
        try:
            check(data)
        except errors as exc:
            raise ValidationFailed({field: str(exc)}) from exc
    return data
