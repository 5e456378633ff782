"""Monitoring JSON API: HJ 212 packet intake for data loggers and the public per-enterprise series."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from portal.api.lookup import enterprise_by_uscc
from portal.core.transactions import commit_retrying
from portal.errors import DomainError, json_error
from portal.extensions import csrf, limiter
from portal.monitoring import queries, services
from portal.monitoring.guard import for_app as guard_for

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
    """One HJ 212 packet per line; each line gets its own result (devices authenticate by MN and PW).

    Unknown MN and wrong password are both `unauthorised` here (the regulator's device page says which); an address
    with too many failed authentications is refused for a while (guard.py), as is one sending more lines than its
    frame budget. The response is sent after the commit: `accepted`/`partial` lines are stored."""
    address = request.remote_addr or ""
    guard = guard_for(current_app)
    if guard.blocked(address):
        return json_error("too_many_failures", _("Too many failed authentications from this address; try later."),
                          429)
    body = request.get_data(cache=False)
    if not body.strip():
        return json_error("invalid_parameter", _("The request body must hold one HJ 212 packet per line."), 400)
    max_lines = current_app.config.get("MONITORING_HJ212_MAX_LINES", 10000)
    lines = body.count(b"\n") + 1
    if lines > max_lines + 1:
        return json_error("invalid_parameter", _("Send at most %(n)d packets per request.", n=max_lines), 400)
    if guard.take(address, lines) > 0:
        return json_error("rate_limited", _("Too many packets from this address; send them more slowly."), 429)
    results = commit_retrying(lambda: services.ingest_hj212(body, address=address, channel="http"),
                              what="HJ 212 request")
    guard.failed(address, sum(1 for r in results if r["result"] == "unauthorised"))
    public = [{k: v for k, v in r.items() if k != "reason"} for r in results]
    accepted = sum(1 for r in results if r["result"] in ("accepted", "partial"))
    return jsonify({"results": public, "meta": {"packets": len(results), "accepted": accepted}})


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


@bp.get("/enterprises/<uscc>/monitoring/samples")
def enterprise_samples(uscc: str):
    """Manual (laboratory) samples with their results and the operating conditions at sampling (工况: production
    load, treatment-facility status; 生态环境监测条例 Art. 24), newest first, for at most a year of days."""
    from datetime import date, datetime, time, timedelta

    from portal.core.clock import china_today, china_tz
    from portal.monitoring import conditions

    ent = enterprise_by_uscc(uscc)
    unknown = sorted(set(request.args) - {"from", "to", "lang"})
    if unknown:
        return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name=unknown[0],
                                                 message=_("unknown parameter.")), 400)
    days = {}
    for name in ("from", "to"):
        raw = request.args.get(name) or ""
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name=name,
                                                     message=_("must be a date written YYYY-MM-DD.")), 400)
    end = days["to"] or china_today()
    start = days["from"] or end - timedelta(days=conditions.MAX_SAMPLE_DAYS - 1)
    if start > end or (end - start).days >= conditions.MAX_SAMPLE_DAYS:
        return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name="from", message=_(
            "must be on or before “to” and at most %(n)d days before it.", n=conditions.MAX_SAMPLE_DAYS - 1)), 400)
    tz = china_tz()
    items, truncated = conditions.samples(ent.id, datetime.combine(start, time(), tz),
                                          datetime.combine(end + timedelta(days=1), time(), tz))
    for item in items:
        item["sampled_at"] = item["sampled_at"].astimezone(tz).isoformat()
        item["facility_status_label"] = str(conditions.FACILITY_LABELS.get(item["facility_status"], "")) \
            if item["facility_status"] else None
    return jsonify({"data": items, "meta": {"uscc": ent.uscc, "from": start.isoformat(), "to": end.isoformat(),
                                            "truncated": truncated}})
