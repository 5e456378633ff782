"""Change proposals: enterprise users propose registry changes, a regulator of the jurisdiction decides.

A proposal is validated with the same rules as a direct edit when it is made, and applied through the same
services (so also audited) when it is approved; a proposal that no longer validates stays pending.
"""
from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit import services as audit
from portal.audit.rules import jsonable
from portal.db import utcnow
from portal.enterprises import coerce, services
from portal.enterprises.forms import STATUS_LABELS
from portal.enterprises.models import ChangeProposal, Enterprise, Outlet, OutletLimit, Permit, ProposalStatus
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.extensions import db

TARGET_TYPES = ("enterprise", "permit", "outlet", "outlet_limit")
FIELDS = {"enterprise": services.ENTERPRISE_FIELDS, "permit": services.PERMIT_FIELDS,
          "outlet": services.OUTLET_FIELDS, "outlet_limit": ("outlet_id", *services.LIMIT_FIELDS)}
# Enterprise users may not re-key their own enterprise; the credit code is changed by a regulator only.
NOT_PROPOSABLE = {"enterprise": ("uscc",)}


def load_target(ent: Enterprise, target_type: str, target_id: int | None) -> Any:
    """The object a proposal changes, checked to belong to the enterprise (None for a new object)."""
    if target_type not in TARGET_TYPES:
        raise NotFound(_("Unknown kind of registry object."))
    if target_type == "enterprise":
        return ent
    if target_id is None:
        return None
    model = {"permit": Permit, "outlet": Outlet, "outlet_limit": OutletLimit}[target_type]
    obj = db.session.get(model, target_id)
    owner = obj.outlet.enterprise_id if isinstance(obj, OutletLimit) else getattr(obj, "enterprise_id", None)
    if obj is None or owner != ent.id:
        raise NotFound(_("This object does not belong to the enterprise."))
    return obj


def _outlet_of(ent: Enterprise, payload: Mapping[str, Any]) -> Outlet:
    raw = str(payload.get("outlet_id") or "")
    outlet = db.session.get(Outlet, int(raw)) if raw.isdigit() else None
    if outlet is None or outlet.enterprise_id != ent.id:
        raise ValidationFailed({"outlet_id": _("Choose one of this enterprise's outlets.")})
    return outlet


def _validate(ent: Enterprise, target_type: str, target: Any, payload: Mapping[str, Any]) -> None:
    if target_type == "enterprise":
        services.validate_enterprise(coerce.merge_current(ent, services.ENTERPRISE_FIELDS, payload), ent.id)
    elif target_type == "permit":
        services.validate_permit(ent, coerce.merge_current(target, services.PERMIT_FIELDS, payload),
                                 getattr(target, "id", None))
    elif target_type == "outlet":
        services.validate_outlet(ent, coerce.merge_current(target, services.OUTLET_FIELDS, payload),
                                 getattr(target, "id", None))
    else:
        outlet = target.outlet if target is not None else _outlet_of(ent, payload)
        services.validate_limit(outlet, coerce.merge_current(target, services.LIMIT_FIELDS, payload),
                                getattr(target, "id", None))


def propose_change(actor: Any, ent: Enterprise, target_type: str, target_id: int | None,
                   payload: Mapping[str, Any], reason: str) -> ChangeProposal:
    """Record an enterprise's proposed change after checking it against the registry rules."""
    target = load_target(ent, target_type, target_id)
    allowed = [f for f in FIELDS[target_type] if f not in NOT_PROPOSABLE.get(target_type, ())]
    clean_payload = {k: jsonable(v) for k, v in payload.items() if k in allowed}
    if target_type == "outlet_limit" and target is not None:
        clean_payload.pop("outlet_id", None)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("Say why the change is needed (for example the new permit's date).")})
    _validate(ent, target_type, target, clean_payload)
    target_key = getattr(target, "id", None) if target is not None else None
    duplicate = _pending_duplicate(ent, target_type, target_key, clean_payload)
    if duplicate is not None:  # a double click or a re-sent form: keep the one proposal
        return duplicate
    proposal = ChangeProposal(enterprise_id=ent.id, proposer_id=actor.id, target_type=target_type,
                              target_id=target_key,
                              payload=clean_payload, reason=reason)
    db.session.add(proposal)
    db.session.flush()
    audit.record(actor, "proposal.create", proposal)
    return proposal


def _pending_duplicate(ent: Enterprise, target_type: str, target_id: int | None,
                       payload: Mapping[str, Any]) -> ChangeProposal | None:
    stmt = sa.select(ChangeProposal).where(ChangeProposal.enterprise_id == ent.id,
                                           ChangeProposal.target_type == target_type,
                                           ChangeProposal.status == ProposalStatus.PENDING)
    for pending in db.session.scalars(stmt):
        if pending.target_id == target_id and pending.payload == dict(payload):
            return pending
    return None


def proposal_diff(proposal: ChangeProposal) -> list[tuple[str, Any, Any]]:
    """Field-by-field (field, current value, proposed value); for a new object the current value is None."""
    try:
        target = load_target(proposal.enterprise, proposal.target_type, proposal.target_id)
    except NotFound:
        target = None
    current = audit.snapshot(target) if target is not None else {}
    rows = []
    for key, new in proposal.payload.items():
        old = current.get(key)
        if old is None and new in ("", None, [], False):
            continue
        if str(old if old is not None else "") != str(new if new is not None else "") or target is None:
            rows.append((key, old, new))
    return rows


def _ensure_pending(proposal: ChangeProposal) -> None:
    if proposal.status != ProposalStatus.PENDING:
        raise InvalidTransition(_("This proposal was already decided (%(status)s); only pending proposals can be "
                                  "approved or rejected.", status=STATUS_LABELS[proposal.status]))


def approve_proposal(actor: Any, proposal: ChangeProposal, note: str = "") -> Any:
    """Apply the proposed change through the registry services, as the deciding regulator."""
    _ensure_pending(proposal)
    ent = proposal.enterprise
    target = load_target(ent, proposal.target_type, proposal.target_id)
    payload = dict(proposal.payload)
    audit_note = _("Change proposal #%(id)d approved", id=proposal.id) + (f": {note.strip()}" if note.strip() else "")
    kind = proposal.target_type
    if kind == "enterprise":
        result = services.update_enterprise(actor, ent, payload, note=audit_note)
    elif kind == "permit":
        result = (services.update_permit(actor, target, payload, note=audit_note) if target is not None
                  else services.create_permit(actor, ent, payload, note=audit_note))
    elif kind == "outlet":
        result = (services.update_outlet(actor, target, payload, note=audit_note) if target is not None
                  else services.create_outlet(actor, ent, payload, note=audit_note))
    else:
        result = (services.update_limit(actor, target, payload, note=audit_note) if target is not None
                  else services.create_limit(actor, _outlet_of(ent, payload), payload, note=audit_note))
    _decide(actor, proposal, ProposalStatus.APPROVED, note)
    return result


def reject_proposal(actor: Any, proposal: ChangeProposal, note: str) -> None:
    """Rejections must say why, so the enterprise can correct and propose again."""
    _ensure_pending(proposal)
    if not (note or "").strip():
        raise ValidationFailed({"note": _("Give the reason for rejecting, so the enterprise can correct it.")})
    _decide(actor, proposal, ProposalStatus.REJECTED, note)


def _decide(actor: Any, proposal: ChangeProposal, status: ProposalStatus, note: str) -> None:
    before = audit.snapshot(proposal)
    proposal.status = status
    proposal.decided_by_id = actor.id
    proposal.decided_at = utcnow()
    proposal.decision_note = (note or "").strip()
    db.session.flush()
    audit.record(actor, f"proposal.{'approve' if status == ProposalStatus.APPROVED else 'reject'}", proposal,
                 before=before)
