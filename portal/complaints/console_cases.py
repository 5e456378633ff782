"""Console pages on who and where a case is about: link the case to a registered enterprise (or unlink it) and
transfer it to the competent jurisdiction. Registered on the console blueprint."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.complaints import linking, services, transfer
from portal.complaints.console import bp
from portal.complaints.forms import LinkForm, TransferForm
from portal.complaints.models import Complaint
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.extensions import db


def _load(complaint_id: int) -> Complaint:
    try:
        return services.get_for_handler(current_user, complaint_id)
    except NotFound:
        abort(404)


@bp.app_template_global("complaint_case_tools")
def case_tools(c: Complaint) -> dict:
    """What the case page shows for linking: suggested registered enterprises for the reported name, nearest
    to the reported point first, and the link form."""
    suggestions = [] if c.enterprise_id else linking.suggest(c.reported_name, c.latitude, c.longitude, limit=5)
    return {"suggestions": suggestions, "link_form": LinkForm(formdata=None),
            "transfer_form": _transfer_form(None) if c.status in transfer.TRANSFERABLE else None,
            "transfers": transfer.transfers_of(c)}


def _transfer_form(formdata=...) -> TransferForm:
    form = TransferForm() if formdata is ... else TransferForm(formdata=formdata)
    form.region_code.choices = [("", "—")] + [(r.code, f"{r.name} ({r.code})")
                                               for r in transfer.transfer_targets(current_user)]
    return form


def _flash_errors(exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        for message in exc.errors.values():
            flash(message, "error")
    else:
        flash(exc.message, "error")


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


@bp.post("/<int:complaint_id>/enterprise")
@require(Permission.COMPLAINT_HANDLE)
def link_enterprise(complaint_id: int):
    c = _load(complaint_id)
    form = LinkForm()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for(".detail", complaint_id=c.id)), 303
    try:
        linking.link_enterprise(c, current_user, (form.uscc.data or "").strip(), form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _flash_errors(exc)
        return redirect(url_for(".detail", complaint_id=complaint_id)), 303
    flash(_("The case is linked to %(name)s.", name=c.enterprise.name) if c.enterprise
          else _("The case is no longer linked to an enterprise."), "success")
    return redirect(url_for(".detail", complaint_id=complaint_id))


@bp.post("/<int:complaint_id>/transfer")
@require(Permission.COMPLAINT_HANDLE)
def transfer_case(complaint_id: int):
    """After a transfer the case is outside this bureau: back to the queue, not to the case page."""
    c = _load(complaint_id)
    form = _transfer_form()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for(".detail", complaint_id=c.id)), 303
    try:
        entry = transfer.transfer_complaint(c, current_user, form.region_code.data, form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _flash_errors(exc)
        return redirect(url_for(".detail", complaint_id=complaint_id)), 303
    flash(_("Case %(no)s is transferred to %(region)s.", no=c.case_no, region=entry.to_region.name), "success")
    if services.can_view(current_user, c):
        return redirect(url_for(".detail", complaint_id=complaint_id))
    return redirect(url_for(".queue"))
