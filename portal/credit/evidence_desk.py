"""The regulator's evidence desk (DOMAIN §2.1, §2.6): every piece of credit evidence about enterprises in the
jurisdiction, filtered and paged on the server, with bulk confirmation or withdrawal. Each selected item is checked
on its own by the same services a single button calls; the refused ones are reported with why and the others are
done. Services flush; the view commits."""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask_babel import gettext as _

from portal.credit import rules
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db

PER_PAGE = 50
MAX_BULK = 200


class DeskStatus(enum.StrEnum):
    OPEN = "open"  # waiting for someone: unconfirmed, or a withdrawal awaiting the second regulator
    UNCONFIRMED = "unconfirmed"
    WITHDRAWAL = "withdrawal"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


STATUS_CHOICES = ("", *(s.value for s in DeskStatus))


def _status_clause(status: str):
    e = Evidence
    unconfirmed = sa.and_(e.is_verified.is_(False), e.withdrawn_at.is_(None))
    withdrawal = sa.and_(e.withdrawal_requested_by_id.is_not(None), e.withdrawn_at.is_(None))
    return {
        DeskStatus.OPEN: sa.or_(unconfirmed, withdrawal),
        DeskStatus.UNCONFIRMED: unconfirmed,
        DeskStatus.WITHDRAWAL: withdrawal,
        DeskStatus.CONFIRMED: sa.and_(e.is_verified.is_(True), e.withdrawn_at.is_(None)),
        DeskStatus.WITHDRAWN: e.withdrawn_at.is_not(None),
    }[DeskStatus(status)]


@dataclass
class DeskFilters:
    status: str = ""  # all states, unconfirmed first (the desk as it always opened)
    kind: str = ""
    source: str = ""
    uscc: str = ""
    page: int = 1


@dataclass
class DeskPage:
    items: list[Evidence]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def _select(jurisdiction: str | None, f: DeskFilters):
    stmt = (sa.select(Evidence).join(Enterprise, Enterprise.id == Evidence.enterprise_id)
            .where(Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True)))
    if f.status:
        stmt = stmt.where(_status_clause(f.status))
    if f.kind:
        stmt = stmt.where(Evidence.kind == EvidenceKind(f.kind))
    if f.source:
        stmt = stmt.where(Evidence.source == EvidenceSource(f.source))
    if f.uscc:
        stmt = stmt.where(Enterprise.uscc == f.uscc)
    return stmt


def desk_page(jurisdiction: str | None, f: DeskFilters) -> DeskPage:
    """One page (unconfirmed first, then the newest), the total, and counts by source under the other filters;
    the page's enterprises and attachments are loaded in two more queries, not one per row."""
    stmt = _select(jurisdiction, f)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, f.page), pages)
    order = (Evidence.is_verified, Evidence.withdrawn_at.is_not(None), Evidence.occurred_on.desc(), Evidence.id.desc())
    items = list(db.session.scalars(
        stmt.options(selectinload(Evidence.enterprise), selectinload(Evidence.attachments)).order_by(*order)
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    sub = _select(jurisdiction, DeskFilters(status=f.status, kind=f.kind, uscc=f.uscc)).with_only_columns(
        Evidence.source).subquery()
    counts = {str(getattr(s, "value", s)): n for s, n in db.session.execute(
        sa.select(sub.c.source, sa.func.count()).group_by(sub.c.source))}
    return DeskPage(items, total, page, pages, counts)


def refusals(actor: Any, ev: Evidence) -> dict[str, str | None]:
    return rules.evidence_action_refusals(
        actor.role, actor.id, actor.jurisdiction_code, ev.enterprise.region_code,
        recorded_by_id=ev.recorded_by_id, is_verified=ev.is_verified,
        is_withdrawn=ev.withdrawn_at is not None, withdrawal_requested_by_id=ev.withdrawal_requested_by_id)


@dataclass
class BulkResult:
    done: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def bulk(actor: Any, ids: list[int], action: str, reason: str) -> BulkResult:
    """Confirm, or withdraw (with one reason), each selected item through the single-item services; bad input
    refuses everything, a rule refuses only its item."""
    from portal.credit import services

    errors = {}
    if action not in ("confirm", "withdraw"):
        errors["action"] = _("Choose to confirm or to withdraw the selected evidence.")
    if action == "withdraw" and not reason.strip():
        errors["reason"] = _("Say why the evidence is withdrawn (for example: decision revoked).")
    if not ids:
        errors["ids"] = _("Select at least one record.")
    elif len(ids) > MAX_BULK:
        errors["ids"] = _("Select at most %(n)d records at a time.", n=MAX_BULK)
    if errors:
        raise ValidationFailed(errors)
    result = BulkResult()
    found = {ev.id: ev for ev in db.session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids)))}
    for ev_id in dict.fromkeys(ids):
        ev = found.get(ev_id)
        if ev is None or not rules.can_record_evidence(actor.role, actor.jurisdiction_code,
                                                       ev.enterprise.region_code):
            result.refused.append((ev_id, _("No such record in your jurisdiction.")))
            continue
        try:  # each service refuses before it changes anything
            if action == "confirm":
                services.confirm_evidence(actor, ev)
            else:
                services.withdraw_regulator_evidence(actor, ev, reason)
        except (NotAllowed, InvalidTransition, ValidationFailed) as exc:
            result.refused.append((ev_id, exc.message))
            continue
        result.done += 1
    return result
