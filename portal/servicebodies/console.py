"""Regulator console for service bodies: register, record the enterprises served, record findings and confirm
another regulator's findings (four eyes); a provincial lead replaces the scheme."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth.permissions import Permission, require
from portal.core.forms import apply_domain_error
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.reference.models import Region
from portal.servicebodies import rules, services
from portal.servicebodies.forms import BodyForm, EngagementForm, FindingForm, SchemeForm
from portal.servicebodies.models import ServiceBodyEvidence

bp = Blueprint("servicebodies_console", __name__, url_prefix="/console/service-bodies")


def _regions() -> list[SelectChoice]:
    prefix = current_user.jurisdiction_code or "\x00"
    regions = db.session.scalars(sa.select(Region).where(Region.code.startswith(prefix, autoescape=True))
                                 .order_by(Region.code))
    return [SelectChoice("", "—")] + [SelectChoice(r.code, f"{r.name} ({r.code})") for r in regions]


@bp.route("", methods=["GET", "POST"])
@require(Permission.SERVICEBODY_EDIT)
def index():
    form = BodyForm()
    form.region_code.choices = _regions()
    status = 200
    if request.method == "POST":
        try:
            body = services.register_body(current_user, uscc=form.uscc.data or "", name=form.name.data or "",
                                          kind=form.kind.data or "", region_code=form.region_code.data or "",
                                          address=form.address.data or "",
                                          qualification_no=form.qualification_no.data or "")
            db.session.commit()
            flash(_("Service body registered."), "success")
            return redirect(url_for(".detail", body_id=body.id))
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            status = exc.status
    return render_template("servicebodies/console_index.html", form=form,
                           bodies=services.jurisdiction_bodies(current_user)), status


def _body(body_id: int):
    try:
        return services.get_for_regulator(current_user, body_id)
    except NotFound:
        abort(404)


def _render(body, engagement=None, finding=None, status: int = 200):
    return render_template("servicebodies/console_detail.html", body=body, v=services.public_view(body),
                           engagement=engagement or EngagementForm(formdata=None),
                           finding=finding or FindingForm(formdata=None), rules=rules), status


@bp.get("/<int:body_id>")
@require(Permission.SERVICEBODY_EDIT)
def detail(body_id: int):
    return _render(_body(body_id))


@bp.post("/<int:body_id>/engagements")
@require(Permission.SERVICEBODY_EDIT)
def add_engagement(body_id: int):
    body = _body(body_id)
    form = EngagementForm()
    if not form.validate():
        return _render(body, engagement=form, status=400)
    try:
        services.add_engagement(current_user, body, enterprise_uscc=form.enterprise_uscc.data or "",
                                service=form.service.data or "", starts_on=form.starts_on.data,
                                ends_on=form.ends_on.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render(_body(body_id), engagement=form, status=exc.status)
    flash(_("Client recorded."), "success")
    return redirect(url_for(".detail", body_id=body_id))


@bp.post("/<int:body_id>/findings")
@require(Permission.SERVICEBODY_EVIDENCE)
def record_finding(body_id: int):
    body = _body(body_id)
    form = FindingForm()
    if not form.validate():
        return _render(body, finding=form, status=400)
    try:
        services.record_evidence(current_user, body, kind=form.kind.data or "", title=form.title.data or "",
                                 document_no=form.document_no.data or "", occurred_on=form.occurred_on.data,
                                 authority=form.authority.data or "",
                                 enterprise_uscc=form.enterprise_uscc.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render(_body(body_id), finding=form, status=exc.status)
    flash(_("Finding recorded; it counts once a second regulator confirms it."), "success")
    return redirect(url_for(".detail", body_id=body_id))


@bp.post("/<int:body_id>/findings/<int:finding_id>/confirm")
@require(Permission.SERVICEBODY_EVIDENCE)
def confirm_finding(body_id: int, finding_id: int):
    body = _body(body_id)
    evidence = db.session.get(ServiceBodyEvidence, finding_id)
    if evidence is None or evidence.body_id != body.id:
        abort(404)
    try:
        services.confirm_evidence(current_user, evidence)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render(_body(body_id), status=exc.status)
    flash(_("Finding confirmed; it now counts."), "success")
    return redirect(url_for(".detail", body_id=body_id))


@bp.route("/scheme", methods=["GET", "POST"])
@require(Permission.SERVICEBODY_SCHEME)
def scheme():
    form = SchemeForm()
    status = 200
    if request.method == "POST":
        try:
            services.save_scheme(current_user, form.rules.data or "")
            db.session.commit()
            flash(_("Scheme saved and active; grades follow at once."), "success")
            return redirect(url_for("servicebodies.scheme"))
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            status = exc.status
    else:
        form.rules.data = json.dumps(services.active_rules()[1], ensure_ascii=False, indent=2)
    return render_template("servicebodies/scheme_edit.html", form=form), status
