"""GET /api/v1/enterprises/<uscc>/credit (grade, ledger with public evidence details, history) and the black and
white lists GET /api/v1/lists/black|white."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask_babel import gettext as _

from portal.credit import lists, services
from portal.credit.models import ListKind
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


def _list_json(kind: ListKind):
    return jsonify({"data": [{"uscc": e.enterprise.uscc, "name": e.enterprise.name, "reason": e.reason,
                              "decision": e.decision_note, "listed_on": e.listed_on.isoformat(),
                              "removable_from": e.min_until.isoformat() if e.min_until else None,
                              "expires_on": e.max_until.isoformat()} for e in lists.listed(kind)]})


@bp.get("/lists/black")
def blacklist():
    return _list_json(ListKind.BLACK)


@bp.get("/lists/white")
def whitelist():
    return _list_json(ListKind.WHITE)
