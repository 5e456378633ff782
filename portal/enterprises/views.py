"""Registry pages: the regulator's registry, the enterprise's own view and proposals."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.rules import jsonable
from portal.auth.permissions import Permission, require
from portal.auth.rules import can_edit_registry, can_propose_change, can_view_enterprise_private
from portal.enterprises import forms as F
from portal.enterprises import proposals, services
from portal.enterprises.models import ChangeProposal, Enterprise, Outlet, OutletLimit, Permit, ProposalStatus
from portal.errors import DomainError, InvalidTransition, ValidationFailed
from portal.extensions import db
from portal.reference.models import Pollutant, Region

bp = Blueprint("enterprises", __name__)
PROPOSALS_PER_PAGE = 20


@bp.context_processor
def _labels():
    return {"L": F.template_labels()}


@bp.app_template_filter("plain_number")
def plain_number(value) -> str:
    """Decimals without trailing zeros (100.0000 → 100, 6.50 → 6.5)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(jsonable(value))


@bp.app_template_filter("show_value")
def show_value(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return "、".join(show_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    return plain_number(value)


# --- helpers ------------------------------------------------------------------------------------------------------

def _region_choices(prefix: str | None) -> list[tuple[str, str]]:
    if not prefix:
        return []
    regions = db.session.scalars(select(Region).where(Region.code.startswith(prefix, autoescape=True))
                                 .order_by(Region.code))
    return [SelectChoice(r.code, f"{r.code} {'· ' * (r.level - 1)}{r.name}") for r in regions]


def _pollutant_choices() -> list[tuple[str, str]]:
    pollutants = db.session.scalars(select(Pollutant).order_by(Pollutant.medium, Pollutant.code))
    return [SelectChoice("", "—")] + [SelectChoice(p.code, f"{p.name} ({p.code}, {p.unit})") for p in pollutants]


def _prepare(form, ent: Enterprise, region_prefix: str | None = None):
    """Fill the choice lists a form needs for this enterprise."""
    if "region_code" in form:
        form.region_code.choices = _region_choices(region_prefix)
    if "permit_id" in form:
        form.permit_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(p.id), p.permit_no) for p in ent.permits]
    if "outlet_id" in form:
        form.outlet_id.choices = [SelectChoice(str(o.id), f"{o.code} {o.name}") for o in ent.outlets]
    if "pollutant_code" in form:
        form.pollutant_code.choices = _pollutant_choices()
    return form


def _initial(obj, fields) -> dict:
    """Current values in the shape the form shows (ISO dates, plain decimals, one former name per line)."""
    data = {f: jsonable(getattr(obj, f)) for f in fields if hasattr(obj, f)}
    for key, value in data.items():
        if isinstance(value, list):
            data[key] = "\n".join(value)
        elif value is None:
            data[key] = ""
        elif not isinstance(value, bool):
            data[key] = plain_number(getattr(obj, key))
    return data


def _show_errors(form, exc: ValidationFailed) -> None:
    for name, message in exc.errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            flash(f"{F.FIELD_LABELS.get(name, name)}: {message}", "error")


def _save(form, call) -> bool:
    """Run one service call and commit; on broken rules or a concurrent duplicate, roll back and show why."""
    try:
        call()
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        _show_errors(form, exc)
        return False
    except IntegrityError:
        db.session.rollback()
        flash(_("The same record was just saved by another request; reload the page and check."), "error")
        return False
    return True


def _regulated(ent: Enterprise) -> Enterprise:
    if not can_edit_registry(current_user.role, current_user.jurisdiction_code, ent.region_code):
        abort(404)
    return ent


def _enterprise_for_regulator(enterprise_id: int) -> Enterprise:
    return _regulated(db.get_or_404(Enterprise, enterprise_id))


def _form_page(form, title: str, back: str, submit: str, status: int = 200, **extra):
    return render_template("enterprises/form_page.html", form=form, title=title, back_url=back,
                           submit_label=submit, **extra), status


# --- regulator registry -------------------------------------------------------------------------------------------

@bp.get("/regulator/enterprises")
@require(Permission.REGISTRY_VIEW_JURISDICTION)
def regulator_index():
    form = F.FilterForm(request.args)
    form.region.choices = [SelectChoice("", _("All regions"))] + _region_choices(current_user.jurisdiction_code)
    q = (form.q.data or "").strip() if form.validate() else ""
    region = form.region.data or ""
    if region and not region.startswith(current_user.jurisdiction_code or "\x00"):
        region = ""
    page = db.paginate(services.jurisdiction_query(current_user.jurisdiction_code, q, region),
                       per_page=current_app.config.get("SEARCH_PER_PAGE", 20), error_out=False)
    return render_template("enterprises/regulator_index.html", form=form, page=page, q=q, region=region)


@bp.route("/regulator/enterprises/new", methods=["GET", "POST"])
@require(Permission.REGISTRY_EDIT)
def create():
    form = F.EnterpriseForm()
    form.region_code.choices = _region_choices(current_user.jurisdiction_code)
    back = url_for(".regulator_index")
    created: list[Enterprise] = []
    if form.validate_on_submit() and _save(
            form, lambda: created.append(services.create_enterprise(current_user, F.form_values(form)))):
        ent = created[0]
        flash(_("Enterprise %(name)s was registered.", name=ent.name), "success")
        return redirect(url_for(".regulator_detail", enterprise_id=ent.id))
    status = 400 if form.errors else 200
    return _form_page(form, _("Register an enterprise"), back, _("Register"), status)


@bp.get("/regulator/enterprises/<int:enterprise_id>")
@require(Permission.REGISTRY_VIEW_JURISDICTION)
def regulator_detail(enterprise_id: int):
    ent = _enterprise_for_regulator(enterprise_id)
    return _detail(ent)


def _detail(ent: Enterprise, status: int = 200, **bound):
    forms = {"permit_form": F.PermitForm(prefix="permit", formdata=None),
             "outlet_form": F.OutletForm(prefix="outlet", formdata=None),
             "limit_form": F.LimitForm(prefix="limit", formdata=None),
             "key_form": F.KeyUnitForm(prefix="keys", formdata=None, data={"year": str(services.china_today().year)})}
    forms.update(bound)
    for form in forms.values():
        _prepare(form, ent)
    return render_template("enterprises/regulator_detail.html", ent=ent, p=services.public_profile(ent),
                           delete_form=F.ConfirmForm(), **forms), status


def _add(enterprise_id: int, key: str, form_cls, prefix: str, call):
    ent = _enterprise_for_regulator(enterprise_id)
    form = _prepare(form_cls(prefix=prefix), ent)
    if form.validate_on_submit() and _save(form, lambda: call(ent, form)):
        flash(_("Saved."), "success")
        return redirect(url_for(".regulator_detail", enterprise_id=ent.id) + f"#{prefix}")
    return _detail(db.session.get(Enterprise, enterprise_id), 400, **{key: form})


@bp.post("/regulator/enterprises/<int:enterprise_id>/permits")
@require(Permission.REGISTRY_EDIT)
def add_permit(enterprise_id: int):
    return _add(enterprise_id, "permit_form", F.PermitForm, "permit",
                lambda ent, form: services.create_permit(current_user, ent, F.form_values(form)))


@bp.post("/regulator/enterprises/<int:enterprise_id>/outlets")
@require(Permission.REGISTRY_EDIT)
def add_outlet(enterprise_id: int):
    return _add(enterprise_id, "outlet_form", F.OutletForm, "outlet",
                lambda ent, form: services.create_outlet(current_user, ent, F.form_values(form)))


def _create_limit(ent: Enterprise, form) -> None:
    outlet = db.session.get(Outlet, int(form.outlet_id.data)) if (form.outlet_id.data or "").isdigit() else None
    if outlet is None or outlet.enterprise_id != ent.id:
        raise ValidationFailed({"outlet_id": _("Choose one of this enterprise's outlets.")})
    services.create_limit(current_user, outlet, F.form_values(form, ("csrf_token", "outlet_id")))


@bp.post("/regulator/enterprises/<int:enterprise_id>/limits")
@require(Permission.REGISTRY_EDIT)
def add_limit(enterprise_id: int):
    return _add(enterprise_id, "limit_form", F.LimitForm, "limit", _create_limit)


@bp.post("/regulator/enterprises/<int:enterprise_id>/key-units")
@require(Permission.REGISTRY_EDIT)
def set_key_units(enterprise_id: int):
    return _add(enterprise_id, "key_form", F.KeyUnitForm, "keys",
                lambda ent, form: services.set_key_unit_types(current_user, ent, form.year.data,
                                                              form.unit_types.data or []))


def _edit(obj, ent: Enterprise, form_cls, fields, update, title: str, **extra):
    form = form_cls(data=_initial(obj, fields))
    _prepare(form, ent, current_user.jurisdiction_code)
    if "outlet_id" in form:
        del form.outlet_id
    back = url_for(".regulator_detail", enterprise_id=ent.id)
    if form.validate_on_submit() and _save(form, lambda: update(F.form_values(form))):
        flash(_("Saved."), "success")
        return redirect(back)
    return _form_page(form, title, back, _("Save"), 400 if form.errors else 200, **extra)


@bp.route("/regulator/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@require(Permission.REGISTRY_EDIT)
def edit(enterprise_id: int):
    ent = _enterprise_for_regulator(enterprise_id)

    def update(data):
        if not can_edit_registry(current_user.role, current_user.jurisdiction_code, data.get("region_code") or ""):
            raise ValidationFailed({"region_code": _("Choose a region inside your jurisdiction.")})
        services.update_enterprise(current_user, ent, data)

    return _edit(ent, ent, F.EnterpriseForm, services.ENTERPRISE_FIELDS, update,
                 _("Edit %(name)s", name=ent.name),
                 history_url=url_for("audit.history", object_type="enterprises", object_id=ent.id))


@bp.route("/regulator/permits/<int:permit_id>/edit", methods=["GET", "POST"])
@require(Permission.REGISTRY_EDIT)
def edit_permit(permit_id: int):
    permit = db.get_or_404(Permit, permit_id)
    ent = _regulated(permit.enterprise)
    return _edit(permit, ent, F.PermitForm, services.PERMIT_FIELDS,
                 lambda data: services.update_permit(current_user, permit, data),
                 _("Edit permit %(no)s", no=permit.permit_no),
                 history_url=url_for("audit.history", object_type="permits", object_id=permit.id))


@bp.route("/regulator/outlets/<int:outlet_id>/edit", methods=["GET", "POST"])
@require(Permission.REGISTRY_EDIT)
def edit_outlet(outlet_id: int):
    outlet = db.get_or_404(Outlet, outlet_id)
    ent = _regulated(outlet.enterprise)
    return _edit(outlet, ent, F.OutletForm, services.OUTLET_FIELDS,
                 lambda data: services.update_outlet(current_user, outlet, data),
                 _("Edit outlet %(code)s", code=outlet.code),
                 history_url=url_for("audit.history", object_type="outlets", object_id=outlet.id))


@bp.route("/regulator/limits/<int:limit_id>/edit", methods=["GET", "POST"])
@require(Permission.REGISTRY_EDIT)
def edit_limit(limit_id: int):
    limit = db.get_or_404(OutletLimit, limit_id)
    ent = _regulated(limit.outlet.enterprise)
    return _edit(limit, ent, F.LimitForm, services.LIMIT_FIELDS,
                 lambda data: services.update_limit(current_user, limit, data),
                 _("Edit the %(p)s limit of outlet %(o)s", p=limit.pollutant.name, o=limit.outlet.code),
                 history_url=url_for("audit.history", object_type="outlet_limits", object_id=limit.id),
                 delete_url=url_for(".delete_limit", limit_id=limit.id), delete_form=F.ConfirmForm())


@bp.post("/regulator/limits/<int:limit_id>/delete")
@require(Permission.REGISTRY_EDIT)
def delete_limit(limit_id: int):
    limit = db.get_or_404(OutletLimit, limit_id)
    ent = _regulated(limit.outlet.enterprise)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_limit(current_user, limit)
    db.session.commit()
    flash(_("The limit was removed."), "success")
    return redirect(url_for(".regulator_detail", enterprise_id=ent.id) + "#outlets")


# --- enterprise side: own registry data and proposals -------------------------------------------------------------

@bp.get("/my/enterprise")
@require(Permission.ENTERPRISE_PRIVATE_VIEW)
def my_enterprise():
    if current_user.enterprise_id is None:
        binding_url = (url_for("auth.binding_request") if "auth.binding_request" in current_app.view_functions
                       else None)
        return render_template("enterprises/my_unbound.html", binding_url=binding_url)
    ent = db.get_or_404(Enterprise, current_user.enterprise_id)
    if not can_view_enterprise_private(current_user.role, current_user.enterprise_id,
                                       current_user.jurisdiction_code, ent.id, ent.region_code):
        abort(403)
    items = db.session.scalars(select(ChangeProposal).where(ChangeProposal.enterprise_id == ent.id)
                               .order_by(ChangeProposal.id.desc()).limit(100)).all()
    return render_template("enterprises/my_enterprise.html", ent=ent, p=services.public_profile(ent),
                           proposals=[(pr, proposals.proposal_diff(pr)) for pr in items])


@bp.route("/my/enterprise/propose/<target_type>", methods=["GET", "POST"], defaults={"target_id": None})
@bp.route("/my/enterprise/propose/<target_type>/<int:target_id>", methods=["GET", "POST"])
@require(Permission.ENTERPRISE_PROPOSE)
def propose(target_type: str, target_id: int | None):
    ent = db.get_or_404(Enterprise, current_user.enterprise_id) if current_user.enterprise_id else None
    if ent is None or not can_propose_change(current_user.role, current_user.enterprise_id, ent.id):
        abort(403)
    if target_type not in proposals.TARGET_TYPES or (target_type == "enterprise" and target_id not in (None, ent.id)):
        abort(404)
    try:
        target = proposals.load_target(ent, target_type, target_id)
    except DomainError:
        abort(404)
    form_cls = F.proposal_form(F.FORM_FIELDS[target_type])
    fields = proposals.FIELDS[target_type]
    form = form_cls(data=_initial(target, fields) if target is not None else None)
    _prepare(form, ent, ent.region_code[:2])
    for name in (*proposals.NOT_PROPOSABLE.get(target_type, ()), *(("outlet_id",) if target is not None else ())):
        if name in form:
            delattr(form, name)
    back = url_for(".my_enterprise")
    if form.validate_on_submit() and _save(form, lambda: proposals.propose_change(
            current_user, ent, target_type, getattr(target, "id", None), F.form_values(form), form.reason.data)):
        flash(_("Your proposal was sent to the regulator."), "success")
        return redirect(back)
    title = _("Propose a change: %(what)s", what=F.TARGET_LABELS[target_type])
    return _form_page(form, title, back, _("Send proposal"), 400 if form.errors else 200)


# --- regulator: proposal queue ------------------------------------------------------------------------------------

@bp.get("/regulator/proposals")
@require(Permission.PROPOSAL_DECIDE)
def proposal_queue():
    base = (select(ChangeProposal).join(ChangeProposal.enterprise)
            .where(Enterprise.region_code.startswith(current_user.jurisdiction_code or "\x00", autoescape=True)))
    # Paged: each waiting proposal carries its diff, so a backlog must not render on one page (issue 21).
    pagination = db.paginate(base.where(ChangeProposal.status == ProposalStatus.PENDING).order_by(ChangeProposal.id),
                             page=request.args.get("page", 1, type=int), per_page=PROPOSALS_PER_PAGE,
                             error_out=False)
    decided = db.session.scalars(base.where(ChangeProposal.status != ProposalStatus.PENDING)
                                 .order_by(ChangeProposal.decided_at.desc()).limit(20)).all()
    prev_url = url_for(".proposal_queue", page=pagination.prev_num) if pagination.has_prev else None
    next_url = url_for(".proposal_queue", page=pagination.next_num) if pagination.has_next else None
    return render_template("enterprises/proposal_queue.html", decision_form=F.DecisionForm(),
                           pending=[(pr, proposals.proposal_diff(pr)) for pr in pagination.items], decided=decided,
                           pagination=pagination, prev_url=prev_url, next_url=next_url)


def _decide(proposal_id: int, approve: bool):
    proposal = db.get_or_404(ChangeProposal, proposal_id)
    _regulated(proposal.enterprise)
    form = F.DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if approve:
            proposals.approve_proposal(current_user, proposal, form.note.data or "")
        else:
            proposals.reject_proposal(current_user, proposal, form.note.data or "")
    except InvalidTransition as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".proposal_queue"))
    except ValidationFailed as exc:
        db.session.rollback()
        details = "; ".join(f"{F.FIELD_LABELS.get(k, k)}: {v}" for k, v in exc.errors.items())
        flash(_("The proposal was not applied: %(details)s", details=details), "error")
        return redirect(url_for(".proposal_queue"))
    db.session.commit()
    flash(_("Proposal #%(id)d was approved and applied.", id=proposal.id) if approve
          else _("Proposal #%(id)d was rejected.", id=proposal.id), "success")
    return redirect(url_for(".proposal_queue"))


@bp.post("/regulator/proposals/<int:proposal_id>/approve")
@require(Permission.PROPOSAL_DECIDE)
def approve(proposal_id: int):
    return _decide(proposal_id, True)


@bp.post("/regulator/proposals/<int:proposal_id>/reject")
@require(Permission.PROPOSAL_DECIDE)
def reject(proposal_id: int):
    return _decide(proposal_id, False)
