"""Regulator console: the jurisdiction's queue with SLA clocks, the case page and every handling decision."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.auth.permissions import Permission, has_permission, require
from portal.complaints import identity, services
from portal.complaints.forms import FINDINGS_LABELS, REJECTION_LABELS, ActionForm, QueueFilterForm
from portal.complaints.models import Complaint, ComplaintAttachment, Findings, RejectionCode, Status
from portal.complaints.labels import channel_labels, event_labels, status_labels
from portal.core.clock import china_today
from portal.core.storage import serve
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.extensions import db

QUEUE_PER_PAGE = 50
bp = Blueprint("complaints_console", __name__, url_prefix="/console/complaints")


@bp.context_processor
def _labels():
    from portal.complaints.forms import CATEGORY_LABELS

    return {"STATUS_LABELS": status_labels(), "EVENT_LABELS": event_labels(), "CHANNEL_LABELS": channel_labels(),
            "CATEGORY_LABELS": {c.value: label for c, label in CATEGORY_LABELS.items()},
            "REJECTION_LABELS": {c.value: label for c, label in REJECTION_LABELS.items()},
            "FINDINGS_LABELS": {f.value: label for f, label in FINDINGS_LABELS.items()}}


def _load(complaint_id: int) -> Complaint:
    try:
        return services.get_for_handler(current_user, complaint_id)
    except NotFound:
        abort(404)


@bp.get("")
@require(Permission.COMPLAINT_HANDLE)
def queue():
    form = QueueFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All open cases"))] + [SelectChoice(k, v)
                                                                     for k, v in status_labels().items()]
    valid = form.validate()
    status = Status(form.status.data) if valid and form.status.data else None
    sla = (form.sla.data or "") if valid else ""
    if valid and form.overdue.data:  # the old check box, kept for bookmarked links
        sla = sla or "overdue"
    today = china_today()
    pagination = db.paginate(services.queue_select(current_user, status=status, sla=sla, today=today),
                             page=(form.page.data or 1) if valid else 1, per_page=QUEUE_PER_PAGE, error_out=False)
    rows = [(c, services.due_of(c), services.sla_of(c, today)) for c in pagination.items]
    args = {k: v for k, v in request.args.items() if k != "page"}
    prev_url = url_for(".queue", **args, page=pagination.prev_num) if pagination.has_prev else None
    next_url = url_for(".queue", **args, page=pagination.next_num) if pagination.has_next else None
    return render_template("complaints/console_queue.html", form=form, rows=rows, today=today,
                           pagination=pagination, prev_url=prev_url, next_url=next_url)


def _action_form(c: Complaint) -> ActionForm:
    form = ActionForm()
    form.handler_id.choices = [SelectChoice(u.id, f"{u.display_name} ({u.jurisdiction_code})")
                               for u in services.dispatch_candidates(current_user, c)]
    linkable = services.linkable_evidence(c)
    for field, kind in ((form.inspection_evidence_id, "inspection"), (form.penalty_evidence_id, "penalty")):
        field.choices = [SelectChoice("", "—")] + [
            SelectChoice(e.id, f"{e.occurred_on.isoformat()} {e.document_no or e.title}") for e in linkable[kind]]
    return form


@bp.get("/<int:complaint_id>")
@require(Permission.COMPLAINT_HANDLE)
def detail(complaint_id: int):
    c = _load(complaint_id)
    return _render_detail(c, _action_form(c))


def _render_detail(c: Complaint, form: ActionForm, status: int = 200):
    merged = list(db.session.scalars(select(Complaint).where(Complaint.merged_into_id == c.id)))
    shown = identity.view_reporter_identity(current_user, c)
    db.session.commit()  # the audit record of this view of the reporter's identity
    return render_template(
        "complaints/console_detail.html", c=c, form=form, identity=shown,
        sees_originals=services.can_see_reporter(current_user, c),
        notes=services.notes_for(current_user, c), cited=services.result_references(c),
        due=services.due_of(c), sla=services.sla_of(c), duplicates=services.duplicate_candidates(c),
        merged=merged, can_extend=has_permission(current_user, Permission.COMPLAINT_EXTEND)), status


def _apply(action: str, c: Complaint, form: ActionForm) -> str:
    """Call the one service the action names; returns the success message."""
    text = (form.text.data or "").strip()
    if action == "accept":
        services.accept_complaint(c, current_user, urgent=bool(form.urgent.data))
        return _("The case is accepted.")
    if action == "reject":
        services.reject_complaint(c, current_user, RejectionCode(form.rejection_code.data), text)
        return _("The case is not accepted; the reporter is told why.")
    if action == "dispatch":
        services.dispatch_complaint(c, current_user, form.handler_id.data or 0)
        return _("The case is dispatched.")
    if action == "investigate":
        services.start_investigation(c, current_user)
        return _("Investigation started.")
    if action == "note":
        services.add_investigation_note(
            c, current_user, text, inspection_ref=form.inspection_ref.data or "", inspection_on=form.inspection_on.data,
            inspection_evidence_id=form.inspection_evidence_id.data, penalty_doc_no=form.penalty_doc_no.data or "",
            penalty_on=form.penalty_on.data, penalty_evidence_id=form.penalty_evidence_id.data)
        return _("Investigation note recorded.")
    if action == "request_extension":
        services.request_extension(c, current_user, form.days.data or 0, text)
        return _("Extension requested from the lead.")
    if action in ("approve_extension", "refuse_extension"):
        if not has_permission(current_user, Permission.COMPLAINT_EXTEND):
            abort(403)
        services.decide_extension(c, current_user, approve=action == "approve_extension")
        return _("Extension decided.")
    if action == "result":
        services.report_result(c, current_user, Findings(form.findings.data), text)
        return _("Result recorded.")
    if action == "reply":
        services.reply_complaint(c, current_user, text)
        return _("Reply sent to the reporter.")
    if action == "close":
        services.close_complaint(c, current_user)
        return _("The case is closed.")
    if action == "reopen":
        services.reopen_complaint(c, current_user, text)
        return _("The case is reopened.")
    if action == "merge":
        target = db.session.scalar(select(Complaint).where(Complaint.case_no == (form.target_case_no.data or "")
                                                           .strip()))
        if target is None:
            raise ValidationFailed({"target_case_no": _("No case has this number.")})
        services.merge_complaint(c, target, current_user)
        return _("The case is merged.")
    raise ValidationFailed({"action": _("Unknown action.")})


@bp.post("/<int:complaint_id>/act")
@require(Permission.COMPLAINT_HANDLE)
def act(complaint_id: int):
    c = _load(complaint_id)
    form = _action_form(c)
    if not form.validate():
        return _render_detail(c, form, 400)
    try:
        message = _apply(form.action.data, c, form)
        db.session.commit()
    except (ValueError, KeyError):
        db.session.rollback()
        flash(_("Fill in the fields this decision needs."), "error")
        return _render_detail(_load(complaint_id), form, 400)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render_detail(_load(complaint_id), form, exc.status)
    flash(message, "success")
    return redirect(url_for(".detail", complaint_id=complaint_id))


@bp.get("/<int:complaint_id>/files/<int:attachment_id>")
@require(Permission.COMPLAINT_HANDLE)
def original_file(complaint_id: int, attachment_id: int):
    """The reporter's original file for the handler and the lead (audited); the metadata-free copy for others."""
    c = _load(complaint_id)
    att = db.session.get(ComplaintAttachment, attachment_id)
    if att is None or att.complaint_id != c.id:
        abort(404)
    served = identity.attachment_for(current_user, c, att)
    store = services.upload_root()
    if served is None or not store.exists(served.key):
        db.session.rollback()
        abort(404)
    db.session.commit()
    ext = served.key.rsplit(".", 1)[-1]
    response = serve(store, served.key, mimetype=served.content_type, as_attachment=True, conditional=False,
                     download_name=f"{c.case_no}-{att.id}{'' if served.original else '-public'}.{ext}")
    if response is None:
        abort(404)
    return response


from portal.complaints import console_cases  # noqa: E402,F401  (routes on this blueprint)
