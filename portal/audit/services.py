"""Append-only audit trail. Every write to regulated data calls record() in the same transaction.

No global lock: a transaction's records all go to one of AUDIT_CHAINS independent chains, chosen by the shard key
of its first audited object (the enterprise id, else a hash of the object), and lock only that chain's head row.
Two transactions on different enterprises usually write in parallel, and a transaction never holds two chain
locks, so writers cannot deadlock on the audit log.
"""
from __future__ import annotations

import weakref
import zlib
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import inspect as sa_inspect

from portal.audit import rules
from portal.audit.models import AuditChainHead, AuditRecord, AuditSeal
from portal.db import utcnow
from portal.extensions import db

def keys() -> dict[str, str]:
    """{key_id: secret} from AUDIT_KEY (instance/portal.cfg or PORTAL_AUDIT_KEY); the first signs."""
    found = rules.parse_keys(current_app.config.get("AUDIT_KEY"))
    if not found:
        raise RuntimeError("AUDIT_KEY is not set: the audit log cannot be signed")
    return found


def signing_key() -> tuple[str, str]:
    return next(iter(keys().items()))


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


def chain_for(enterprise_id: int | None, object_type: str, object_id: str) -> str:
    """The chain a transaction's records go to, from its first record's shard key."""
    count = max(1, int(current_app.config.get("AUDIT_CHAINS", 16)))
    shard = enterprise_id if enterprise_id is not None else zlib.crc32(f"{object_type}:{object_id}".encode())
    return f"c{shard % count:02d}"


def _transaction_chain(enterprise_id: int | None, object_type: str, object_id: str) -> str:
    session = db.session()
    tx = session.get_transaction()
    held = session.info.get("audit_chain")
    if held is not None and tx is not None and held[0]() is tx:
        return held[1]
    chain = chain_for(enterprise_id, object_type, object_id)
    if tx is not None:
        session.info["audit_chain"] = (weakref.ref(tx), chain)
    return chain


def _lock_head(chain: str) -> AuditChainHead:
    """Create the chain's head row if it is new (race-free: insert-or-ignore), then lock it."""
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (sa.dialects.postgresql.insert if dialect == "postgresql" else sa.dialects.sqlite.insert)
        db.session.execute(insert(AuditChainHead).values(chain=chain, seq=0, hash=rules.GENESIS_HASH)
                           .on_conflict_do_nothing(index_elements=["chain"]))
    elif db.session.get(AuditChainHead, chain) is None:
        db.session.add(AuditChainHead(chain=chain, seq=0, hash=rules.GENESIS_HASH))
        db.session.flush()
    return db.session.execute(sa.select(AuditChainHead).where(AuditChainHead.chain == chain)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


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
    kid, secret = signing_key()
    chain = _transaction_chain(enterprise_id, str(object_type), str(object_id))
    head = _lock_head(chain)
    fields = {"chain": chain, "seq": head.seq + 1, "at": utcnow(), "actor_id": getattr(actor, "id", None),
              "actor_label": _actor_label(actor), "action": action, "object_type": object_type,
              "object_id": str(object_id), "enterprise_id": enterprise_id, "before": rules.jsonable(before),
              "after": rules.jsonable(after), "prev_hash": head.hash, "key_id": kid}
    fields["hash"] = rules.record_hash(secret, fields)
    entry = AuditRecord(**fields)
    db.session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    db.session.flush()
    return entry


def _rows(chain: str):
    stmt = (sa.select(AuditRecord).where(AuditRecord.chain == chain).order_by(AuditRecord.seq)
            .execution_options(yield_per=2000))
    for r in db.session.scalars(stmt):
        row = {f: getattr(r, f) for f in rules.RECORD_FIELDS}
        row["hash"] = r.hash
        yield row


def seals() -> list[AuditSeal]:
    return list(db.session.scalars(sa.select(AuditSeal).order_by(AuditSeal.day)))


def verify() -> list[rules.ChainProblem]:
    """Check every chain (keys, MACs, links, heads) and every published seal; records streamed in batches."""
    configured = keys()
    published = seals()
    wanted = {(c, v[0]) for s in published for c, v in s.heads.items()}
    kept: dict[tuple[str, int], str] = {}
    heads = {h.chain: (h.seq, h.hash) for h in db.session.scalars(sa.select(AuditChainHead))}
    chains = sorted(set(heads) | set(db.session.scalars(sa.select(AuditRecord.chain).distinct())))
    problems: list[rules.ChainProblem] = []
    for chain in chains:
        found, hashes = rules.verify_chain(chain, _rows(chain), configured, heads.get(chain))
        problems += found
        kept.update({(chain, seq): h for seq, h in hashes.items() if (chain, seq) in wanted})
        hashes.clear()
    problems += rules.verify_seals(
        ({"day": s.day, "heads": s.heads, "prev_digest": s.prev_digest, "digest": s.digest, "key_id": s.key_id,
          "mac": s.mac} for s in published), configured, lambda c, q: kept.get((c, q)))
    return problems


def publish_heads(day=None) -> AuditSeal | None:
    """Seal every chain's current head for `day` (today, Asia/Shanghai, by default). Idempotent: one seal a day."""
    from portal.core.clock import china_today

    day = day or china_today()
    if db.session.scalar(sa.select(AuditSeal.id).where(AuditSeal.day == day)) is not None:
        return None
    heads = {h.chain: [h.seq, h.hash] for h in db.session.scalars(sa.select(AuditChainHead).order_by(
        AuditChainHead.chain)) if h.seq > 0}
    last = db.session.scalar(sa.select(AuditSeal).order_by(AuditSeal.day.desc()).limit(1))
    prev = last.digest if last else rules.GENESIS_HASH
    kid, secret = signing_key()
    seal = AuditSeal(day=day, heads=heads, prev_digest=prev, digest=rules.seal_digest(day, heads, prev),
                     key_id=kid, mac=rules.mac(secret, rules.seal_payload(day, heads, prev)))
    db.session.add(seal)
    db.session.flush()
    return seal


def publish_heads_job() -> str:
    """The daily job: seal today's heads and commit."""
    seal = publish_heads()
    db.session.commit()
    return f"sealed {len(seal.heads)} chain(s), digest {seal.digest}" if seal else "already sealed today"


def history(object_type: str, object_id: Any) -> list[AuditRecord]:
    stmt = (sa.select(AuditRecord).where(AuditRecord.object_type == object_type,
                                         AuditRecord.object_id == str(object_id))
            .order_by(AuditRecord.at.desc(), AuditRecord.id.desc()))
    return list(db.session.scalars(stmt))


def enterprise_history(enterprise_id: int, limit: int = 200) -> list[AuditRecord]:
    stmt = (sa.select(AuditRecord).where(AuditRecord.enterprise_id == enterprise_id)
            .order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))
