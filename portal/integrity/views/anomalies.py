"""Transmission-anomaly reports (监测条例 Art. 23): the enterprise's form and list (/my/integrity/anomalies) and the
regulators' view of the jurisdiction (/regulator/integrity/anomalies). Both prefixes are served no-store."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.forms import apply_domain_error
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.integrity import anomalies, forms
from portal.integrity.anomaly_rules import AnomalyState
from portal.integrity.views import bp


def _enterprise_id() -> int:
    if current_user.enterprise_id is None:
        abort(403)
    return current_user.enterprise_id


def _my_page(status: int = 200, report_form=None, repair_forms=None):
    ent_id = _enterprise_id()
    devices = anomalies.enterprise_devices(ent_id)
    form = report_form or forms.AnomalyReportForm(prefix="r", formdata=None)
    form.device_id.choices = [(d.id, f"{d.mn} ({d.outlet.code if d.outlet else ''})") for d in devices]
    items = anomalies.for_enterprise(ent_id)
    repair_forms = repair_forms or {}
    return render_template("integrity/anomalies.html", regulator=False, items=items, form=form, devices=devices,
                           repair_forms={i.id: repair_forms.get(i.id) or forms.AnomalyRepairForm(
                               prefix=f"p{i.id}", formdata=None) for i in items},
                           timeliness={i.id: anomalies.timeliness(i) for i in items},
                           causes=forms.CAUSE_LABELS, states=forms.ANOMALY_STATE_LABELS,
                           hours=anomalies.report_hours(), days=anomalies.repair_days()), status


@bp.get("/my/integrity/anomalies")
@require(Permission.MONITORING_SUBMIT)
def my_anomalies():
    return _my_page()


@bp.post("/my/integrity/anomalies")
@require(Permission.MONITORING_SUBMIT)
def report_anomaly():
    ent_id = _enterprise_id()
    form = forms.AnomalyReportForm(prefix="r")
    form.device_id.choices = [(d.id, d.mn) for d in anomalies.enterprise_devices(ent_id)]
    if not form.validate_on_submit():
        return _my_page(400, report_form=form)
    try:
        anomalies.file_report(current_user, ent_id, device_id=form.device_id.data, noticed_at=form.noticed_at.data,
                              cause=form.cause.data, description=form.description.data,
                              manual_substitute=form.manual_substitute.data)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _my_page(400, report_form=form)
    db.session.commit()
    flash(_("The anomaly is reported to the bureau. Record the repair here once the equipment works again."),
          "success")
    return redirect(url_for(".my_anomalies"))


@bp.post("/my/integrity/anomalies/<int:anomaly_id>/repair")
@require(Permission.MONITORING_SUBMIT)
def repair_anomaly(anomaly_id: int):
    try:
        report = anomalies.get_for_enterprise(current_user, anomaly_id)
    except NotFound:
        abort(404)
    form = forms.AnomalyRepairForm(prefix=f"p{anomaly_id}")
    if not form.validate_on_submit():
        return _my_page(400, repair_forms={anomaly_id: form})
    try:
        anomalies.record_repair(report, current_user, repaired_at=form.repaired_at.data, note=form.note.data)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _my_page(400, repair_forms={anomaly_id: form})
    db.session.commit()
    flash(_("The repair is recorded."), "success")
    return redirect(url_for(".my_anomalies"))


def _regulator_page(status: int = 200, close_forms=None):
    raw = request.args.get("state", "")
    state = AnomalyState(raw) if raw in {s.value for s in AnomalyState} else None
    items = anomalies.for_regulator(current_user, state)
    close_forms = close_forms or {}
    return render_template("integrity/anomalies.html", regulator=True, items=items, state=raw if state else "",
                           close_forms={i.id: close_forms.get(i.id) or forms.AnomalyCloseForm(
                               prefix=f"c{i.id}", formdata=None) for i in items},
                           timeliness={i.id: anomalies.timeliness(i) for i in items},
                           causes=forms.CAUSE_LABELS, states=forms.ANOMALY_STATE_LABELS,
                           hours=anomalies.report_hours(), days=anomalies.repair_days()), status


@bp.get("/regulator/integrity/anomalies")
@require(Permission.MONITORING_SUPERVISE)
def anomaly_queue():
    return _regulator_page()


@bp.post("/regulator/integrity/anomalies/<int:anomaly_id>/close")
@require(Permission.MONITORING_SUPERVISE)
def close_anomaly(anomaly_id: int):
    try:
        report = anomalies.get_for_regulator(current_user, anomaly_id)
    except NotFound:
        abort(404)
    form = forms.AnomalyCloseForm(prefix=f"c{anomaly_id}")
    if not form.validate_on_submit():
        return _regulator_page(400, close_forms={anomaly_id: form})
    try:
        anomalies.close(report, current_user, note=form.note.data)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _regulator_page(400, close_forms={anomaly_id: form})
    db.session.commit()
    flash(_("The anomaly report is closed."), "success")
    return redirect(url_for(".anomaly_queue"))
