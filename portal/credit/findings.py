"""Findings (DOMAIN §2.6): what the portal detects by itself is evidence that does not score until people confirm
it. A finding is a state of Evidence, not a table of its own: source in FINDING_SOURCES, is_verified false. It moves
detected (no recorder) → recorded (a regulator of the jurisdiction took it up: recorded_by) → confirmed (a second
regulator, or a lead, as for penalties: rules.verify_refusal) | dismissed (withdrawn before confirmation, with a
reason). The regulator's queue, its counts and bulk actions, and the enterprise's own list live here. Services
flush; the caller commits."""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role
from portal.credit import rules
from portal.credit.evidence import FINDING_SOURCES, verify_evidence
from portal.credit.models import Evidence, EvidenceKind
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db

PER_PAGE = 50
MAX_BULK = 500
# The kinds the portal detects by itself (the queue's kind filter and counts).
FINDING_KINDS = (EvidenceKind.MONITORING_LATE, EvidenceKind.MONITORING_EXCEEDANCE, EvidenceKind.MONITORING_GAP,
                 EvidenceKind.DISCLOSURE_LATE, EvidenceKind.DISCLOSURE_MISSING, EvidenceKind.DISCLOSURE_DEFECTIVE,
                 EvidenceKind.COMPLAINT_SUBSTANTIATED, EvidenceKind.OPEN_DAY, EvidenceKind.PERMIT_REPORT_LATE)


class Status(enum.StrEnum):
    DETECTED = "detected"  # nobody took it up yet
    RECORDED = "recorded"  # one regulator recorded it; a second must confirm
    CONFIRMED = "confirmed"  # counts in the ledger
    DISMISSED = "dismissed"  # withdrawn before confirmation, with a reason
    WITHDRAWN = "withdrawn"  # confirmed, then withdrawn by two people


OPEN_STATUSES = (Status.DETECTED, Status.RECORDED)


def status_of(ev: Evidence) -> Status:
    if ev.withdrawn_at is not None:
        return Status.WITHDRAWN if ev.is_verified else Status.DISMISSED
    if ev.is_verified:
        return Status.CONFIRMED
    return Status.RECORDED if ev.recorded_by_id is not None else Status.DETECTED


def _status_clause(status: Status):
    e = Evidence
    return {
        Status.DETECTED: sa.and_(e.is_verified.is_(False), e.withdrawn_at.is_(None), e.recorded_by_id.is_(None)),
        Status.RECORDED: sa.and_(e.is_verified.is_(False), e.withdrawn_at.is_(None), e.recorded_by_id.is_not(None)),
        Status.CONFIRMED: sa.and_(e.is_verified.is_(True), e.withdrawn_at.is_(None)),
        Status.DISMISSED: sa.and_(e.is_verified.is_(False), e.withdrawn_at.is_not(None)),
        Status.WITHDRAWN: sa.and_(e.is_verified.is_(True), e.withdrawn_at.is_not(None)),
    }[status]


@dataclass
class Filters:
    kind: str = ""
    uscc: str = ""
    start: date | None = None
    end: date | None = None
    status: str = "open"  # "open" (detected or recorded), a Status value, or "" for all
    page: int = 1


@dataclass
class Page:
    items: list[Evidence]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def _base(jurisdiction: str | None, enterprise_id: int | None = None):
    stmt = (sa.select(Evidence).join(Enterprise, Enterprise.id == Evidence.enterprise_id)
            .where(Evidence.source.in_(FINDING_SOURCES)))
    if enterprise_id is not None:
        return stmt.where(Evidence.enterprise_id == enterprise_id)
    return stmt.where(Enterprise.region_code.startswith(jurisdiction or "", autoescape=True))


def _filtered(stmt, f: Filters):
    if f.kind:
        stmt = stmt.where(Evidence.kind == EvidenceKind(f.kind))
    if f.uscc:
        stmt = stmt.where(Enterprise.uscc == f.uscc)
    if f.start:
        stmt = stmt.where(Evidence.occurred_on >= f.start)
    if f.end:
        stmt = stmt.where(Evidence.occurred_on <= f.end)
    if f.status == "open":
        stmt = stmt.where(sa.or_(*(_status_clause(s) for s in OPEN_STATUSES)))
    elif f.status:
        stmt = stmt.where(_status_clause(Status(f.status)))
    return stmt


def queue(jurisdiction: str | None, f: Filters, enterprise_id: int | None = None) -> Page:
    """One page of findings under the filters (oldest open ones first, so nothing waits forever), the total and the
    open findings per kind under the same filters except kind."""
    stmt = _filtered(_base(jurisdiction, enterprise_id), f)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, f.page), pages)
    items = list(db.session.scalars(stmt.order_by(Evidence.occurred_on, Evidence.id)
                                    .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    counted = _filtered(_base(jurisdiction, enterprise_id), Filters(uscc=f.uscc, start=f.start, end=f.end,
                                                                     status=f.status))
    sub = counted.order_by(None).with_only_columns(Evidence.kind).subquery()
    counts = {str(k.value if hasattr(k, "value") else k): n for k, n in db.session.execute(
        sa.select(sub.c.kind, sa.func.count()).group_by(sub.c.kind))}
    return Page(items, total, page, pages, counts)


def _check_scope(actor: Any, ev: Evidence) -> None:
    if ev.source not in FINDING_SOURCES:
        raise NotAllowed(_("This is not a finding; confirm it on the evidence desk."))
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, ev.enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))


def confirm(actor: Any, ev: Evidence, reason: str = "") -> Status:
    """The first regulator records the finding; a second one (or a lead, as for penalties) confirms it, and only
    then does it score. Returns the new status."""
    _check_scope(actor, ev)
    status = status_of(ev)
    if status not in OPEN_STATUSES:
        raise InvalidTransition(_("This finding is already confirmed, dismissed or withdrawn."))
    if status == Status.DETECTED:
        before = snapshot(ev)
        ev.recorded_by_id = actor.id
        record(actor, "evidence.record_finding", ev, before=before, after={**snapshot(ev), "reason": reason})
        if actor.role != Role.REGULATOR_LEAD:  # as for penalties, a lead may confirm a record of their own
            return Status.RECORDED
    refusal = rules.verify_refusal(actor.role, actor.id, actor.jurisdiction_code, ev.enterprise.region_code,
                                   ev.recorded_by_id, ev.is_verified, ev.withdrawn_at is not None)
    if refusal == "own_record":
        raise NotAllowed(_("You recorded this finding; another regulator must confirm it."))
    if refusal is not None:
        raise InvalidTransition(_("This finding is already confirmed, dismissed or withdrawn."))
    before = snapshot(ev)
    verify_evidence(ev, actor)
    record(actor, "evidence.confirm_finding", ev, before=before, after={**snapshot(ev), "reason": reason})
    return Status.CONFIRMED


def dismiss(actor: Any, ev: Evidence, reason: str) -> Status:
    """A finding that is not a behaviour to count (a device fault, a duplicate episode) is dismissed with its
    reason; it stays on record and never scores."""
    _check_scope(actor, ev)
    if not reason.strip():
        raise ValidationFailed({"reason": _("Say why the finding is dismissed (for example: a device fault).")})
    if status_of(ev) not in OPEN_STATUSES:
        raise InvalidTransition(_("This finding is already confirmed, dismissed or withdrawn."))
    before = snapshot(ev)
    ev.withdrawn_at, ev.withdrawn_reason = utcnow(), reason.strip()
    record(actor, "evidence.dismiss", ev, before=before)
    return Status.DISMISSED


@dataclass
class BulkResult:
    done: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)


def bulk(actor: Any, ids: list[int], action: str, reason: str) -> BulkResult:
    """Confirm or dismiss many findings with one reason. Each is checked on its own (jurisdiction, state, two
    people); the ones refused are listed with why and the others are done. Refuses everything on bad input."""
    errors = {}
    if action not in ("confirm", "dismiss"):
        errors["action"] = _("Choose to confirm or to dismiss the selected findings.")
    if not reason.strip():
        errors["reason"] = _("Give the reason for this decision; it is kept with every finding.")
    if not ids:
        errors["ids"] = _("Select at least one finding.")
    elif len(ids) > MAX_BULK:
        errors["ids"] = _("Select at most %(n)d findings at a time.", n=MAX_BULK)
    if errors:
        raise ValidationFailed(errors)
    result = BulkResult()
    found = {ev.id: ev for ev in db.session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids)))}
    for ev_id in dict.fromkeys(ids):
        ev = found.get(ev_id)
        if ev is None:
            result.refused.append((ev_id, _("No such finding.")))
            continue
        try:  # both refuse before they change anything
            status = confirm(actor, ev, reason.strip()) if action == "confirm" else dismiss(actor, ev, reason)
        except (NotAllowed, InvalidTransition) as exc:
            result.refused.append((ev_id, exc.message))
            continue
        result.done[status.value] = result.done.get(status.value, 0) + 1
    return result


def enterprise_findings(enterprise_id: int, f: Filters) -> Page:
    """The enterprise's own findings in every state (it sees them before the public ever could)."""
    return queue(None, f, enterprise_id=enterprise_id)
