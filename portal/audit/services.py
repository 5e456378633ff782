"""Append-only audit trail. Every write to regulated data calls record() in the same transaction."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import inspect as sa_inspect

from portal.audit import rules
from portal.audit.models import AuditHead, AuditRecord
from portal.db import utcnow
from portal.extensions import db


def snapshot(obj: Any, exclude: tuple[str, ...] = ("created_at", "updated_at", "search_tokens", "password_hash")) -> dict:
    """The column values of a model instance, JSON-ready (used as `before`/`after`)."""
    mapper = sa_inspect(obj).mapper
    return {c.key: rules.jsonable(getattr(obj, c.key)) for c in mapper.column_attrs if c.key not in exclude}


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return f"{actor.username}#{actor.id}"


def record(actor: Any, action: str, obj: Any = None, *, before: dict | None = None, after: dict | None = None,
           object_type: str | None = None, object_id: Any = None, enterprise_id: int | None = None) -> AuditRecord:
    """Append one record to the chain (flushes; the caller's edge commits).

    When `obj` is given and `after` is not, the object's current column values are taken as `after`.
    """
    if obj is not None:
        db.session.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if after is None and not action.endswith("delete"):
            after = snapshot(obj)
        if enterprise_id is None:
            enterprise_id = getattr(obj, "enterprise_id", None) or (obj.id if object_type == "enterprises" else None)
    head = db.session.execute(sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=rules.GENESIS_HASH)
        db.session.add(head)
    at = utcnow()
    seq = head.seq + 1
    label = _actor_label(actor)
    before_j, after_j = rules.jsonable(before), rules.jsonable(after)
    digest = rules.record_hash(seq, at.isoformat(), label, action, object_type, str(object_id), before_j, after_j,
                               head.hash)
    entry = AuditRecord(seq=seq, at=at, actor_id=getattr(actor, "id", None), actor_label=label, action=action,
                        object_type=object_type, object_id=str(object_id), enterprise_id=enterprise_id,
                        before=before_j, after=after_j, prev_hash=head.hash, hash=digest)
    db.session.add(entry)
    head.seq, head.hash = seq, digest
    db.session.flush()
    return entry


def verify() -> list[rules.ChainProblem]:
    """Check the whole chain; streamed in batches so millions of records fit in memory."""
    head = db.session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, rules.GENESIS_HASH)

    def rows():
        stmt = sa.select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=2000)
        for r in db.session.scalars(stmt):
            yield {"seq": r.seq, "at": r.at.isoformat(), "actor_label": r.actor_label, "action": r.action,
                   "object_type": r.object_type, "object_id": r.object_id, "before": r.before, "after": r.after,
                   "prev_hash": r.prev_hash, "hash": r.hash}

    return rules.verify_chain(rows(), head_seq, head_hash)


def history(object_type: str, object_id: Any) -> list[AuditRecord]:
    stmt = (sa.select(AuditRecord).where(AuditRecord.object_type == object_type,
                                         AuditRecord.object_id == str(object_id)).order_by(AuditRecord.seq.desc()))
    return list(db.session.scalars(stmt))


def enterprise_history(enterprise_id: int, limit: int = 200) -> list[AuditRecord]:
    stmt = (sa.select(AuditRecord).where(AuditRecord.enterprise_id == enterprise_id)
            .order_by(AuditRecord.seq.desc()).limit(limit))
    return list(db.session.scalars(stmt))
