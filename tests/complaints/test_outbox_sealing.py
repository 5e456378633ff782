"""The query code (查询码) and the reporter's address never sit in clear in the mail outbox: the receipt and every
mail to a reporter are stored sealed with the reporter key and opened only in memory when the mail job sends them."""
from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.complaints import rules, services
from portal.mail import services as mail
from portal.mail.models import OutboxMessage
from tests.factories import make_complaint, make_user

ADDRESS = "lisi@example.cn"
REPORTER = {"name": "李四", "phone": "13800000000", "email": ADDRESS, "id_no": ""}


def _raw_rows(db) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(sa.text(
        "SELECT id, to_address, subject, body_text, last_error FROM outbox_messages ORDER BY id"))]


def _variants(code: str) -> set[str]:
    return {code, rules.format_query_code(code), code.lower(), rules.format_query_code(code).lower()}


def _sent_file(folder: Path) -> email.message.EmailMessage:
    (path,) = folder.glob("*.eml")
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def test_the_receipt_row_holds_neither_the_code_nor_the_address_in_clear(db):
    c, code = make_complaint(identity=REPORTER)
    db.session.commit()
    ((_id, to_address, subject, body, _err),) = _raw_rows(db)
    stored = " ".join((to_address, subject, body))
    assert not any(v in stored for v in _variants(code))
    assert ADDRESS not in stored and "李四" not in stored
    assert to_address.startswith(mail.SEALED) and body.startswith(mail.SEALED)
    assert c.case_no in subject  # operators can still see which case a stuck message belongs to


def test_the_sent_mail_carries_the_code_and_goes_to_the_reporter(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    c, code = make_complaint(identity=REPORTER)
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    result = mail.send_pending()
    db.session.commit()
    assert result.sent == 1 and message.sent_at is not None
    sent = _sent_file(tmp_path)
    assert sent["To"] == ADDRESS
    text = sent.get_content()
    assert rules.format_query_code(code) in text and c.case_no in text
    # still sealed at rest after sending
    ((_id, to_address, _subject, body, _err),) = _raw_rows(db)
    assert not any(v in body for v in _variants(code)) and ADDRESS not in to_address


def test_later_mails_to_the_reporter_are_sealed_too(db):
    officer = make_user(Role.REGULATOR, jurisdiction_code="3208")
    c, _code = make_complaint(identity=REPORTER)
    services.accept_complaint(c, officer)
    db.session.commit()
    rows = _raw_rows(db)
    assert len(rows) == 2 and all(r[1].startswith(mail.SEALED) and ADDRESS not in r[1] for r in rows)
    opened = [mail.body_of(m) for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]
    assert c.case_no in opened[1] and c.close_due.isoformat() in opened[1]


def test_a_key_that_cannot_open_the_row_is_a_recorded_failure_not_a_crash(app, db, monkeypatch):
    make_complaint(identity=REPORTER)
    db.session.commit()
    monkeypatch.setitem(app.config, "REPORTER_KEY", "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI=")
    result = mail.send_pending()
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert result.failed == 1 and message.sent_at is None and message.attempts == 1
    assert "REPORTER_KEY" in message.last_error and ADDRESS not in message.last_error


def test_ordinary_mail_stays_readable(db):
    mail.queue_mail("ops@example.cn", "Permit reminder", "Your permit expires in 30 days.")
    db.session.commit()
    ((_id, to_address, _subject, body, _err),) = _raw_rows(db)
    assert to_address == "ops@example.cn" and body == "Your permit expires in 30 days."


@pytest.mark.parametrize("length", [5, 111, 200, 254])
def test_a_sealed_address_of_any_allowed_length_fits_the_column(db, length):
    address = "a" * (length - len("@example.cn")) + "@example.cn" if length > 11 else "a@b.cn"
    message = mail.queue_mail(address, "s", "b", sealed=True)
    assert len(message.to_address) <= OutboxMessage.__table__.c.to_address.type.length
    assert mail.recipient(message) == address
