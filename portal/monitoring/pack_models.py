"""Packed minute and real-time values (portal/monitoring/packing.py, compaction.py)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime
from portal.extensions import db
from portal.monitoring.models import BigId


class MinutePack(db.Model):
    """One outlet × pollutant × data type (minute / realtime) × China-local day of values, packed; the raw record
    the value rows were, kept for the retention period (《生态环境监测条例》 art. 26)."""

    __tablename__ = "monitoring_minute_packs"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "pollutant_code", "period", "day"),
                      sa.Index("ix_monitoring_minute_packs_enterprise_day", "enterprise_id", "day"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    pollutant_code: Mapped[str] = mapped_column(sa.String(16))
    period: Mapped[str] = mapped_column(sa.String(10))
    day: Mapped[date] = mapped_column(sa.Date)
    day_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column()
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
