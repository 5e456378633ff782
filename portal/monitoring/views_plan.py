"""Monitoring plan pages: the enterprise edits a draft and submits it; a regulator of the jurisdiction confirms
or returns it. Routes live on the monitoring blueprint."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.auth.permissions import Permission, require
from portal.auth.rules import in_jurisdiction
from portal.core.forms import apply_domain_error
from portal.enterprises.models import Enterprise
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.monitoring import forms, missing, plan
from portal.monitoring.models import MonitoringPlan, MonitoringPlanItem
from portal.monitoring.views import bp
from portal.reference.models import Pollutant


def _own_enterprise() -> Enterprise:
    if current_user.enterprise_id is None:
        abort(403)
    return db.get_or_404(Enterprise, current_user.enterprise_id)


def _item_form(ent: Enterprise, item: MonitoringPlanItem | None = None, formdata=None) -> forms.PlanItemForm:
    form = forms.PlanItemForm(formdata=formdata) if formdata is not None else forms.PlanItemForm(obj=item)
    form.outlet_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(o.id), f"{o.code} {o.name}")
                                                        for o in ent.outlets]
    media = {o.medium for o in ent.outlets}
    pollutants = db.session.scalars(sa.select(Pollutant).order_by(Pollutant.code)).all()
    form.pollutant_code.choices = [SelectChoice("", "—")] + [
        SelectChoice(p.code, f"{p.code} {p.name}") for p in pollutants
        if p.medium not in ("water", "gas") or p.medium in media]
    if item is not None and formdata is None:
        form.item_id.data = str(item.id)
        form.outlet_id.data = str(item.outlet_id)
        for name in ("limit_value", "limit_min", "limit_max", "reference_o2"):
            value = getattr(item, name)
            getattr(form, name).data = "" if value is None else f"{value.normalize():f}"
    return form


def _plan_page(ent: Enterprise, form=None, status: int = 200):
    draft = plan.open_plan(ent.id)
    return render_template("monitoring/plan_edit.html", ent=ent, draft=draft,
                           confirmed=plan.confirmed_plan(ent.id), form=form or _item_form(ent),
                           action_form=forms.CloseForm(), history=plan.plans_of(ent.id),
                           findings=missing.findings_for(ent.id)), status


@bp.get("/monitoring/my/plan")
@require(Permission.MONITORING_SUBMIT)
def my_plan():
    ent = _own_enterprise()
    draft = plan.open_plan(ent.id)
    edit = request.args.get("edit", "")
    item = None
    if draft is not None and edit.isdigit():
        item = db.session.get(MonitoringPlanItem, int(edit))
        if item is None or item.plan_id != draft.id:
            item = None
    return _plan_page(ent, _item_form(ent, item))


@bp.post("/monitoring/my/plan/start")
@require(Permission.MONITORING_SUBMIT)
def start_plan():
    ent = _own_enterprise()
    if forms.CloseForm().validate_on_submit():
        try:
            plan.start_draft(current_user, ent)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("A new version of the plan was started from the current one. Edit it, then submit it."),
                  "success")
    return redirect(url_for(".my_plan"))


def _draft_or_redirect(ent: Enterprise) -> MonitoringPlan | None:
    draft = plan.open_plan(ent.id)
    if draft is None:
        flash(_("Start a new version of the plan first."), "error")
    return draft


@bp.post("/monitoring/my/plan/items")
@require(Permission.MONITORING_SUBMIT)
def save_plan_item():
    ent = _own_enterprise()
    draft = _draft_or_redirect(ent)
    if draft is None:
        return redirect(url_for(".my_plan"))
    form = _item_form(ent, formdata=request.form)
    if form.validate_on_submit():
        item = None
        if (form.item_id.data or "").isdigit():
            item = db.session.get(MonitoringPlanItem, int(form.item_id.data))
            if item is None or item.plan_id != draft.id:
                abort(404)
        try:
            plan.save_item(current_user, draft, form.data, item)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The plan line was saved."), "success")
            return redirect(url_for(".my_plan") + "#plan-items")
    return _plan_page(ent, form, 400)


@bp.post("/monitoring/my/plan/items/<int:item_id>/delete")
@require(Permission.MONITORING_SUBMIT)
def delete_plan_item(item_id: int):
    ent = _own_enterprise()
    item = db.get_or_404(MonitoringPlanItem, item_id)
    if item.plan.enterprise_id != ent.id:
        abort(404)
    if forms.CloseForm().validate_on_submit():
        try:
            plan.remove_item(current_user, item.plan, item)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The plan line was removed."), "success")
    return redirect(url_for(".my_plan") + "#plan-items")


@bp.post("/monitoring/my/plan/submit")
@require(Permission.MONITORING_SUBMIT)
def submit_plan():
    ent = _own_enterprise()
    draft = _draft_or_redirect(ent)
    if draft is not None and forms.CloseForm().validate_on_submit():
        try:
            plan.submit(current_user, draft)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The plan was submitted to the regulator for confirmation."), "success")
    return redirect(url_for(".my_plan"))


# --- regulator ----------------------------------------------------------------------------------------------------

@bp.get("/monitoring/plans")
@require(Permission.MONITORING_SUPERVISE)
def plans():
    return render_template("monitoring/plans.html", plans=plan.submitted_plans(current_user.jurisdiction_code),
                           findings=missing.jurisdiction_findings(current_user.jurisdiction_code or "\x00"))


def _regulator_plan(plan_id: int) -> MonitoringPlan:
    item = db.get_or_404(MonitoringPlan, plan_id)
    if not in_jurisdiction(current_user.jurisdiction_code, item.enterprise.region_code):
        abort(404)
    return item


@bp.get("/monitoring/plans/<int:plan_id>")
@require(Permission.MONITORING_SUPERVISE)
def plan_review(plan_id: int):
    item = _regulator_plan(plan_id)
    return render_template("monitoring/plan_review.html", plan=item, form=forms.ReviewForm(),
                           current=plan.confirmed_plan(item.enterprise_id))


@bp.post("/monitoring/plans/<int:plan_id>/confirm")
@require(Permission.MONITORING_SUPERVISE)
def confirm_plan(plan_id: int):
    return _decide(plan_id, "confirm")


@bp.post("/monitoring/plans/<int:plan_id>/return")
@require(Permission.MONITORING_SUPERVISE)
def return_plan(plan_id: int):
    return _decide(plan_id, "return")


def _decide(plan_id: int, decision: str):
    item = _regulator_plan(plan_id)
    form = forms.ReviewForm()
    if form.validate_on_submit():
        try:
            if decision == "confirm":
                plan.confirm(current_user, item, form.note.data or "")
            else:
                plan.return_plan(current_user, item, form.note.data or "")
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            return render_template("monitoring/plan_review.html", plan=item, form=form,
                                   current=plan.confirmed_plan(item.enterprise_id)), \
                403 if isinstance(exc, NotAllowed) else 400
        db.session.commit()
        flash(_("The plan is confirmed and published.") if decision == "confirm"
              else _("The plan was returned to the enterprise."), "success")
    return redirect(url_for(".plan_review", plan_id=item.id))
