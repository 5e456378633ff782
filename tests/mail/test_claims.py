"""Outbox claims: concurrent senders never send a message twice, and a claim left by a dead sender is taken again
once its visibility timeout has passed (once), on SQLite (atomic UPDATE) and PostgreSQL (FOR UPDATE SKIP LOCKED)."""
from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from portal.db import utcnow
from portal.mail import services
from portal.mail.models import OutboxMessage

OUTBOX_ID = re.compile(r"\.outbox(\d+)@")  # the file backend names each file after the Message-ID


def _sent_ids(directory: Path) -> Counter:
    """How many .eml files (deliveries) the file backend wrote for each outbox id."""
    found = Counter()
    for path in directory.glob("*.eml"):
        match = OUTBOX_ID.search(path.name)
        assert match, f"no outbox Message-ID in {path.name}"
        found[int(match.group(1))] += 1
    return found


def _queue(db, count: int) -> list[int]:
    ids = [services.queue_mail(f"p{i}@example.cn", f"message {i}", "body", dedupe_key=f"claims-{i}").id
           for i in range(count)]
    db.session.commit()
    return ids


def test_two_senders_over_42_queued_mails_send_42_messages_exactly(db, app, tmp_path, monkeypatch):
    maildir = tmp_path / "mail"
    monkeypatch.setitem(app.config, "MAIL_DIR", str(maildir))
    ids = _queue(db, 42)
    # Each sender's first delivery waits until the other sender has made its first delivery too: both hold claims
    # at the same time, so a claim that was not exclusive would send the same message from both.
    together = threading.Barrier(2, timeout=60)
    real_send = services.FileTransport.send
    first_done: set[int] = set()

    def send(self, email):
        real_send(self, email)
        me = threading.get_ident()
        if me not in first_done:
            first_done.add(me)
            together.wait()

    monkeypatch.setattr(services.FileTransport, "send", send)
    results, errors = [], []

    def sender(owner: str) -> None:
        try:
            with app.app_context():
                results.append(services.send_pending(owner=owner))
                services.db.session.remove()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"sender-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(results) == 2 and all(r.sent > 0 for r in results), results
    assert sum(r.sent for r in results) == 42
    deliveries = _sent_ids(maildir)
    assert sum(deliveries.values()) == 42 and set(deliveries) == set(ids)
    assert max(deliveries.values()) == 1
    db.session.expire_all()
    rows = db.session.execute(sa.select(OutboxMessage.sent_at, OutboxMessage.attempts, OutboxMessage.claimed_by))
    assert all(sent is not None and attempts == 1 and claimed is None for sent, attempts, claimed in rows)


def test_a_live_claim_is_not_taken_by_another_sender(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    _queue(db, 3)
    assert len(services.claim_batch("worker-a", 10)) == 3
    assert services.claim_batch("worker-b", 10) == []
    assert services.send_pending(owner="worker-b").sent == 0
    assert list(tmp_path.glob("*.eml")) == []


def test_a_claim_abandoned_by_a_dead_sender_is_retried_after_the_timeout_once(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    ids = _queue(db, 3)
    timeout = timedelta(seconds=app.config["OUTBOX_CLAIM_SECONDS"])
    # The dead sender claimed all three a claim-length ago and had started the first one (attempt counted).
    claimed = services.claim_batch("dead-worker", 10, now=utcnow() - timeout - timedelta(seconds=1))
    assert claimed == ids
    first = db.session.get(OutboxMessage, ids[0])
    first.attempts = 1
    db.session.commit()

    result = services.send_pending(owner="survivor")
    assert (result.sent, result.failed) == (3, 0)
    assert services.send_pending(owner="another").sent == 0
    assert _sent_ids(tmp_path) == Counter({i: 1 for i in ids})
    db.session.expire_all()
    assert db.session.get(OutboxMessage, ids[0]).attempts == 2  # the in-flight attempt of the dead sender counts
    assert db.session.get(OutboxMessage, ids[1]).attempts == 1


def test_a_failed_message_waits_for_its_claim_to_expire_before_the_next_try(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    _queue(db, 1)

    def broken(self, email):
        raise OSError("disk full")

    monkeypatch.setattr(services.FileTransport, "send", broken)
    assert (services.send_pending().failed, services.send_pending().failed) == (1, 0)
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    db.session.refresh(message)
    assert message.attempts == 1 and message.claimed_by is None and message.claimed_until > utcnow()
