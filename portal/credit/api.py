"""GET /api/v1/enterprises/<uscc>/credit: an enterprise's grade, ledger (public evidence details) and history."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask_babel import gettext as _

from portal.credit import services
from portal.credit.views import english
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import json_error
from portal.extensions import csrf, db

bp = Blueprint("credit_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/enterprises/<uscc>/credit")
def enterprise_credit(uscc: str):
    check = check_uscc(uscc)
    if check.error:
        return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name="uscc",
                                                 message=check.error), 400)
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
    if ent is None:
        return json_error("not_found", _("No enterprise has the credit code %(uscc)s.", uscc=check.value), 404)
    return jsonify({"data": services.credit_json(ent, english=english())})
