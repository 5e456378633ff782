from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import utcnow
from portal.extensions import db


class OutboxMessage(db.Model):
    """An e-mail written in the same transaction as the change that causes it; the send-outbox job delivers it.

    dedupe_key makes producers idempotent: a job that runs twice queues each reminder once.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    # A sealed message (mail.services SEALED prefix) stores the address and body encrypted: up to ~400 characters.
    to_address: Mapped[str] = mapped_column(sa.String(600))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    # Extra header fields from an allow-list (mail.services.EXTRA_HEADERS), e.g. RFC 8058 one-click unsubscribe.
    extra_headers: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default=sa.text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # A sender's claim (mail.services.claim_batch): no other sender takes the message before claimed_until; a
    # claim left by a sender that died is taken again after it (visibility timeout).
    claimed_by: Mapped[str | None] = mapped_column(sa.String(200))
    claimed_until: Mapped[datetime | None] = mapped_column()
