"""Monitoring pages: regulator devices and incidents, the enterprise's incidents and manual results, public CSV."""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from portal.core import csvsafe
from portal.auth.permissions import Permission, require
from portal.auth.rules import can_edit_registry, in_jurisdiction
from portal.core.forms import apply_domain_error
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.monitoring import (conditions, devicepage, forms, importers, imports, lab_reports, manual, plan, queries,
                               services, unknown_senders)
from portal.monitoring.manual import upload_store
from portal.monitoring.models import ExceedanceIncident, IncidentState

bp = Blueprint("monitoring", __name__)
DEVICES_PER_PAGE = 50  # also the regulator's incident list

# The navigation labels this package adds to portal/core/navigation.py, listed here so this catalog translates them.
NAV_LABELS = (_l("Monitoring results"), _l("Exceedances"), _l("Exceedance incidents"), _l("Monitoring devices"),
              _l("Monitoring plan"), _l("Monitoring plans"))


@bp.app_template_global("monitoring_section")
def monitoring_section(ent: Enterprise) -> dict:
    """Data for the public enterprise page: the chosen range's series per monitored outlet/pollutant and the
    API/CSV links. Bad range parameters fall back to the default range with a message."""
    args = {k[2:]: v for k, v in request.args.items() if k in ("m_resolution", "m_from", "m_to")}
    error = ""
    span = queries.data_span(ent.id)
    latest = span[1] if span else None
    # Unasked, the range ends on the latest day with data (not today) and starts no earlier than the first, so the
    # charts open on data when there is any.
    defaulted = not args.get("from") and not args.get("to")
    if defaulted and span is not None:
        days = queries.DEFAULT_SPAN_DAYS.get(args.get("resolution") or "day", queries.DEFAULT_SPAN_DAYS["day"])
        args["to"] = span[1].isoformat()
        args["from"] = max(span[0], span[1] - timedelta(days=days)).isoformat()
    try:
        query = queries.parse_query(args)
    except DomainError as exc:
        error, query = f"{exc.field}: {exc.message}", queries.parse_query({})
    pairs = queries.monitored_pairs(ent, use_loaded=True)
    params = {"resolution": query.resolution, "from": query.start.isoformat(), "to": query.end.isoformat()}
    series = queries.series(ent, query, pairs) if pairs else []
    return {"pairs": pairs, "series": series, "query": query, "error": error, "latest": latest,
            "defaulted": defaulted, "empty": not any(s["points"] for s in series),
            "plan": plan.confirmed_plan(ent.id), "lab_reports": lab_reports.public_reports(ent.id),
            "api_url": url_for("monitoring_api.enterprise_monitoring", uscc=ent.uscc),
            "csv_url": url_for("monitoring.enterprise_csv", uscc=ent.uscc, **params)}


@bp.app_template_filter("monitoring_table_rows")
def monitoring_table_rows(points: list[dict], yes: str, no: str) -> Markup:
    """The table view's rows, built here rather than cell by cell in Jinja: a 90-day page holds ~1,200 rows, and
    rendering them in the template was most of the page's time. Every cell is a number or a period string the
    portal formatted; the two labels are escaped."""
    yes, no = escape(yes), escape(no)
    out = []
    append = out.append
    for p in points:
        mean, low, high, exceeds = p["mean"], p["min"], p["max"], p["exceeds"]
        append(f"{_EXCEEDS_ROW if exceeds else '<tr>'}<td>{_period_cell(p['period'])}</td>"
               f"<td>{'—' if mean is None else mean}</td><td>{'—' if low is None else low}</td>"
               f"<td>{'—' if high is None else high}</td><td>{p['valid']} / {p['total']}</td>"
               f"<td>{yes if exceeds else no}</td></tr>")
    return Markup("\n".join(out))


_EXCEEDS_ROW = '<tr class="exceeds">'


@functools.lru_cache(maxsize=4096)
def _period_cell(period: str) -> str:
    """'2025-01-02 08:00' of an ISO period start; cached, as every series of a page repeats the same periods."""
    period = str(escape(period))  # an ISO string, escaped anyway; slicing a Markup is slow
    return f"{period[:10]} {period[11:16]}"


# --- regulator ----------------------------------------------------------------------------------------------------

@bp.route("/monitoring/devices", methods=["GET", "POST"])
@require(Permission.MONITORING_SUPERVISE)
def devices():
    form = forms.DeviceForm()
    if request.method == "GET" and request.args.get("mn"):  # "register this MN" from the unknown-devices list
        form.mn.data = request.args["mn"][:24]
    if form.validate_on_submit():
        try:
            device = services.add_device_as_regulator(current_user, mn=form.mn.data, password=form.password.data,
                                                      uscc=form.uscc.data, outlet_code=form.outlet.data,
                                                      protocol=form.protocol.data, sm4_key=form.sm4_key.data)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            if device.protocol == "2025":  # the SM4 key is shown once, in this no-store response, never flashed
                return views_devices.private(render_template(
                    "monitoring/device.html", regulator=True, new_key=device.new_sm4_key,
                    key_form=forms.RotateKeyForm(), **devicepage.context(device)))
            flash(_("Device %(mn)s registered.", mn=device.mn), "success")
            return redirect(url_for(".device", device_id=device.id))
    status = 400 if form.errors else 200
    pagination = db.paginate(services.jurisdiction_devices_select(current_user.jurisdiction_code),
                             page=request.args.get("page", 1, type=int), per_page=DEVICES_PER_PAGE, error_out=False)
    pages = {"prev_url": url_for(".devices", page=pagination.prev_num) if pagination.has_prev else None,
             "next_url": url_for(".devices", page=pagination.next_num) if pagination.has_next else None}
    return views_devices.private(render_template("monitoring/devices.html", form=form, where=devicepage.endpoints(),
                                                 may_view_unknown=unknown_senders.may_view(current_user),
                                                 devices=pagination.items, pagination=pagination, **pages), status)


@bp.get("/monitoring/incidents")
@require(Permission.MONITORING_SUPERVISE)
def incidents():
    """The jurisdiction's open and explained incidents, or one state (?state=open|explained), paged."""
    jurisdiction = current_user.jurisdiction_code or "\x00"
    state = request.args.get("state", "")
    states = ((IncidentState(state),) if state in ("open", "explained")
              else (IncidentState.OPEN, IncidentState.EXPLAINED))
    pagination = db.paginate(services.incidents_select(jurisdiction=jurisdiction, states=states),
                             page=request.args.get("page", 1, type=int), per_page=DEVICES_PER_PAGE, error_out=False)
    pager = {"prev_url": url_for(".incidents", state=state or None, page=pagination.prev_num) if pagination.has_prev
             else None, "next_url": url_for(".incidents", state=state or None, page=pagination.next_num)
             if pagination.has_next else None}
    return render_template("monitoring/incidents.html", incidents=pagination.items, pagination=pagination,
                           state=state, findings=services.recent_findings(jurisdiction), regulator=True, **pager)


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
            apply_domain_error(form, exc)
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
    writer = csvsafe.writer(out)
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


@bp.app_context_processor
def _plan_labels():
    """App-wide: the public enterprise page (another blueprint) shows the confirmed plan."""
    return {"PL": {
        "mode": {"auto": _l("automatic (online)"), "manual": _l("manual (laboratory)")},
        "frequency": {"continuous": _l("continuous"), "daily": _l("daily"), "weekly": _l("weekly"),
                      "monthly": _l("monthly"), "quarterly": _l("quarterly"), "half_yearly": _l("half-yearly"),
                      "yearly": _l("yearly")},
        "averaging": {"hourly": _l("hourly mean"), "daily": _l("daily mean"), "instant": _l("instantaneous value")},
        "status": {"draft": _l("draft"), "submitted": _l("submitted"), "returned": _l("returned"),
                   "confirmed": _l("confirmed"), "superseded": _l("superseded")},
    }}


# --- manual results (enterprise) ----------------------------------------------------------------------------------

def _own_enterprise() -> Enterprise:
    if current_user.enterprise_id is None:
        abort(403)
    return db.get_or_404(Enterprise, current_user.enterprise_id)


def _result_choices(ent: Enterprise) -> list[tuple[str, str]]:
    return [(f"{o.code}|{lim.pollutant_code}", f"{o.code} {o.name} · {lim.pollutant.name if lim.pollutant else ''} "
             f"({lim.pollutant_code})") for o, lim in queries.monitored_pairs(ent)]


def _results_page(ent: Enterprise, form, upload_form, status: int = 200, impact=None, preview_of: str = ""):
    submissions = manual.recent_submissions(ent.id)
    return render_template("monitoring/results.html", ent=ent, form=form, upload_form=upload_form,
                           sample_conditions=conditions.for_submissions([s.id for s in submissions]),
                           facility_labels=conditions.FACILITY_LABELS,
                           submissions=submissions, report_form=forms.LabReportForm(), impact=impact,
                           preview_of=preview_of,
                           reports=lab_reports.reports_by_submission([s.id for s in submissions])), status


def _row_digest(row: importers.ManualRow) -> str:
    """Names the exact values a preview was shown for: publishing needs the same values confirmed."""
    text = "|".join(str(v) for v in (row.outlet, row.pollutant, row.sampled_at.isoformat(), repr(row.value),
                                     row.completed_on.isoformat(), row.lab, row.method, row.production_load,
                                     row.facility_status))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@bp.route("/monitoring/my/results", methods=["GET", "POST"])
@require(Permission.MONITORING_SUBMIT)
def my_results():
    ent = _own_enterprise()
    form = forms.ManualResultForm()
    form.outlet.choices = _result_choices(ent)
    valid = form.validate_on_submit()
    if valid:
        load, problem = conditions.parse_load(form.production_load.data)
        if problem:
            form.production_load.errors = [*form.production_load.errors, problem]
            valid = False
    if valid:
        outlet, _sep, pollutant = form.outlet.data.partition("|")
        row = importers.ManualRow(line=0, outlet=outlet, pollutant=pollutant, sampled_at=form.sampled_at.data,
                                  value=float(form.value.data), completed_on=form.completed_on.data,
                                  lab=form.lab_name.data or "", method=form.method.data or "",
                                  production_load=load, facility_status=form.facility_status.data)
        digest = _row_digest(row)
        try:
            if request.form.get("preview_of") != digest:  # first show what publishing it will create
                impact = manual.preview_one(ent, row)
                return _results_page(ent, form, forms.UploadForm(), impact=impact, preview_of=digest)
            result = manual.submit_one(current_user, ent, row)
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, ValidationFailed):
                exc = ValidationFailed({{"pollutant": "outlet", "lab": "lab_name"}.get(k, k): v
                                        for k, v in exc.errors.items()})
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            _flash_commit(result)
            return redirect(url_for(".my_results"))
    return _results_page(ent, form, forms.UploadForm(), 400 if form.errors else 200)


def _flash_commit(result: manual.CommitResult) -> None:
    flash(_("%(n)d results published, %(d)d already on record.", n=result.inserted, d=result.duplicates), "success")
    if any(s.is_late for s in result.submissions):
        flash(_("Published after the deadline of 5 working days after completion: this is recorded as late "
                "publication."), "warning")
    if result.incidents:
        flash(_("%(n)d exceedances were found; explain them under Exceedances.", n=result.incidents), "warning")


@bp.post("/monitoring/my/results/upload")
@require(Permission.MONITORING_SUBMIT)
def upload_results():
    ent = _own_enterprise()
    upload_form = forms.UploadForm()
    form = forms.ManualResultForm(formdata=None)
    form.outlet.choices = _result_choices(ent)
    if not upload_form.validate_on_submit() or not upload_form.file.data:
        if not upload_form.file.errors:
            upload_form.file.errors = [_("Choose a CSV or XLSX file.")]
        return _results_page(ent, form, upload_form, 400)
    token = secrets.token_urlsafe(16)
    store = upload_store()  # shared storage: a worker on any host reads the file of a background import
    store.put(token, upload_form.file.data.stream)
    if (store.size(token) or 0) > imports.inline_limit():
        # A large file is checked and written in the background; the user follows its progress.
        job = imports.queue(current_user, ent, token, upload_form.file.data.filename or "")
        db.session.commit()
        imports.start_worker(current_app._get_current_object())
        return redirect(url_for(".import_page", import_id=job.id))
    try:
        with store.as_local_file(token) as path:
            check = manual.check_upload(ent, path)
    except importers.ImportFailed as exc:
        store.delete(token)
        upload_form.file.errors = [str(exc)]
        return _results_page(ent, form, upload_form, 400)
    filename = upload_form.file.data.filename or ""
    if check.error_count:
        store.delete(token)
    else:
        session["monitoring_upload"] = {"token": token, "enterprise_id": ent.id, "filename": filename[:200]}
    return render_template("monitoring/preview.html", ent=ent, check=check, filename=filename,
                           commit_form=forms.CommitForm(token=token)), 400 if check.error_count else 200


@bp.post("/monitoring/my/results/commit")
@require(Permission.MONITORING_SUBMIT)
def commit_results():
    ent = _own_enterprise()
    form = forms.CommitForm()
    pending = session.get("monitoring_upload") or {}
    if (not form.validate_on_submit() or pending.get("token") != form.token.data
            or pending.get("enterprise_id") != ent.id):
        flash(_("This upload is no longer waiting; upload the file again."), "error")
        return redirect(url_for(".my_results"))
    store = upload_store()
    if not store.exists(pending["token"]):
        session.pop("monitoring_upload", None)
        flash(_("This upload is no longer waiting; upload the file again."), "error")
        return redirect(url_for(".my_results"))
    try:
        with store.as_local_file(pending["token"]) as path:
            if path is None:
                raise importers.ImportFailed(_("This upload is no longer waiting; upload the file again."))
            result = manual.commit_upload(current_user, ent, path, pending["filename"])
    except (DomainError, importers.ImportFailed) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        _flash_commit(result)
    store.delete(pending["token"])
    session.pop("monitoring_upload", None)
    return redirect(url_for(".my_results"))


@bp.get("/monitoring/my/results/template.csv")
@require(Permission.MONITORING_SUBMIT)
def results_template():
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(importers.TEMPLATE_HEADER)
    writer.writerow(importers.TEMPLATE_EXAMPLE)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=manual-results-template.csv"})


# Routes in sibling modules register on this blueprint when the blueprint module is imported.
from portal.monitoring import views_devices, views_files, views_imports, views_plan  # noqa: E402,F401
