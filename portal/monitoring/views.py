"""Monitoring pages: regulator devices and incidents, the enterprise's incidents and manual results, public CSV."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.auth.rules import can_edit_registry, in_jurisdiction
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.monitoring import forms, queries, services
from portal.monitoring.models import ExceedanceIncident, IncidentState

bp = Blueprint("monitoring", __name__)


def _apply_error(form, exc: DomainError) -> None:
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field: exc.message} if exc.field else {}
    placed = False
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
            placed = True
    if not placed:
        flash(exc.message, "error")


@bp.app_template_global("monitoring_section")
def monitoring_section(ent: Enterprise) -> dict:
    """Data for the public enterprise page: the chosen range's series per monitored outlet/pollutant and the
    API/CSV links. Bad range parameters fall back to the default range with a message."""
    args = {k[2:]: v for k, v in request.args.items() if k in ("m_resolution", "m_from", "m_to")}
    error = ""
    try:
        query = queries.parse_query(args)
    except DomainError as exc:
        error, query = f"{exc.field}: {exc.message}", queries.parse_query({})
    pairs = queries.monitored_pairs(ent)
    params = {"resolution": query.resolution, "from": query.start.isoformat(), "to": query.end.isoformat()}
    return {"pairs": pairs, "series": queries.series(ent, query) if pairs else [], "query": query, "error": error,
            "api_url": url_for("monitoring_api.enterprise_monitoring", uscc=ent.uscc),
            "csv_url": url_for("monitoring.enterprise_csv", uscc=ent.uscc, **params)}


# --- regulator ----------------------------------------------------------------------------------------------------

@bp.route("/monitoring/devices", methods=["GET", "POST"])
@require(Permission.MONITORING_SUPERVISE)
def devices():
    form = forms.DeviceForm()
    if form.validate_on_submit():
        try:
            device = services.add_device_as_regulator(current_user, mn=form.mn.data, password=form.password.data,
                                                      uscc=form.uscc.data, outlet_code=form.outlet.data)
        except DomainError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Device %(mn)s registered.", mn=device.mn), "success")
            return redirect(url_for(".devices"))
    status = 400 if form.errors else 200
    return render_template("monitoring/devices.html", form=form,
                           devices=services.jurisdiction_devices(current_user.jurisdiction_code)), status


@bp.get("/monitoring/incidents")
@require(Permission.MONITORING_SUPERVISE)
def incidents():
    items = services.incidents_for(jurisdiction=current_user.jurisdiction_code or "\x00")
    return render_template("monitoring/incidents.html", incidents=items, regulator=True)


def _regulator_incident(incident_id: int) -> ExceedanceIncident:
    incident = db.get_or_404(ExceedanceIncident, incident_id)
    if not in_jurisdiction(current_user.jurisdiction_code, incident.enterprise.region_code):
        abort(404)
    return incident


@bp.get("/monitoring/incidents/<int:incident_id>")
@require(Permission.MONITORING_SUPERVISE)
def incident(incident_id: int):
    item = _regulator_incident(incident_id)
    return render_template("monitoring/incident.html", incident=item, form=forms.CloseForm(), regulator=True)


@bp.post("/monitoring/incidents/<int:incident_id>/close")
@require(Permission.MONITORING_SUPERVISE)
def close_incident(incident_id: int):
    item = _regulator_incident(incident_id)
    if not can_edit_registry(current_user.role, current_user.jurisdiction_code, item.enterprise.region_code):
        abort(403)
    if forms.CloseForm().validate_on_submit():
        try:
            services.close_incident(current_user, item)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The incident is closed."), "success")
    return redirect(url_for(".incident", incident_id=item.id))


# --- enterprise ---------------------------------------------------------------------------------------------------

@bp.get("/monitoring/my/incidents")
@require(Permission.MONITORING_SUBMIT)
def my_incidents():
    if current_user.enterprise_id is None:
        abort(403)
    items = services.incidents_for(enterprise_ids=[current_user.enterprise_id],
                                   states=tuple(IncidentState))
    return render_template("monitoring/incidents.html", incidents=items, regulator=False)


@bp.route("/monitoring/my/incidents/<int:incident_id>", methods=["GET", "POST"])
@require(Permission.MONITORING_SUBMIT)
def my_incident(incident_id: int):
    item = db.get_or_404(ExceedanceIncident, incident_id)
    if current_user.enterprise_id is None or item.enterprise_id != current_user.enterprise_id:
        abort(404)
    form = forms.ExplainForm(obj=item if request.method == "GET" and item.cause else None)
    if form.validate_on_submit():
        try:
            services.explain_incident(current_user, item, cause=form.cause.data, measures=form.measures.data,
                                      reported_on=form.reported_on.data)
        except DomainError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your explanation was recorded."), "success")
            return redirect(url_for(".my_incident", incident_id=item.id))
    status = 400 if form.errors else 200
    return render_template("monitoring/incident.html", incident=item, form=form, regulator=False), status


# --- public -------------------------------------------------------------------------------------------------------

@bp.get("/enterprises/<uscc>/monitoring.csv")
def enterprise_csv(uscc: str):
    check = check_uscc(uscc)
    ent = None if check.error else db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
    if ent is None:
        abort(404)
    try:
        query = queries.parse_query(request.args)
        data = queries.series(ent, query)
    except DomainError as exc:
        abort(400, description=exc.message)
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(out)
    writer.writerow([_("Outlet"), _("Pollutant code"), _("Pollutant"), _("Unit"), _("Period start"), _("Mean"),
                     _("Minimum"), _("Maximum"), _("Valid values"), _("All values"), _("Limit"), _("Range minimum"),
                     _("Range maximum"), _("Exceeds")])
    writer.writerows(queries.csv_rows(data))
    filename = f"monitoring-{ent.uscc}-{query.resolution}-{query.start}-{query.end}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.context_processor
def _labels():
    return {"ML": {
        "basis": {"hourly_mean": _("hourly mean"), "daily_mean": _("daily mean"), "range": _("outside the range"),
                  "instant": _("instantaneous value"), "manual": _("manual sample")},
        "state": {"open": _("open"), "explained": _("explained"), "closed": _("closed")},
    }}
