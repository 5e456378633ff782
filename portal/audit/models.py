from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import utcnow
from portal.extensions import db


class AuditRecord(db.Model):
    """One write to regulated data (or one view of a reporter's identity). Append-only: the database refuses UPDATE
    and DELETE (portal/audit/ddl.py). Records form several independent chains; within a chain each record names the
    keyed hash (HMAC) of the one before it, and its own hash covers every column (rules.RECORD_FIELDS)."""

    __tablename__ = "audit_records"
    __table_args__ = (sa.Index("ix_audit_records_object", "object_type", "object_id"),
                      sa.UniqueConstraint("chain", "seq"))

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(sa.String(16))
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    enterprise_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    key_id: Mapped[str] = mapped_column(sa.String(16))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditChainHead(db.Model):
    """One row per chain: its last sequence number and hash. A writer locks only its chain's row (no global lock);
    `audit verify` compares it with the last record to notice records deleted from the end."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditSeal(db.Model):
    """The heads of all chains published together once a day (page /audit/heads and its Atom feed). Seals link by
    public SHA-256 digests; `mac` is the keyed signature. Append-only like the records."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    heads: Mapped[dict] = mapped_column(sa.JSON)  # {chain: [seq, hash]}
    prev_digest: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_id: Mapped[str] = mapped_column(sa.String(16))
    mac: Mapped[str] = mapped_column(sa.String(64))


from portal.audit import ddl as _ddl  # noqa: E402  (the append-only triggers follow create_all)

_ddl.install(db.metadata)
