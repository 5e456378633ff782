"""GET /api/v1/enterprises/<uscc>/credit (grade, ledger with public evidence details, history) and the black and
white lists GET /api/v1/lists/black|white."""
from __future__ import annotations

from flask import Blueprint, jsonify

from portal.api.lookup import enterprise_by_uscc
from portal.credit import lists, services
from portal.credit.models import ListKind
from portal.credit.views import english
from portal.extensions import csrf

bp = Blueprint("credit_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/enterprises/<uscc>/credit")
def enterprise_credit(uscc: str):
    ent = enterprise_by_uscc(uscc)
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
