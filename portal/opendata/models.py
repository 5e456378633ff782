from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import TimestampMixin
from portal.extensions import db


class Subscription(TimestampMixin, db.Model):
    """An e-mail subscription to the events of one enterprise or one region (PRODUCT §2.7). Active once the address
    owner confirmed it (double opt-in) and until unsubscribed; last_sent_at is where the next digest starts."""

    __tablename__ = "opendata_subscriptions"
    __table_args__ = (sa.UniqueConstraint("email", "scope", "scope_key"),
                      sa.Index("ix_opendata_subscriptions_due", "frequency", "confirmed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    scope: Mapped[str] = mapped_column(sa.String(12))  # enterprise / region
    scope_key: Mapped[str] = mapped_column(sa.String(18))  # USCC or 6-digit region code
    frequency: Mapped[str] = mapped_column(sa.String(12), default="weekly")  # immediate / weekly
    locale: Mapped[str] = mapped_column(sa.String(16), default="zh_CN")  # a LANGUAGES code: zh_CN / en
    confirmed_at: Mapped[datetime | None] = mapped_column()
    unsubscribed_at: Mapped[datetime | None] = mapped_column()
    last_sent_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None
