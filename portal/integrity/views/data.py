"""The data the rules need, per enterprise (regulators of its jurisdiction): analyser range and detection limit
per device and code, O&M company per device, supervisory results, lab sampling details; and lab CMA scopes."""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth.permissions import Permission, require
from portal.core.clock import china_tz
from portal.core.forms import apply_domain_error
from portal.enterprises.models import Enterprise
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.integrity import forms, services
from portal.integrity.models import LabScope
from portal.integrity.views import bp

import sqlalchemy as sa


def _enterprise(uscc: str) -> Enterprise:
    try:
        return services.enterprise_for_regulator(current_user, uscc)
    except NotFound:
        abort(404)


def _utc(value: datetime | None) -> datetime | None:
    """Form times are China local time."""
    return value.replace(tzinfo=china_tz()) if value is not None else None


def _forms(ent: Enterprise, **given) -> dict:
    out = {"channel_form": forms.ChannelForm(prefix="c"), "maintainer_form": forms.MaintainerForm(prefix="m"),
           "supervisory_form": forms.SupervisoryForm(prefix="s"), "lab_form": forms.LabSampleForm(prefix="l")}
    out.update(given)
    data = services.rule_data(ent)
    devices = [SelectChoice(d.id, d.mn) for d in data["devices"]]
    outlets = [SelectChoice(o.id, f"{o.code} {o.name}") for o in ent.outlets]
    out["channel_form"].device_id.choices = devices
    out["maintainer_form"].device_id.choices = devices
    out["supervisory_form"].outlet_id.choices = outlets
    out["lab_form"].outlet_id.choices = outlets
    return {**out, **data}


def _render(ent: Enterprise, status: int = 200, **given):
    return render_template("integrity/rule_data.html", ent=ent, **_forms(ent, **given)), status


@bp.get("/regulator/integrity/enterprises/<uscc>")
@require(Permission.MONITORING_SUPERVISE)
def rule_data(uscc: str):
    return _render(_enterprise(uscc))


def _save(uscc: str, name: str, form, action, done: str):
    ent = _enterprise(uscc)
    _forms(ent, **{name: form})  # fills the choices before validating
    if form.validate_on_submit():
        try:
            action(ent)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for(".rule_data", uscc=ent.uscc))
    return _render(ent, 400, **{name: form})


@bp.post("/regulator/integrity/enterprises/<uscc>/channels")
@require(Permission.MONITORING_SUPERVISE)
def save_channel(uscc: str):
    f = forms.ChannelForm(prefix="c")
    return _save(uscc, "channel_form", f, lambda ent: services.save_channel(
        current_user, ent, device_id=f.device_id.data, pollutant_code=f.pollutant_code.data,
        range_low=f.range_low.data or 0.0, range_high=f.range_high.data, detection_limit=f.detection_limit.data,
        unit=f.unit.data), _("The analyser range and detection limit are saved."))


@bp.post("/regulator/integrity/enterprises/<uscc>/maintainers")
@require(Permission.MONITORING_SUPERVISE)
def add_maintainer(uscc: str):
    f = forms.MaintainerForm(prefix="m")
    return _save(uscc, "maintainer_form", f, lambda ent: services.add_maintainer(
        current_user, ent, device_id=f.device_id.data, company_name=f.company_name.data,
        company_uscc=f.company_uscc.data, contract_from=f.contract_from.data, contract_to=f.contract_to.data),
        _("The O&M company is recorded."))


@bp.post("/regulator/integrity/enterprises/<uscc>/supervisory")
@require(Permission.MONITORING_SUPERVISE)
def add_supervisory(uscc: str):
    f = forms.SupervisoryForm(prefix="s")
    return _save(uscc, "supervisory_form", f, lambda ent: services.add_supervisory(
        current_user, ent, outlet_id=f.outlet_id.data, pollutant_code=f.pollutant_code.data,
        sampled_at=_utc(f.sampled_at.data), value=f.value.data, agency=f.agency.data, report_no=f.report_no.data),
        _("The supervisory result is recorded."))


@bp.post("/regulator/integrity/enterprises/<uscc>/lab-samples")
@require(Permission.MONITORING_SUPERVISE)
def add_lab_sample(uscc: str):
    f = forms.LabSampleForm(prefix="l")
    return _save(uscc, "lab_form", f, lambda ent: services.add_lab_sample(
        current_user, ent, outlet_id=f.outlet_id.data, pollutant_code=f.pollutant_code.data,
        lab_name=f.lab_name.data, lab_cma_no=f.lab_cma_no.data, method=f.method.data, samplers=f.samplers.data,
        sampling_start=_utc(f.sampling_start.data), sampling_end=_utc(f.sampling_end.data),
        analysed_at=_utc(f.analysed_at.data), report_no=f.report_no.data,
        report_issued_at=_utc(f.report_issued_at.data), value_text=f.value_text.data),
        _("The laboratory sampling details are recorded."))


@bp.route("/regulator/integrity/lab-scopes", methods=["GET", "POST"])
@require(Permission.MONITORING_SUPERVISE)
def lab_scopes():
    form = forms.LabScopeForm()
    if form.validate_on_submit():
        try:
            services.add_lab_scope(current_user, cma_no=form.cma_no.data, lab_name=form.lab_name.data,
                                   method=form.method.data, valid_to=form.valid_to.data)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The method is added to the laboratory's scope."), "success")
            return redirect(url_for(".lab_scopes"))
    scopes = list(db.session.scalars(sa.select(LabScope).order_by(LabScope.cma_no, LabScope.method).limit(1000)))
    return render_template("integrity/lab_scopes.html", form=form, scopes=scopes), 400 if form.errors else 200
