"""Audit log: keyed hashes over every column, several chains, published heads, append-only tables (issue 20).

Revision ID: 0006_hardening
Revises: 0005
Create Date: 2026-12-07

Existing records are re-hashed with the audit key (AUDIT_KEY from instance/portal.cfg or PORTAL_AUDIT_KEY; run
`flask db upgrade` with the production key in place):
1. the old unkeyed chain is checked first; a record whose old hash does not match stops the migration with its
   number (re-signing a tampered log would launder it: restore it from a backup first);
2. every record keeps its number and joins chain "c00", in order; its new MAC covers every column and the key id;
3. the head of chain "c00" is written, `audit_head` is dropped, and the UPDATE/DELETE triggers are created last.
Downgrade puts every record back into one unkeyed chain ordered by time (seq renumbered) and drops the seals.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timezone

import sqlalchemy as sa
from alembic import op

revision = '0006_hardening'
down_revision = '0005'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
LEGACY_CHAIN = "c00"
BATCH = 2000

records = sa.table(
    "audit_records", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("chain", sa.String),
    sa.column("at", sa.DateTime(timezone=True)), sa.column("actor_id", sa.Integer), sa.column("actor_label", sa.String),
    sa.column("action", sa.String), sa.column("object_type", sa.String), sa.column("object_id", sa.String),
    sa.column("enterprise_id", sa.Integer), sa.column("before", sa.JSON), sa.column("after", sa.JSON),
    sa.column("prev_hash", sa.String), sa.column("key_id", sa.String), sa.column("hash", sa.String))


def _utc(value):
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _legacy_hash(r: dict, prev: str) -> str:
    body = json.dumps({"seq": r["seq"], "at": _utc(r["at"]).isoformat(), "actor": r["actor_label"],
                       "action": r["action"], "type": r["object_type"], "id": r["object_id"], "before": r["before"],
                       "after": r["after"], "prev": prev}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _batches(bind, order):
    last = None
    while True:
        stmt = sa.select(records).order_by(*order).limit(BATCH)
        if last is not None:
            stmt = stmt.where(sa.tuple_(*order) > sa.tuple_(*last))
        rows = [dict(r._mapping) for r in bind.execute(stmt)]
        if not rows:
            return
        yield rows
        last = [rows[-1][c.name] for c in order]


def upgrade():
    from flask import current_app

    from portal.audit import ddl, rules

    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    op.create_table('audit_chain_heads',
                    sa.Column('chain', sa.String(length=16), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chain_heads')))
    op.create_table('audit_seals',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('heads', sa.JSON(), nullable=False),
                    sa.Column('prev_digest', sa.String(length=64), nullable=False),
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('key_id', sa.String(length=16), nullable=False),
                    sa.Column('mac', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_seals')),
                    sa.UniqueConstraint('day', name=op.f('uq_audit_seals_day')),
                    sa.UniqueConstraint('digest', name=op.f('uq_audit_seals_digest')))

    bind = op.get_bind()
    keys = rules.parse_keys(current_app.config.get("AUDIT_KEY"))
    if not keys:
        raise RuntimeError("AUDIT_KEY is not set: existing audit records cannot be re-signed")
    kid, secret = next(iter(keys.items()))
    old_prev, new_prev, expected = GENESIS, GENESIS, 1
    for rows in _batches(bind, [records.c.seq]):
        updates = []
        for r in rows:
            if r["seq"] != expected or r["prev_hash"] != old_prev or _legacy_hash(r, old_prev) != r["hash"]:
                raise RuntimeError(f"audit record {r['seq']} fails the old chain check: restore the audit log from a "
                                   "backup before migrating (re-signing would hide the change)")
            old_prev, expected = r["hash"], r["seq"] + 1
            fields = {**r, "at": _utc(r["at"]), "chain": LEGACY_CHAIN, "prev_hash": new_prev, "key_id": kid}
            new_prev = rules.record_hash(secret, fields)
            updates.append({"rid": r["id"], "chain": LEGACY_CHAIN, "prev_hash": fields["prev_hash"], "key_id": kid,
                            "hash": new_prev})
        bind.execute(sa.update(records).where(records.c.id == sa.bindparam("rid"))
                     .values(chain=sa.bindparam("chain"), prev_hash=sa.bindparam("prev_hash"),
                             key_id=sa.bindparam("key_id"), hash=sa.bindparam("hash")), updates)
    if expected > 1:
        bind.execute(sa.text("INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (:c, :s, :h)"),
                     {"c": LEGACY_CHAIN, "s": expected - 1, "h": new_prev})

    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.alter_column('chain', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('key_id', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_constraint('uq_audit_records_seq', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_audit_records_chain_seq'), ['chain', 'seq'])
        batch_op.create_index(batch_op.f('ix_audit_records_action'), ['action'], unique=False)
    op.drop_table('audit_head')
    ddl.create(bind)


def downgrade():
    from portal.audit import ddl

    bind = op.get_bind()
    ddl.drop(bind)
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {ddl.FUNCTION}()")
    op.create_table('audit_head',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')))
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_records_action'))
        batch_op.drop_constraint(batch_op.f('uq_audit_records_chain_seq'), type_='unique')
    # One unkeyed chain again, ordered by time; numbers are given after the old ones are moved out of the way.
    bind.execute(sa.update(records).values(seq=-records.c.id))
    prev, seq = GENESIS, 0
    for rows in _batches(bind, [records.c.at, records.c.id]):
        updates = []
        for r in rows:
            seq += 1
            r = {**r, "seq": seq}
            prev_hash, prev = prev, _legacy_hash(r, prev)
            updates.append({"rid": r["id"], "seq": seq, "prev_hash": prev_hash, "hash": prev})
        bind.execute(sa.update(records).where(records.c.id == sa.bindparam("rid"))
                     .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")),
                     updates)
    if seq:
        bind.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :s, :h)"), {"s": seq, "h": prev})
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_records_seq'), ['seq'])
        batch_op.drop_column('key_id')
        batch_op.drop_column('chain')
    op.drop_table('audit_seals')
    op.drop_table('audit_chain_heads')
