"""The audit log is a hash chain: any edited or deleted record is reported by `audit verify`."""
from __future__ import annotations

import sqlalchemy as sa

from portal.audit import rules
from portal.audit.models import AuditRecord
from portal.audit.services import record, snapshot, verify
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


def test_an_untouched_chain_verifies(db):
    _three_records(db)
    assert verify() == []


def test_records_link_each_to_the_hash_before_it(db):
    _three_records(db)
    rows = db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.seq)).all()
    assert rows[0].prev_hash == rules.GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[1].before["legal_rep"] == "张三" and rows[1].after["legal_rep"] == "李四"


def test_an_edited_record_is_reported_with_its_number(db):
    _three_records(db)
    db.session.execute(sa.update(AuditRecord).where(AuditRecord.seq == 2).values(actor_label="someone-else"))
    db.session.commit()
    problems = verify()
    assert [p.seq for p in problems] == [2]
    assert "changed" in problems[0].message


def test_a_deleted_middle_record_is_reported(db):
    _three_records(db)
    db.session.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 2))
    db.session.commit()
    assert any("missing" in p.message for p in verify())


def test_a_deleted_last_record_is_reported_through_the_chain_head(db):
    _three_records(db)
    db.session.execute(sa.delete(AuditRecord).where(AuditRecord.seq == 3))
    db.session.commit()
    assert any("deleted from the end" in p.message for p in verify())


def test_audit_verify_command_exits_non_zero_on_tampering(db, runner):
    _three_records(db)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 records" in ok.output
    db.session.execute(sa.update(AuditRecord).where(AuditRecord.seq == 1).values(after={"name": "forged"}))
    db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "TAMPERED record 1" in bad.output


def test_diff_lists_only_changed_fields():
    assert rules.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == [("b", 2, 3), ("c", None, 4)]
