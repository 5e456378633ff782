"""Outbox: queued in the caller's transaction, deduplicated, delivered as .eml files or over SMTP."""
from __future__ import annotations

import email
import smtplib
from email import policy
from pathlib import Path

import sqlalchemy as sa

from portal.mail import services
from portal.mail.models import OutboxMessage


def _count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


def test_queue_mail_flushes_without_committing(db):
    message = services.queue_mail("a@example.cn", "主题", "正文")
    assert message.id is not None and message.sent_at is None
    db.session.rollback()
    assert _count(db) == 0


def test_a_repeated_dedupe_key_returns_the_existing_message(db):
    first = services.queue_mail("a@example.cn", "S", "B", dedupe_key="k1")
    second = services.queue_mail("a@example.cn", "S2", "B2", dedupe_key="k1")
    other = services.queue_mail("a@example.cn", "S", "B", dedupe_key="k2")
    assert second.id == first.id and other.id != first.id
    assert _count(db) == 2


def test_without_a_mail_server_messages_become_utf8_eml_files(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    message = services.queue_mail("user@example.cn", "排污许可证即将到期", "请于到期前 60 日申请延续。")
    db.session.commit()
    result = services.send_pending()
    assert (result.sent, result.failed) == (1, 0)
    files = list(Path(tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "排污许可证即将到期" and parsed["To"] == "user@example.cn"
    assert parsed["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert "60 日" in parsed.get_content()
    assert message.sent_at is not None and message.attempts == 1
    assert services.send_pending().sent == 0          # nothing is sent twice


class FakeSMTP:
    instances: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port, self.sent, self.calls = host, port, [], []
        FakeSMTP.instances.append(self)

    def starttls(self):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, msg):
        if msg["To"] == "broken@example.cn":
            raise smtplib.SMTPRecipientsRefused({"broken@example.cn": (550, b"no such user")})
        self.sent.append(msg)

    def quit(self):
        self.calls.append("quit")


def test_with_a_mail_server_messages_go_over_smtp_with_tls_and_login(db, app, monkeypatch):
    FakeSMTP.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in {"MAIL_SERVER": "smtp.example.cn", "MAIL_PORT": 587, "MAIL_USE_TLS": True,
                       "MAIL_USERNAME": "portal", "MAIL_PASSWORD": "pw"}.items():
        monkeypatch.setitem(app.config, key, value)
    services.queue_mail("a@example.cn", "一", "x")
    services.queue_mail("broken@example.cn", "二", "y")
    services.queue_mail("b@example.cn", "三", "z")
    db.session.commit()
    result = services.send_pending()
    assert (result.sent, result.failed) == (2, 1)
    conn = FakeSMTP.instances[0]
    assert (conn.host, conn.port) == ("smtp.example.cn", 587)
    assert conn.calls[:2] == ["starttls", ("login", "portal", "pw")]
    broken = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == "broken@example.cn"))
    assert broken.sent_at is None and broken.attempts == 1 and "SMTPRecipientsRefused" in broken.last_error
    sent_to = sorted(m["To"] for c in FakeSMTP.instances for m in c.sent)
    assert sent_to == ["a@example.cn", "b@example.cn"]


def test_messages_that_failed_too_often_are_left_alone(db, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    message = services.queue_mail("a@example.cn", "S", "B")
    message.attempts = services.MAX_ATTEMPTS
    db.session.commit()
    assert services.send_pending().sent == 0


def test_only_allow_listed_extra_headers_without_line_breaks(db):
    import pytest

    from portal.mail.services import build_email, queue_mail

    with pytest.raises(ValueError):
        queue_mail("a@example.cn", "s", "b", headers={"Bcc": "x@example.cn"})
    with pytest.raises(ValueError):
        queue_mail("a@example.cn", "s", "b", headers={"List-Unsubscribe": "<https://x>\r\nBcc: x@example.cn"})
    message = queue_mail("a@example.cn", "s", "b", headers={"List-Unsubscribe": "<https://portal.example.cn/u/1>"})
    assert build_email(message, "portal@example.cn")["List-Unsubscribe"] == "<https://portal.example.cn/u/1>"
