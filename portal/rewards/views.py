"""Reward console (handler and lead only), the lead's reward table, and the public statistics."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l, gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth.permissions import Permission, has_permission, require
from portal.complaints.services import reporter_identity
from portal.core.forms import apply_domain_error
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.rewards import rules, services
from portal.rewards.models import RewardStatus
from portal.rewards.forms import METHOD_LABELS, DecideForm, PaymentForm, ProposeForm, TableForm

bp = Blueprint("rewards", __name__)

REASON_LABELS = {rules.NOT_REAL_NAME: _l("not a real-name report (name, ID number and contact needed)"),
                 rules.NOT_FIRST: _l("not the first report of this matter"),
                 rules.ALREADY_KNOWN: _l("the bureau already knew of the violation"),
                 rules.NOT_SUBSTANTIATED: _l("the report was not substantiated")}
STATUS_LABELS = {"ineligible": _l("Not eligible"), "proposed": _l("Proposed"), "approved": _l("Approved"),
                 "rejected": _l("Rejected"), "paid": _l("Paid")}
PUBLIC_LABELS = {"not_eligible": _l("No reward"), "under_review": _l("Reward under review"),
                 "approved": _l("Reward approved"), "paid": _l("Reward paid")}


@bp.context_processor
def _labels():
    return {"REWARD_REASONS": REASON_LABELS, "REWARD_STATUS": STATUS_LABELS, "REWARD_PUBLIC": PUBLIC_LABELS,
            "PAYMENT_METHODS": {m.value: label for m, label in METHOD_LABELS.items()}}


@bp.app_template_global("reward_tracking")
def reward_tracking(c) -> dict | None:
    """Used by templates/rewards/_tracking_status.html on the reporter's tracking page."""
    status = services.tracking_status(c)
    if status is not None:
        status["label"] = PUBLIC_LABELS[status["status"]]
        status["reason_labels"] = [REASON_LABELS[r] for r in status["reasons"] if r in REASON_LABELS]
    return status


@bp.app_template_global("reward_link_for")
def reward_link_for(c) -> str | None:
    """Used by templates/rewards/_console_link.html on the console case page: only for those who may see it."""
    if not current_user.is_authenticated or not has_permission(current_user, Permission.REWARD_HANDLE):
        return None
    return url_for("rewards.complaint", reward_complaint_id=c.id) if services.can_see(current_user, c) else None


@bp.get("/console/rewards")
@require(Permission.REWARD_HANDLE)
def index():
    return render_template("rewards/index.html", rewards=services.visible_rewards(current_user))


def _complaint(complaint_id: int):
    try:
        return services.complaint_for(current_user, complaint_id)
    except NotFound:
        abort(404)


def _render(c, propose=None, decide=None, pay=None, status: int = 200):
    reward = services.reward_of(c)
    prefix, table = services.table_for(c.region_code)
    propose = propose or ProposeForm(formdata=None, obj=reward)
    propose.tier.choices = [SelectChoice(t.code, f"{t.label} · ¥{t.amount_yuan}") for t in table.tiers]
    can_decide = reward is not None and rules.approval_refusal(reward.status, current_user.role,
                                                              reward.proposed_by_id, current_user.id) is None
    return render_template("rewards/complaint.html", c=c, reward=reward, identity=reporter_identity(current_user, c),
                           table=table, table_prefix=prefix, propose=propose, decide=decide or DecideForm(formdata=None),
                           pay=pay or PaymentForm(formdata=None), can_decide=can_decide,
                           can_propose=reward is None or rules.can_transition(reward.status, RewardStatus.PROPOSED)), \
        status


@bp.get("/console/rewards/complaint/<int:reward_complaint_id>")
@require(Permission.REWARD_HANDLE)
def complaint(reward_complaint_id: int):
    return _render(_complaint(reward_complaint_id))


@bp.post("/console/rewards/complaint/<int:reward_complaint_id>/propose")
@require(Permission.REWARD_HANDLE)
def propose(reward_complaint_id: int):
    c = _complaint(reward_complaint_id)
    form = ProposeForm()
    if not form.validate():
        return _render(c, propose=form, status=400)
    try:
        reward = services.propose_reward(current_user, c, tier=form.tier.data or "", insider=bool(form.is_insider.data),
                                         already_known=bool(form.already_known.data),
                                         already_known_note=form.already_known_note.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render(_complaint(reward_complaint_id), propose=form, status=exc.status)
    flash(_("Reward proposed; a lead decides it.") if reward.status.value == "proposed"
          else _("The report is not eligible for a reward; the reasons are recorded."), "success")
    return redirect(url_for(".complaint", reward_complaint_id=c.id))


def _reward(reward_id: int):
    try:
        return services.reward_for(current_user, reward_id)
    except NotFound:
        abort(404)


@bp.post("/console/rewards/<int:reward_id>/decide")
@require(Permission.REWARD_APPROVE)
def decide(reward_id: int):
    reward = _reward(reward_id)
    form = DecideForm()
    if not form.validate():
        return _render(reward.complaint, decide=form, status=400)
    try:
        services.decide_reward(current_user, reward, approve=form.decision.data == "approve",
                               note=form.decision_note.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render(_reward(reward_id).complaint, decide=form, status=exc.status)
    flash(_("Decision recorded."), "success")
    return redirect(url_for(".complaint", reward_complaint_id=reward.complaint_id))


@bp.post("/console/rewards/<int:reward_id>/payment")
@require(Permission.REWARD_HANDLE)
def payment(reward_id: int):
    reward = _reward(reward_id)
    form = PaymentForm()
    if not form.validate():
        return _render(reward.complaint, pay=form, status=400)
    try:
        services.record_payment(current_user, reward, paid_on=form.paid_on.data,
                                method=form.payment_method.data or "", reference=form.payment_reference.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render(_reward(reward_id).complaint, pay=form, status=exc.status)
    flash(_("Payment recorded; the reporter sees it on the tracking page."), "success")
    return redirect(url_for(".complaint", reward_complaint_id=reward.complaint_id))


@bp.route("/console/rewards/table", methods=["GET", "POST"])
@require(Permission.REWARD_TABLE)
def table():
    form = TableForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                services.save_table(current_user, form.table.data)
                db.session.commit()
                flash(_("Reward table saved."), "success")
                return redirect(url_for(".table"))
            except DomainError as exc:
                db.session.rollback()
                apply_domain_error(form, exc)
        status = 400
    else:
        form.table.data = services.table_text(current_user)
    return render_template("rewards/table.html", form=form), status


@bp.get("/rewards/statistics")
def statistics():
    level = 2 if request.args.get("level") == "province" else 4
    return render_template("rewards/statistics.html", rows=services.statistics(level), level=level)
