"""Migration 0006's data step (kept here so it is tested like other code): automatic evidence that was stored
already verified although no second person confirmed it becomes an unconfirmed finding again, and each affected
enterprise is re-graded (credit.services.recompute_enterprise, grade history reason REASON), audited per enterprise.

"No second person confirmed it": its source is one the portal fills by itself (FINDING_SOURCES) and it was verified
by nobody or by the very person who recorded it (an uploader, the complaint handler). A finding that two regulators
confirmed through the queue has verified_by != recorded_by and stays confirmed."""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

REASON = "findings-0006"
_SOURCES = ("monitoring", "disclosure", "complaint", "enterprise")
_REGULATOR_ROLES = ("regulator", "regulator_lead")


def _affected(conn) -> dict[int, list[int]]:
    ev = sa.table("evidence", sa.column("id"), sa.column("enterprise_id"), sa.column("source"),
                  sa.column("is_verified"), sa.column("verified_by_id"), sa.column("recorded_by_id"))
    stmt = sa.select(ev.c.enterprise_id, ev.c.id).where(
        ev.c.source.in_(_SOURCES), ev.c.is_verified.is_(True),
        sa.or_(ev.c.verified_by_id.is_(None), ev.c.verified_by_id == ev.c.recorded_by_id))
    by_enterprise: dict[int, list[int]] = defaultdict(list)
    for ent_id, ev_id in conn.execute(stmt):
        by_enterprise[ent_id].append(ev_id)
    return by_enterprise


def unconfirm_automatic_evidence(conn) -> dict[int, list[int]]:
    """Run inside the migration's transaction on `conn`; returns {enterprise_id: [evidence ids]} it changed."""
    by_enterprise = _affected(conn)
    if not by_enterprise:
        return {}
    ev = sa.table("evidence", sa.column("id"), sa.column("is_verified"), sa.column("verified_at"),
                  sa.column("verified_by_id"), sa.column("recorded_by_id"))
    users = sa.table("users", sa.column("id"), sa.column("role"))
    ids = [i for group in by_enterprise.values() for i in group]
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        conn.execute(sa.update(ev).where(ev.c.id.in_(chunk))
                     .values(is_verified=False, verified_at=None, verified_by_id=None))
        # An uploader or a job is not a regulator who recorded a finding: the finding waits to be taken up.
        conn.execute(sa.update(ev).where(ev.c.id.in_(chunk), ev.c.recorded_by_id.in_(
            sa.select(users.c.id).where(users.c.role.not_in(_REGULATOR_ROLES)))).values(recorded_by_id=None))
    _regrade(conn, by_enterprise)
    return by_enterprise


def _regrade(conn, by_enterprise: dict[int, list[int]]) -> None:
    """Audit and re-grade with the portal's own services, on the migration's connection."""
    from portal.audit.services import record
    from portal.credit import services
    from portal.extensions import db

    session = Session(bind=conn)
    previous = db.session.registry() if db.session.registry.has() else None
    db.session.registry.set(session)
    try:
        for ent_id, ev_ids in sorted(by_enterprise.items()):
            record("migration 0006", "evidence.unconfirm_automatic", object_type="enterprises", object_id=ent_id,
                   enterprise_id=ent_id, after={"evidence_ids": ev_ids, "reason": REASON})
            services.recompute_enterprise(ent_id, reason=REASON)
        session.flush()
    finally:
        session.close()
        if previous is not None:
            db.session.registry.set(previous)
        else:
            db.session.registry.clear()
