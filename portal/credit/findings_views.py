"""Findings pages: the regulator's queue of automatic findings (counts by kind, filters, paging, bulk confirm or
dismiss with a reason), the refusal of a pending withdrawal, and the enterprise's own findings. Private pages:
no-store; every change is audited by credit.findings / credit.evidence."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.credit import findings, rules
from portal.credit import forms as F
from portal.credit.evidence import cancel_withdrawal_request
from portal.credit.models import Evidence
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db

bp = Blueprint("credit_findings", __name__)


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _labels():
    return {"CL": F.template_labels(), "FL": F.finding_labels()}


def _date(name: str, errors: dict) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Give the date as YYYY-MM-DD, for example 2026-03-31.")
        return None


def _filters(allowed_status: tuple[str, ...]) -> tuple[findings.Filters, dict[str, str]]:
    """The queue's filters from the query string; a bad value is reported by field and ignored."""
    errors: dict[str, str] = {}
    f = findings.Filters(start=_date("start", errors), end=_date("end", errors))
    kind = request.args.get("kind", "")
    if kind and kind not in {k.value for k in findings.FINDING_KINDS}:
        errors["kind"] = _("Choose one of the listed kinds.")
    else:
        f.kind = kind
    status = request.args.get("status", "open")
    if status not in allowed_status:
        errors["status"] = _("Choose one of the listed states.")
    else:
        f.status = status
    uscc = request.args.get("uscc", "").strip()
    if uscc:
        check = check_uscc(uscc)
        if check.ok:
            f.uscc = check.value
        else:
            errors["uscc"] = check.error
    try:
        f.page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        errors["page"] = _("The page must be a whole number.")
    if f.start and f.end and f.start > f.end:
        errors["end"] = _("The end of the period must not be before its start.")
        f.end = None
    return f, errors


def _page_url(endpoint: str, page: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(endpoint, **args, page=page)


STATUSES = ("open", "", *(s.value for s in findings.Status))


@bp.get("/credit/regulator/findings")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def queue():
    f, errors = _filters(STATUSES)
    page = findings.queue(current_user.jurisdiction_code or "", f)
    return render_template("credit/findings_queue.html", page=page, f=f, errors=errors, form=F.FindingsBulkForm(),
                           refuse_form=F.ConfirmForm(), kinds=findings.FINDING_KINDS, statuses=STATUSES,
                           status_of=findings.status_of,
                           prev_url=_page_url(".queue", page.page - 1) if page.page > 1 else None,
                           next_url=_page_url(".queue", page.page + 1) if page.page < page.pages else None)


@bp.post("/credit/regulator/findings/bulk")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def bulk():
    form = F.FindingsBulkForm()
    back = request.form.get("back", "")
    target = back if back.startswith("/credit/regulator/findings") and "//" not in back else url_for(".queue")
    if not form.validate_on_submit():
        for name, messages in form.errors.items():
            label = F.FIELD_LABELS.get(name, name)
            flash(f"{label}: {' '.join(str(m) for m in messages)}", "error")
        return redirect(target)
    ids = []
    for raw in request.form.getlist("ids"):
        if raw.isdigit():
            ids.append(int(raw))
    try:
        result = findings.bulk(current_user, ids, form.action.data, form.reason.data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            flash(f"{F.FIELD_LABELS.get(name, name)}: {message}", "error")
        return redirect(target)
    labels = F.finding_labels()["status"]
    done = ", ".join(f"{labels[findings.Status(k)]}: {n}" for k, n in sorted(result.done.items()))
    if done:
        flash(_("Done: %(done)s.", done=done), "success")
    for ev_id, message in result.refused[:20]:
        flash(_("Finding %(id)s: %(msg)s", id=ev_id, msg=message), "error")
    if len(result.refused) > 20:
        flash(_("%(n)d more findings were refused.", n=len(result.refused) - 20), "error")
    return redirect(target)


@bp.post("/credit/regulator/evidence/<int:evidence_id>/withdrawal/refuse")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def refuse_withdrawal(evidence_id: int):
    evidence = db.get_or_404(Evidence, evidence_id)
    ent = db.session.get(Enterprise, evidence.enterprise_id)
    if not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code, ent.region_code):
        abort(404)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    try:
        cancel_withdrawal_request(evidence, current_user)
        db.session.commit()
        flash(_("The withdrawal was refused; the evidence still counts."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("credit.evidence_queue"))


@bp.get("/credit/my/findings")
@require(Permission.CREDIT_OBJECT)
def mine():
    if not current_user.enterprise_id:
        abort(403)
    f, errors = _filters(STATUSES)
    f.uscc = ""
    page = findings.enterprise_findings(current_user.enterprise_id, f)
    return render_template("credit/my_findings.html", page=page, f=f, errors=errors, kinds=findings.FINDING_KINDS,
                           statuses=STATUSES, status_of=findings.status_of,
                           prev_url=_page_url(".mine", page.page - 1) if page.page > 1 else None,
                           next_url=_page_url(".mine", page.page + 1) if page.page < page.pages else None)



@bp.app_template_global("grade_change_reason")
def grade_change_reason(reason: str) -> str:
    """Why a grade-history row was written, in the reader's language (GradeChange.reason is a code)."""
    from portal.credit.findings_migration import REASON

    if reason == REASON:
        return _("Automatic findings nobody had confirmed stopped counting until two regulators confirm them "
                 "(no grade moves on unconfirmed data).")
    if reason.startswith("evidence:"):
        return _("Evidence was confirmed, withdrawn or repaired.")
    if reason == "expiry":
        return _("A ledger entry started or stopped counting.")
    if reason == "recompute":
        return _("Recomputed after a change of the credit scheme.")
    return ""
