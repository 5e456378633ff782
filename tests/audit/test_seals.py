"""Published heads: a daily seal of every chain's head, a public page and Atom feed, checked by `audit verify`."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.audit import rules
from portal.audit.models import AuditChainHead, AuditRecord, AuditSeal
from portal.audit.services import publish_heads, record, signing_key, verify
from portal.jobs.registry import JOBS
from tests.audit.helpers import tamper
from tests.factories import make_enterprise


def _records_on_two_chains(db):
    a, b = make_enterprise(name="甲公司"), make_enterprise(name="乙公司")
    db.session.commit()
    for ent in (a, b, a):
        record("system", "enterprise.update", ent)
        db.session.commit()
    return a, b


def test_a_seal_names_every_chains_head_and_links_to_the_seal_before(db):
    _records_on_two_chains(db)
    first = publish_heads(date(2026, 12, 1))
    db.session.commit()
    heads = {h.chain: [h.seq, h.hash] for h in db.session.scalars(sa.select(AuditChainHead))}
    assert first.heads == heads and len(heads) == 2 and first.prev_digest == rules.GENESIS_HASH
    assert first.digest == rules.seal_digest("2026-12-01", heads, rules.GENESIS_HASH)
    assert publish_heads(date(2026, 12, 1)) is None  # one seal a day
    second = publish_heads(date(2026, 12, 2))
    db.session.commit()
    assert second.prev_digest == first.digest and verify() == []


def test_the_job_is_registered_daily_and_is_idempotent(db, runner):
    assert JOBS["audit-publish-heads"].func.__name__ == "publish_heads_job"
    _records_on_two_chains(db)
    assert "sealed 2 chain(s)" in runner.invoke(args=["audit", "publish-heads"]).output
    assert "already sealed today" in runner.invoke(args=["audit", "publish-heads"]).output


def test_an_insider_with_the_key_who_rewrites_sealed_history_is_caught_by_the_published_heads(db):
    a, _ = _records_on_two_chains(db)
    publish_heads(date(2026, 12, 1))
    db.session.commit()
    chain = f"c{a.id % 16:02d}"
    kid, secret = signing_key()
    rows = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.chain == chain)
                              .order_by(AuditRecord.seq)).all()
    prev, statements = rules.GENESIS_HASH, []
    for r in rows:  # a perfect re-signing with the real key: links, MACs and the head row all agree
        fields = {f: getattr(r, f) for f in rules.RECORD_FIELDS}
        fields.update(prev_hash=prev, actor_label="someone-else")
        h = rules.record_hash(secret, fields)
        statements.append(sa.update(AuditRecord).where(AuditRecord.id == r.id)
                          .values(actor_label="someone-else", prev_hash=prev, hash=h))
        prev = h
    statements.append(sa.update(AuditChainHead).where(AuditChainHead.chain == chain).values(hash=prev))
    tamper(*statements)
    problems = verify()
    assert [(p.chain, p.seq) for p in problems] == [(chain, 2)]
    assert "published on 2026-12-01" in problems[0].message and "rewritten" in problems[0].message


def test_a_changed_seal_is_reported(db):
    _records_on_two_chains(db)
    seal = publish_heads(date(2026, 12, 1))
    db.session.commit()
    tamper(sa.update(AuditSeal).where(AuditSeal.id == seal.id).values(heads={}))
    assert any("changed after it was published" in p.message for p in verify())


def test_the_public_page_and_atom_feed_show_the_seals(db, client):
    _records_on_two_chains(db)
    seal = publish_heads(date(2026, 12, 1))
    db.session.commit()
    page = client.get("/audit/heads")
    assert page.status_code == 200 and seal.digest in page.get_data(as_text=True)
    feed = client.get("/audit/heads.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    body = feed.get_data(as_text=True)
    assert seal.digest in body and all(h[1] in body for h in seal.heads.values())


def test_the_public_page_without_seals(db, client):
    assert client.get("/audit/heads").status_code == 200
    assert client.get("/audit/heads.atom").status_code == 200
