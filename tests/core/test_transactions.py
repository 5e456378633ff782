"""commit_retrying: a unit of work PostgreSQL aborted as a deadlock victim runs again from a clean session;
anything else is raised at once, and nothing of a failed attempt is kept."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.audit.models import AuditRecord
from portal.audit.services import record
from portal.core.transactions import commit_retrying, retry_reason


class _DriverError(Exception):
    def __init__(self, sqlstate: str | None = None, pgcode: str | None = None):
        super().__init__("driver error")
        self.sqlstate, self.pgcode = sqlstate, pgcode


def _wrapped(sqlstate=None, pgcode=None, cls=OperationalError):
    return cls("INSERT ...", {}, _DriverError(sqlstate, pgcode))


def _audit_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))


def test_the_reasons_to_run_again_are_deadlock_and_serialization_failure_only():
    assert retry_reason(_wrapped("40P01")) == "deadlock"
    assert retry_reason(_wrapped(pgcode="40001")) == "serialization failure"  # psycopg2 names it pgcode
    assert retry_reason(_wrapped("23505", cls=IntegrityError)) is None
    assert retry_reason(_wrapped("08006")) is None  # the connection is gone: not a retry here
    assert retry_reason(_wrapped()) is None
    assert retry_reason(ValueError("40P01")) is None


def test_a_deadlock_victim_runs_again_and_keeps_only_the_last_attempt(db, caplog):
    calls = []

    def work():
        calls.append(1)
        record(None, "test.retry", object_type="test", object_id=1, after={"attempt": len(calls)})
        db.session.flush()
        if len(calls) == 1:
            raise _wrapped("40P01")
        return "stored"

    assert commit_retrying(work, what="test work") == "stored"
    assert len(calls) == 2
    rows = db.session.scalars(sa.select(AuditRecord)).all()
    assert [r.after for r in rows] == [{"attempt": 2}]  # the first attempt was rolled back
    assert "test work aborted by the database (deadlock), attempt 1 of 3" in caplog.text


def test_other_database_errors_are_raised_at_once_after_a_rollback(db):
    calls = []

    def work():
        calls.append(1)
        record(None, "test.retry", object_type="test", object_id=1)
        db.session.flush()
        raise _wrapped("23505", cls=IntegrityError)

    with pytest.raises(IntegrityError):
        commit_retrying(work)
    assert len(calls) == 1
    assert _audit_count(db) == 0


def test_the_last_deadlock_is_raised_when_the_attempts_are_spent(db, monkeypatch):
    monkeypatch.setattr("portal.core.transactions.time.sleep", lambda s: None)
    calls = []

    def work():
        calls.append(1)
        raise _wrapped("40P01")

    with pytest.raises(OperationalError):
        commit_retrying(work, attempts=4)
    assert len(calls) == 4
