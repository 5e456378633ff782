"""Monitoring JSON API: HJ 212 packet intake for data loggers and the public per-enterprise series."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from portal.api.lookup import enterprise_by_uscc
from portal.core.transactions import commit_retrying
from portal.errors import DomainError, json_error
from portal.extensions import csrf, limiter
from portal.monitoring import queries, services

bp = Blueprint("monitoring_api", __name__, url_prefix="/api/v1")


def _hj212_limit() -> str:
    return current_app.config.get("MONITORING_HJ212_RATE_LIMIT", "600 per minute")


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    if exc.field:
        return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name=exc.field,
                                                 message=exc.message), 400)
    return json_error(exc.code, exc.message, exc.status)


@bp.post("/monitoring/hj212")
@csrf.exempt
@limiter.limit(_hj212_limit)
def hj212():
    """One HJ 212 packet per line; each line gets its own result (devices authenticate by MN and PW)."""
    body = request.get_data(cache=False)
    if not body.strip():
        return json_error("invalid_parameter", _("The request body must hold one HJ 212 packet per line."), 400)
    max_lines = current_app.config.get("MONITORING_HJ212_MAX_LINES", 10000)
    if body.count(b"\n") > max_lines:
        return json_error("invalid_parameter", _("Send at most %(n)d packets per request.", n=max_lines), 400)
    results = commit_retrying(lambda: services.ingest_hj212(body), what="HJ 212 request")
    accepted = sum(1 for r in results if r["result"] == "accepted")
    return jsonify({"results": results, "meta": {"packets": len(results), "accepted": accepted}})


@bp.get("/enterprises/<uscc>/monitoring")
def enterprise_monitoring(uscc: str):
    """The enterprise's own self-monitoring data per outlet and pollutant, from the hour/day/month roll-ups."""
    ent = enterprise_by_uscc(uscc)
    unknown = sorted(set(request.args) - {"outlet", "pollutant", "from", "to", "resolution", "lang"})
    if unknown:
        return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name=unknown[0],
                                                 message=_("unknown parameter.")), 400)
    query = queries.parse_query(request.args)
    data = queries.series(ent, query)
    return jsonify({"data": data, "meta": {"uscc": ent.uscc, "from": query.start.isoformat(),
                                           "to": query.end.isoformat(), "resolution": query.resolution,
                                           "label": _("The enterprise's own self-monitoring data.")}})
