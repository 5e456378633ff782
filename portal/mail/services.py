"""The e-mail outbox: producers queue messages in their own transaction; the send-outbox job delivers them.

Queuing inside the caller's transaction means a rolled-back change never sends mail, and a committed one always
does (eventually). Delivery happens in a later job run, so it only ever sees committed messages.

A sealed message (a complaint receipt with its query code, any mail to a reporter) keeps its recipient and body
encrypted in the outbox row with the reporter key (portal.complaints.crypto); they are decrypted only in memory when
the message is sent, so the database never holds the query code or the reporter's address in clear.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa
from flask import current_app

from portal.core.storage import Store, files
from portal.db import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
BATCH_SIZE = 200
CLAIM_SIZE = 20  # messages a sender claims at a time (a claim lasts OUTBOX_CLAIM_SECONDS)
SEALED = "sealed:v1:"  # prefix of a recipient or body stored encrypted
# The only extra header fields a producer may set (RFC 2369 / RFC 8058 list unsubscription).
EXTRA_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def queue_mail(to: str, subject: str, body: str, dedupe_key: str | None = None, *,
               sealed: bool = False, headers: dict[str, str] | None = None) -> OutboxMessage:
    """Add a message to the outbox (flush only). A dedupe_key already queued returns that message instead.
    sealed=True stores the recipient and the body encrypted (the subject stays readable for the operators).
    headers: extra fields from EXTRA_HEADERS only; a value with a line break is refused (header injection)."""
    extra = dict(headers or {})
    for name, value in extra.items():
        if name not in EXTRA_HEADERS or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} is not allowed or has a line break")
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    to = to.strip()
    if sealed:
        from portal.complaints.crypto import seal_text

        to, body = SEALED + seal_text(to), SEALED + seal_text(body)
    message = OutboxMessage(to_address=to, subject=subject[:300], body_text=body, dedupe_key=dedupe_key,
                            extra_headers=extra)
    db.session.add(message)
    db.session.flush()
    return message


def is_queued(dedupe_key: str) -> bool:
    """Whether a message with this key was ever queued (lets producers skip building it again)."""
    stmt = sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return db.session.scalar(stmt) is not None


def _opened(stored: str) -> str:
    if not stored.startswith(SEALED):
        return stored
    from portal.complaints.crypto import open_sealed

    return open_sealed(stored[len(SEALED):])


def recipient(message: OutboxMessage) -> str:
    """The address in clear (decrypted in memory for a sealed message)."""
    return _opened(message.to_address)


def body_of(message: OutboxMessage) -> str:
    return _opened(message.body_text)


def is_sealed(message: OutboxMessage) -> bool:
    return message.body_text.startswith(SEALED)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """An RFC 5322 message, UTF-8 (Chinese subjects are RFC 2047-encoded by the email package). A sealed message
    is opened here, in memory, at send time; a key that cannot open it raises ValueError (recorded as a failure)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = recipient(message)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain=sender.rpartition("@")[2] or None)
    for name, value in (message.extra_headers or {}).items():
        if name in EXTRA_HEADERS:
            email[name] = value
    email.set_content(body_of(message), charset="utf-8")
    return email


class SmtpTransport:
    """One SMTP connection for a batch, with STARTTLS and login when configured."""

    def __init__(self, config):
        self.config = config
        self.conn: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        if self.conn is None:
            cfg = self.config
            self.conn = smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25), timeout=30)
            if cfg.get("MAIL_USE_TLS"):
                self.conn.starttls()
            if cfg.get("MAIL_USERNAME"):
                self.conn.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        self.conn.send_message(email)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except smtplib.SMTPException:
                pass
            self.conn = None


class FileTransport:
    """Writes each message as an .eml file in the "mail" storage area (development and tests: no mail server
    needed; MAIL_DIR on the filesystem backend, the shared bucket on S3, so every host's messages are in one place).
    The outbox itself (what is to be sent, sent once) lives in the database."""

    def __init__(self, store: Store):
        self.store = store

    def send(self, email: EmailMessage) -> None:
        msg_id = re.sub(r"[^A-Za-z0-9.@_-]", "", email["Message-ID"] or "message").lstrip(".") or "message"
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        self.store.put(f"{stamp}-{msg_id}.eml", email.as_bytes())

    def close(self) -> None:
        pass


def transport():
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport(current_app.config)
    return FileTransport(files("mail"))


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed}"


def claim_batch(owner: str, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` deliverable messages for `owner` until now + OUTBOX_CLAIM_SECONDS and commit the claim.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so concurrent senders take disjoint rows without waiting.
    SQLite: one UPDATE whose WHERE repeats the claimability test (writes are serialised, so it is atomic).
    A message is claimable when unsent, under MAX_ATTEMPTS and not claimed, or its claim has expired.
    """
    now = now or utcnow()
    until = now + timedelta(seconds=int(current_app.config["OUTBOX_CLAIM_SECONDS"]))
    claimable = sa.and_(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS,
                        sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
    pick = sa.select(OutboxMessage.id).where(claimable).order_by(OutboxMessage.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(pick))
        if not ids:
            db.session.commit()
            return []
        target = OutboxMessage.id.in_(ids)
    else:
        target = sa.and_(OutboxMessage.id.in_(pick.scalar_subquery()), claimable)
    stmt = (sa.update(OutboxMessage).where(target).values(claimed_by=owner, claimed_until=until)
            .returning(OutboxMessage.id).execution_options(synchronize_session=False))
    ids = sorted(db.session.scalars(stmt))
    db.session.commit()
    return ids


def _start_attempt(message_id: int | None, owner: str) -> bool:
    """Count an attempt and renew the claim, only while `owner` still holds it (flush only). send_pending commits it
    before the transport is called, so a sender that dies mid-send leaves the attempt counted; it rides in the same
    commit as the previous message's outcome (one commit per message). False: the claim was lost or already done."""
    if message_id is None:
        return False
    until = utcnow() + timedelta(seconds=int(current_app.config["OUTBOX_CLAIM_SECONDS"]))
    stmt = (sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == owner,
                   OutboxMessage.sent_at.is_(None))
            .values(attempts=OutboxMessage.attempts + 1, claimed_until=until)
            .execution_options(synchronize_session=False))
    return db.session.execute(stmt).rowcount == 1


def send_pending(limit: int = BATCH_SIZE, owner: str | None = None) -> SendResult:
    """Deliver unsent messages (oldest first), recording sent_at or the error and the attempt count.

    Any number of senders may run at once, on any host: each claims small batches (claim_batch) and sends only
    what it claimed, so no message goes to two senders. A sender that dies leaves its claims to expire after
    OUTBOX_CLAIM_SECONDS; another sender then takes them once. Messages that failed MAX_ATTEMPTS times are left
    for a person to look at. Each message's outcome is committed as soon as the transport has answered: a delivery
    cannot be rolled back. Only a message in flight when its sender dies can go out twice (at-least-once
    delivery, as SMTP itself).
    """
    owner = owner or f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"
    result = SendResult()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    channel = None
    try:
        while result.sent + result.failed < limit:
            ids = claim_batch(owner, min(CLAIM_SIZE, limit - result.sent - result.failed))
            if not ids:
                break
            started = _start_attempt(ids[0], owner)
            db.session.commit()
            for pos, message_id in enumerate(ids):
                following = ids[pos + 1] if pos + 1 < len(ids) else None
                if not started:
                    started = _start_attempt(following, owner)
                    db.session.commit()
                    continue
                message = db.session.get(OutboxMessage, message_id, populate_existing=True)
                channel = channel or transport()
                try:
                    channel.send(build_email(message, sender))
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    message.claimed_by = None  # claimed_until stays: the next try waits for it (back-off)
                    result.failed += 1
                    log.warning("outbox message %s not sent: %s", message.id, message.last_error)
                    channel.close()  # a broken connection is reopened for the next message
                else:
                    message.sent_at = utcnow()
                    message.last_error = ""
                    message.claimed_by, message.claimed_until = None, None
                    result.sent += 1
                db.session.flush()
                started = _start_attempt(following, owner)
                db.session.commit()  # this message's outcome and the next one's attempt, together
    finally:
        if channel is not None:
            channel.close()
    return result
