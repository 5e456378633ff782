"""Enterprise JSON API beyond the registry record: the 12-quarter compliance grid (documented in
portal/enterprises/openapi.py, merged into /api/v1/openapi.json)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from portal.api.lookup import enterprise_by_uscc
from portal.core.clock import china_today
from portal.enterprises.compliance import grid_dict
from portal.enterprises.compliance_queries import compliance_grid
from portal.errors import DomainError, json_error
from portal.extensions import csrf
from portal.core.links import public_url

bp = Blueprint("enterprises_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return json_error(exc.code, exc.message, exc.status)


@bp.get("/enterprises/<uscc>/compliance")
def compliance(uscc: str):
    """Per quarter: exceedances, late or missing reports, penalties, substantiated complaints (ECHO style)."""
    ent = enterprise_by_uscc(uscc)
    data = {"uscc": ent.uscc, **grid_dict(compliance_grid(ent.id)),
            "links": {"self": public_url("enterprises_api.compliance", uscc=ent.uscc),
                      "html": public_url("enterprises.public", uscc=ent.uscc, _anchor="compliance")}}
    return jsonify({"data": data})


@bp.get("/enterprises/<uscc>/deadlines")
def deadlines(uscc: str):
    """The upcoming obligations of the compliance calendar (the same events as calendar.ics), each with
    `provisional` true when it was counted in working days of a year without official holiday data."""
    from portal.opendata.ical import deadlines as calendar_deadlines

    ent = enterprise_by_uscc(uscc)
    items = [d.as_dict() for d in calendar_deadlines(ent)]
    return jsonify({"data": {"uscc": ent.uscc, "as_of": china_today().isoformat(), "deadlines": items,
                             "links": {"self": public_url("enterprises_api.deadlines", uscc=ent.uscc),
                                       "ical": public_url("feeds.enterprise_ics", uscc=ent.uscc)}}})
