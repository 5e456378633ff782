"""Shared look-ups for every /api/v1 blueprint."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import DomainError, NotFound
from portal.extensions import db


class InvalidParameter(DomainError):
    code = "invalid_parameter"
    status = 400


def enterprise_by_uscc(raw: str) -> Enterprise:
    """The enterprise a URL's credit code names: 400 for a malformed code or wrong check character (the message says
    which), 404 for an unknown one (PRODUCT §3). Errors become JSON through the app's DomainError handler."""
    check = check_uscc(raw)
    if check.error:
        raise InvalidParameter(_("Parameter “%(name)s”: %(message)s", name="uscc", message=check.error))
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
    if ent is None:
        raise NotFound(_("No enterprise has the credit code %(uscc)s.", uscc=check.value))
    return ent
