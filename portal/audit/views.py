"""Audit history pages: what changed, field by field, who changed it and when (regulators, admins)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.audit import rules, services
from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.auth.permissions import Permission, require
from portal.auth.rules import in_jurisdiction
from portal.enterprises.forms import template_labels
from portal.enterprises.models import Enterprise
from portal.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/regulator")

OBJECT_TYPE_LABELS = {"enterprises": _l("Enterprise"), "permits": _l("Permit"), "outlets": _l("Outlet"),
                      "outlet_limits": _l("Pollutant limit"), "change_proposals": _l("Change proposal")}
ACTION_LABELS = {"create": _l("created"), "update": _l("changed"), "delete": _l("removed"),
                 "key_units": _l("key-unit types set"), "approve": _l("approved"), "reject": _l("rejected")}


def _may_see(enterprise: Enterprise | None) -> bool:
    """Admins see every record; regulators only those of enterprises in their jurisdiction."""
    if current_user.role == Role.ADMIN:
        return True
    return enterprise is not None and in_jurisdiction(current_user.jurisdiction_code, enterprise.region_code)


def _labels() -> dict:
    return {"type_labels": OBJECT_TYPE_LABELS, "action_labels": ACTION_LABELS}


def _entries(records: list[AuditRecord]) -> list[dict]:
    entries = []
    for r in records:
        before = {k: v for k, v in (r.before or {}).items() if not k.startswith("_")}
        after = {k: v for k, v in (r.after or {}).items() if not k.startswith("_")}
        notes = [str(v) for k, v in {**(r.before or {}), **(r.after or {})}.items() if k.startswith("_")]
        entries.append({"record": r, "rows": rules.diff(before, after), "notes": notes})
    return entries


@bp.get("/history/<object_type>/<object_id>")
@require(Permission.AUDIT_VIEW)
def history(object_type: str, object_id: str):
    records = services.history(object_type, object_id)
    if not records:
        abort(404)
    enterprise_ids = {r.enterprise_id for r in records}
    if current_user.role != Role.ADMIN:
        if len(enterprise_ids) != 1 or None in enterprise_ids:
            abort(404)
        if not _may_see(db.session.get(Enterprise, next(iter(enterprise_ids)))):
            abort(404)
    ent_id = next(iter(enterprise_ids)) if len(enterprise_ids) == 1 else None
    enterprise = db.session.get(Enterprise, ent_id) if ent_id else None
    return render_template("audit/history.html", entries=_entries(records), enterprise=enterprise,
                           object_type=object_type, object_id=object_id, L=template_labels(), per_object=True,
                           **_labels())


@bp.get("/enterprises/<int:enterprise_id>/history")
@require(Permission.AUDIT_VIEW)
def enterprise_history(enterprise_id: int):
    enterprise = db.get_or_404(Enterprise, enterprise_id)
    if not _may_see(enterprise):
        abort(404)
    records = services.enterprise_history(enterprise.id)
    return render_template("audit/history.html", entries=_entries(records), enterprise=enterprise,
                           object_type=None, object_id=None, L=template_labels(), per_object=False, **_labels())


REPORTER_ACCESS_PER_PAGE = 100


@bp.get("/reporter-access")
@require(Permission.AUDIT_VIEW, Permission.COMPLAINT_EXTEND)  # both: the jurisdiction's lead (not admins)
def reporter_access():
    """Every view of a reporter's identity and every original complaint file downloaded in the lead's area."""
    import sqlalchemy as sa
    from flask import request

    from portal.complaints.identity import ACTIONS
    from portal.complaints.models import Complaint

    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
    prefix = (current_user.jurisdiction_code or "\x00") + "%"
    stmt = (sa.select(AuditRecord, Complaint)
            .join(Complaint, sa.cast(Complaint.id, sa.String) == AuditRecord.object_id)
            .where(AuditRecord.object_type == "complaints", AuditRecord.action.in_(ACTIONS),
                   sa.or_(Complaint.region_code.like(prefix), Complaint.assigned_region_code.like(prefix)))
            .order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
            .offset((page - 1) * REPORTER_ACCESS_PER_PAGE).limit(REPORTER_ACCESS_PER_PAGE + 1))
    rows = db.session.execute(stmt).all()
    return render_template("audit/reporter_access.html", rows=rows[:REPORTER_ACCESS_PER_PAGE], page=page,
                           has_next=len(rows) > REPORTER_ACCESS_PER_PAGE)
