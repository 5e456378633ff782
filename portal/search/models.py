"""The search data version: one row appended per transaction that changes data the public search reads."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class DataChange(db.Model):
    """Append-only (no row is ever updated, so concurrent writers never wait on each other); max(id) is the
    version. A daily job prunes all but the newest row."""

    __tablename__ = "search_data_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
