"""Migration 0006 re-signs an existing unkeyed audit chain with the key, and refuses a tampered one."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from portal import create_app
from portal.config import TestConfig
from tests.test_migrations import _alembic_config, empty_database_url  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def request_ctx():  # the package conftest's request context belongs to the suite's app, not the one made here
    yield


def _legacy(seq, at, prev, label="admin#1"):
    body = {"seq": seq, "at": at.isoformat(), "actor": label, "action": "enterprise.update", "type": "enterprises",
            "id": "1", "before": None, "after": {"n": seq}, "prev": prev}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _legacy_rows(conn, count, tamper_seq=None):
    prev = "0" * 64
    for seq in range(1, count + 1):
        at = datetime(2026, 11, seq, 8, 0, tzinfo=timezone.utc)
        h = _legacy(seq, at, prev)
        conn.execute(sa.text(
            "INSERT INTO audit_records (seq, at, actor_label, action, object_type, object_id, enterprise_id, after, "
            "prev_hash, hash) VALUES (:seq, :at, :label, 'enterprise.update', 'enterprises', '1', 1, :after, :prev, "
            ":h)"), {"seq": seq, "at": at, "label": "forged#2" if seq == tamper_seq else "admin#1",
                     "after": json.dumps({"n": seq}), "prev": prev, "h": h})
        prev = h
    conn.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :s, :h)"), {"s": count, "h": prev})


def _app(url):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return create_app({**settings, "SQLALCHEMY_DATABASE_URI": url})


def test_existing_records_are_re_signed_into_one_chain_and_verify(empty_database_url):  # noqa: F811
    app = _app(empty_database_url)
    with app.app_context(), app.test_request_context():
        from portal.audit.services import verify
        from portal.extensions import db

        cfg = _alembic_config()
        command.upgrade(cfg, "0005")
        with db.engine.begin() as conn:
            _legacy_rows(conn, 4)
        command.upgrade(cfg, "head")
        assert verify() == []
        rows = db.session.execute(sa.text("SELECT chain, seq, key_id FROM audit_records ORDER BY seq")).all()
        assert [(c, s) for c, s, _ in rows] == [("c00", 1), ("c00", 2), ("c00", 3), ("c00", 4)]
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text("DELETE FROM audit_records"))
        db.session.rollback()
        db.session.remove()
        command.downgrade(cfg, "0005")
        with db.engine.connect() as conn:
            got = conn.execute(sa.text("SELECT seq, prev_hash, hash FROM audit_records ORDER BY seq")).all()
        prev = "0" * 64
        for seq, p, h in got:
            assert p == prev and h == _legacy(seq, datetime(2026, 11, seq, 8, 0, tzinfo=timezone.utc), prev)
            prev = h
        command.downgrade(cfg, "base")
        db.engine.dispose()


def test_a_tampered_legacy_chain_stops_the_migration_with_the_record_number(empty_database_url):  # noqa: F811
    app = _app(empty_database_url)
    with app.app_context():
        from portal.extensions import db

        cfg = _alembic_config()
        command.upgrade(cfg, "0005")
        with db.engine.begin() as conn:
            _legacy_rows(conn, 3, tamper_seq=2)
        with pytest.raises(RuntimeError, match="audit record 2 fails the old chain check"):
            command.upgrade(cfg, "head")
        db.engine.dispose()
