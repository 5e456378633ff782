"""The audit log: keyed hashes over every column, several chains, append-only tables, `audit verify`."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit import rules
from portal.audit.models import AuditChainHead, AuditRecord, AuditSeal
from portal.audit.services import publish_heads, record, snapshot, verify
from tests.audit.helpers import tamper
from tests.conftest import is_postgres
from tests.factories import make_enterprise, make_user


def _three_records(db):
    actor = make_user(username="auditor")
    ent = make_enterprise(name="淮安审计测试有限公司")
    before = snapshot(ent)
    record(actor, "enterprise.create", ent)
    ent.legal_rep = "李四"
    record(actor, "enterprise.update", ent, before=before)
    record(actor, "enterprise.update", ent, before=snapshot(ent))
    db.session.commit()
    return actor, ent


def _rows(db):
    return db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.chain, AuditRecord.seq)).all()


def test_an_untouched_chain_verifies(db):
    _three_records(db)
    assert verify() == []


def test_records_link_each_to_the_hash_before_it(db):
    _three_records(db)
    rows = _rows(db)
    assert [r.seq for r in rows] == [1, 2, 3] and len({r.chain for r in rows}) == 1
    assert rows[0].prev_hash == rules.GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[1].before["legal_rep"] == "张三" and rows[1].after["legal_rep"] == "李四"


@pytest.mark.parametrize("column,value", [
    ("actor_label", "someone-else#9"), ("actor_id", None), ("action", "enterprise.delete"),
    ("object_type", "permits"), ("object_id", "77"), ("enterprise_id", 424242), ("before", {"name": "x"}),
    ("after", {"legal_rep": "王五"}), ("at", "2020-01-01 00:00:00"),
])
def test_changing_any_column_of_a_record_is_reported_with_its_chain_and_number(db, column, value):
    _three_records(db)
    chain = _rows(db)[1].chain
    values = {column: sa.text(f"'{value}'")} if column == "at" else {column: value}
    tamper(sa.update(AuditRecord).where(AuditRecord.chain == chain, AuditRecord.seq == 2).values(**values))
    problems = verify()
    assert [(p.chain, p.seq) for p in problems] == [(chain, 2)]
    assert "MAC mismatch" in problems[0].message


def test_a_record_moved_into_another_enterprises_history_is_caught(db):
    _, ent = _three_records(db)
    tamper(sa.update(AuditRecord).where(AuditRecord.seq == 3).values(enterprise_id=ent.id + 1))
    assert [p.seq for p in verify()] == [3]


def test_rewriting_the_whole_chain_without_the_key_is_caught(db, app):
    _three_records(db)
    forged_key = "guessed-key"
    rows = _rows(db)
    prev = rules.GENESIS_HASH
    statements = []
    for r in rows:
        fields = {f: getattr(r, f) for f in rules.RECORD_FIELDS}
        fields.update(prev_hash=prev, actor_label="forger#1")
        h = rules.record_hash(forged_key, fields)
        statements.append(sa.update(AuditRecord).where(AuditRecord.id == r.id)
                          .values(actor_label="forger#1", prev_hash=prev, hash=h))
        prev = h
    statements.append(sa.update(AuditChainHead).values(hash=prev))
    tamper(*statements)
    problems = verify()
    assert problems and (problems[0].chain, problems[0].seq) == (rows[0].chain, 1)


def test_the_database_refuses_update_and_delete_of_audit_records_and_seals(db):
    _three_records(db)
    publish_heads()
    db.session.commit()
    for stmt in (sa.update(AuditRecord).values(actor_label="x"), sa.delete(AuditRecord),
                 sa.update(AuditSeal).values(mac="0" * 64), sa.delete(AuditSeal)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(stmt)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)) == 3


def test_a_deleted_middle_record_is_reported(db):
    _three_records(db)
    tamper(sa.delete(AuditRecord).where(AuditRecord.seq == 2))
    assert any("missing" in p.message for p in verify())


def test_a_deleted_last_record_is_reported_through_the_chain_head(db):
    _three_records(db)
    tamper(sa.delete(AuditRecord).where(AuditRecord.seq == 3))
    assert any("deleted from the end" in p.message for p in verify())


def test_a_record_signed_with_a_key_no_longer_configured_is_reported_and_rotation_keeps_old_keys(db, app,
                                                                                               monkeypatch):
    _three_records(db)
    monkeypatch.setitem(app.config, "AUDIT_KEY", "new-key")
    assert all("not configured" in p.message for p in verify()) and len(verify()) == 3
    monkeypatch.setitem(app.config, "AUDIT_KEY", "new-key, test-audit-key")
    assert verify() == []
    ent = make_enterprise(name="轮换后公司")
    record("system", "enterprise.create", ent)
    db.session.commit()
    newest = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.enterprise_id == ent.id))
    assert newest.key_id == rules.key_id("new-key") and verify() == []


def test_transactions_on_different_enterprises_write_to_different_chains_each_transaction_to_one(db):
    a = make_enterprise(name="甲公司")
    b = make_enterprise(name="乙公司")
    db.session.commit()
    record("system", "enterprise.update", a)
    record("system", "enterprise.update", b)  # same transaction: joins the chain of the first record
    db.session.commit()
    record("system", "enterprise.update", b)
    db.session.commit()
    rows = _rows(db)
    by_ent = {(r.enterprise_id, r.chain, r.seq) for r in rows}
    chain_a, chain_b = f"c{a.id % 16:02d}", f"c{b.id % 16:02d}"
    assert by_ent == {(a.id, chain_a, 1), (b.id, chain_a, 2), (b.id, chain_b, 1)}
    heads = {h.chain: h.seq for h in db.session.scalars(sa.select(AuditChainHead))}
    assert heads == {chain_a: 2, chain_b: 1} and verify() == []


def test_a_writer_locks_only_its_own_chain(db, app):
    if not is_postgres():
        pytest.skip("SQLite has one writer at a time by design")
    a = make_enterprise(name="甲公司")
    b = make_enterprise(name="乙公司")
    for ent in (a, b):
        record("system", "enterprise.update", ent)
        db.session.commit()
    record("system", "enterprise.update", a)  # holds chain a's head row until commit
    chain_a, chain_b = f"c{a.id % 16:02d}", f"c{b.id % 16:02d}"
    with db.engine.connect() as other:
        probe = "SELECT seq FROM audit_chain_heads WHERE chain = %s FOR UPDATE NOWAIT"
        assert other.exec_driver_sql(probe, (chain_b,)).scalar() == 1
        other.rollback()
        with pytest.raises(sa.exc.OperationalError, match="could not obtain lock"):
            other.exec_driver_sql(probe, (chain_a,))
    db.session.commit()


def test_audit_verify_command_names_the_first_bad_record(db, runner):
    _three_records(db)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 records in 1 chain(s)" in ok.output
    chain = _rows(db)[0].chain
    tamper(sa.update(AuditRecord).where(AuditRecord.seq >= 2).values(after={"name": "forged"}))
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"FIRST BAD: chain {chain} record 2" in bad.output and f"TAMPERED chain {chain} record 3" in bad.output


def test_diff_lists_only_changed_fields():
    assert rules.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == [("b", 2, 3), ("c", None, 4)]
