"""Conflicts of interest for 双随机 draws (DOMAIN §8.5 step 3): declarations inspector × enterprise recorded by the
inspector or a lead, ended with a reason, and the complaint rule (an inspector who handled a complaint about the
enterprise recently). Every draw's pool snapshot carries the conflicts in force, so the draw stays reproducible.
Services flush; the caller commits."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role, User
from portal.auth.rules import in_jurisdiction
from portal.core.clock import china_today
from portal.credit import rules
from portal.credit.models import InspectorConflict
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db


def declare(actor: Any, inspector: User, ent: Enterprise, reason: str) -> InspectorConflict:
    """An inspector declares their own conflict; a lead records one for any inspector of its jurisdiction."""
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, ent.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    if inspector.id != actor.id and actor.role != Role.REGULATOR_LEAD:
        raise NotAllowed(_("Only a lead records a conflict for another inspector."))
    if not (inspector.role.is_regulator and in_jurisdiction(actor.jurisdiction_code, inspector.jurisdiction_code
                                                            or "")):
        raise ValidationFailed({"inspector": _("Give the user name of an inspector of your jurisdiction.")})
    if not reason.strip():
        raise ValidationFailed({"reason": _("Say what the conflict is (for example: a relative works there).")})
    if active_between(inspector.id, ent.id) is not None:
        raise Conflict(_("This conflict is already recorded."))
    conflict = InspectorConflict(inspector_id=inspector.id, enterprise_id=ent.id, reason=reason.strip(),
                                 recorded_by_id=actor.id)
    db.session.add(conflict)
    db.session.flush()
    record(actor, "credit_conflict.declare", conflict)
    return conflict


def end(actor: Any, conflict: InspectorConflict, reason: str) -> InspectorConflict:
    """A lead ends a declaration that no longer applies (the relative left, the contract ended)."""
    if actor.role != Role.REGULATOR_LEAD or not rules.can_record_evidence(
            actor.role, actor.jurisdiction_code, conflict.enterprise.region_code):
        raise NotAllowed(_("Only a lead of the enterprise's jurisdiction ends a conflict."))
    if conflict.ended_on is not None:
        raise InvalidTransition(_("This conflict has already ended."))
    if not reason.strip():
        raise ValidationFailed({"reason": _("Give the reason.")})
    before = snapshot(conflict)
    conflict.ended_on, conflict.end_reason = china_today(), reason.strip()
    record(actor, "credit_conflict.end", conflict, before=before)
    return conflict


def active_between(inspector_id: int, enterprise_id: int) -> InspectorConflict | None:
    return db.session.scalar(sa.select(InspectorConflict).where(
        InspectorConflict.inspector_id == inspector_id, InspectorConflict.enterprise_id == enterprise_id,
        InspectorConflict.ended_on.is_(None)))


def conflicts_in(jurisdiction: str) -> list[InspectorConflict]:
    stmt = (sa.select(InspectorConflict).join(Enterprise, Enterprise.id == InspectorConflict.enterprise_id)
            .where(Enterprise.region_code.startswith(jurisdiction, autoescape=True))
            .order_by(InspectorConflict.ended_on.is_not(None), InspectorConflict.id.desc()).limit(500))
    return list(db.session.scalars(stmt))


def pairs_for_pool(prefix: str, complaint_months: int) -> list[tuple[str, str]]:
    """(inspector user name, credit code) for every conflict in force for enterprises under the prefix: the
    declarations, and handlers of complaints about the enterprise received in the last `complaint_months`."""
    declared = (sa.select(User.username, Enterprise.uscc)
                .join(InspectorConflict, InspectorConflict.inspector_id == User.id)
                .join(Enterprise, Enterprise.id == InspectorConflict.enterprise_id)
                .where(InspectorConflict.ended_on.is_(None),
                       Enterprise.region_code.startswith(prefix, autoescape=True)))
    pairs = {(name, uscc) for name, uscc in db.session.execute(declared)}
    if complaint_months > 0:
        from portal.complaints.models import Complaint

        since = utcnow() - timedelta(days=round(complaint_months * 30.44))
        handled = (sa.select(User.username, Enterprise.uscc).join(Complaint, Complaint.handler_id == User.id)
                   .join(Enterprise, Enterprise.id == Complaint.enterprise_id)
                   .where(Complaint.received_at >= since,
                          Enterprise.region_code.startswith(prefix, autoescape=True)))
        pairs |= {(name, uscc) for name, uscc in db.session.execute(handled)}
    return sorted(pairs)
