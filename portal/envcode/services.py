"""Enterprise environmental code use cases: gather each enterprise's facts, recompute and store its code (with a
history row whenever a cause changes), and read it for the public pages. Services flush; the edge commits (the
before-commit hook in envcode.events, the view, or the job runner)."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Iterable

import sqlalchemy as sa
from flask import current_app

from portal.core.clock import china_today
from portal.credit.models import CreditListEntry, CreditStanding, Evidence, EvidenceKind, ListKind, ListStatus
from portal.db import utcnow
from portal.disclosures.models import Obligation, ObligationStatus
from portal.envcode import rules
from portal.envcode.models import EnvCode, EnvCodeChange
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.monitoring.models import ExceedanceIncident, IncidentState

log = logging.getLogger(__name__)


def code_rules() -> rules.CodeRules:
    """DEFAULT_RULES with the ENVCODE_RULES setting over them (a malformed setting fails loudly at first use)."""
    return rules.parse_rules(current_app.config.get("ENVCODE_RULES") or {})


def overdue_filter(today: date):
    """Past due and still not filed: MISSING, or PENDING whose deadline passed before the nightly job marked it.
    A LATE obligation was filed (late): it is closed, and the credit grade already carries the late filing."""
    return sa.and_(Obligation.submitted_at.is_(None),
                   sa.or_(Obligation.status == ObligationStatus.MISSING,
                          sa.and_(Obligation.status == ObligationStatus.PENDING, Obligation.due_on < today)))


def confirmed_incident():
    """An incident moves the code only once its exceedance finding was confirmed by regulators (and not withdrawn):
    the code is a public verdict, and no public verdict moves on data that no person confirmed."""
    ref = sa.literal("exceedance:") + sa.cast(ExceedanceIncident.id, sa.String)
    return sa.exists().where(Evidence.source_ref == ref, Evidence.kind == EvidenceKind.MONITORING_EXCEEDANCE,
                             Evidence.is_verified.is_(True), Evidence.withdrawn_at.is_(None))


def facts_for(enterprise_ids: list[int], today: date | None = None) -> dict[int, rules.Facts]:
    """The four causes for a batch of enterprises, in four grouped queries."""
    today = today or china_today()
    ids = list(enterprise_ids)
    grades = dict(db.session.execute(sa.select(CreditStanding.enterprise_id, CreditStanding.grade)
                                     .where(CreditStanding.enterprise_id.in_(ids))).all())
    listed: dict[int, set] = {}
    for ent_id, kind in db.session.execute(sa.select(CreditListEntry.enterprise_id, CreditListEntry.kind).where(
            CreditListEntry.enterprise_id.in_(ids), CreditListEntry.status == ListStatus.LISTED)):
        listed.setdefault(ent_id, set()).add(kind)
    incidents = Counter(dict(db.session.execute(
        sa.select(ExceedanceIncident.enterprise_id, sa.func.count()).where(
            ExceedanceIncident.enterprise_id.in_(ids), ExceedanceIncident.state == IncidentState.OPEN,
            confirmed_incident())
        .group_by(ExceedanceIncident.enterprise_id)).all()))
    overdue = Counter(dict(db.session.execute(
        sa.select(Obligation.enterprise_id, sa.func.count()).where(Obligation.enterprise_id.in_(ids),
                                                                    overdue_filter(today))
        .group_by(Obligation.enterprise_id)).all()))
    return {i: rules.Facts(grade=grades.get(i), black_listed=ListKind.BLACK in listed.get(i, ()),
                           white_listed=ListKind.WHITE in listed.get(i, ()), open_incidents=incidents[i],
                           overdue_obligations=overdue[i]) for i in ids}


CHUNK = 5000  # enterprises per round of IN queries (PostgreSQL takes at most 65,535 bind parameters)


def recompute(enterprise_ids: Iterable[int], today: date | None = None) -> int:
    """Recompute and store the codes of these enterprises; a history row is added for each whose colour or causes
    changed. Returns how many changed. Enterprises that no longer exist are skipped. Works in chunks, so a full
    credit re-evaluation (150,000 enterprises touched in one commit) is handled like a single change."""
    ids = sorted(set(enterprise_ids))
    return sum(_recompute_chunk(ids[i:i + CHUNK], today) for i in range(0, len(ids), CHUNK))


def _recompute_chunk(ids: list[int], today: date | None) -> int:
    if not ids:
        return 0
    code_rules_ = code_rules()
    existing_ids = set(db.session.scalars(sa.select(Enterprise.id).where(Enterprise.id.in_(ids))))
    ids = [i for i in ids if i in existing_ids]
    facts = facts_for(ids, today)
    stored = {c.enterprise_id: c for c in db.session.scalars(sa.select(EnvCode).where(EnvCode.enterprise_id.in_(ids)))}
    now, changed = utcnow(), 0
    for ent_id in ids:
        verdict = rules.evaluate(code_rules_, facts[ent_id])
        code = stored.get(ent_id)
        previous = code.colour if code is not None else None
        if code is None:
            code = EnvCode(enterprise_id=ent_id, colour=verdict.colour, reasons=verdict.reasons_json(), since=now,
                           computed_at=now)
            db.session.add(code)
        code.computed_at = now
        if code is not stored.get(ent_id) or rules.causes_changed(code.colour, code.reasons, verdict):
            if previous is not None and previous != verdict.colour:
                code.since = now
            code.colour, code.reasons = verdict.colour, verdict.reasons_json()
            db.session.add(EnvCodeChange(enterprise_id=ent_id, colour=verdict.colour, previous_colour=previous,
                                         reasons=verdict.reasons_json(), changed_at=now))
            changed += 1
    db.session.flush()
    return changed


def refresh_all(batch: int = 2000) -> dict[str, int]:
    """Job (backstop, every few minutes): recompute every enterprise's code in batches, writing only what changed.
    Catches what the before-commit hook cannot see: a PENDING obligation whose deadline passed, Core writes that
    name no enterprise, and enterprises that have no code yet."""
    from portal.envcode import events

    last_id, seen, changed = 0, 0, 0
    with events.paused(db.session):
        while True:
            ids = list(db.session.scalars(sa.select(Enterprise.id).where(Enterprise.id > last_id)
                                          .order_by(Enterprise.id).limit(batch)))
            if not ids:
                break
            changed += recompute(ids)
            seen += len(ids)
            last_id = ids[-1]
            db.session.commit()
    return {"enterprises": seen, "changed": changed}


# --- reading ------------------------------------------------------------------------------------------------------

@dataclass
class CodeView:
    code: EnvCode
    verdict: rules.Verdict
    history: list[EnvCodeChange]


def _reasons(data: list[dict]) -> tuple[rules.Reason, ...]:
    return tuple(rules.Reason(code=r["code"], colour=r["colour"], value=r.get("value")) for r in data or [])


def code_view(ent: Enterprise, history_limit: int = 50) -> CodeView:
    """The stored code (computed and stored now if the enterprise has none yet; the caller commits)."""
    code = db.session.scalar(sa.select(EnvCode).where(EnvCode.enterprise_id == ent.id))
    if code is None:
        recompute([ent.id])
        code = db.session.scalar(sa.select(EnvCode).where(EnvCode.enterprise_id == ent.id))
    history = list(db.session.scalars(sa.select(EnvCodeChange).where(EnvCodeChange.enterprise_id == ent.id)
                                      .order_by(EnvCodeChange.changed_at.desc(), EnvCodeChange.id.desc())
                                      .limit(history_limit)))
    return CodeView(code, rules.Verdict(code.colour, _reasons(code.reasons)), history)
