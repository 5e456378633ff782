from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import utcnow
from portal.extensions import db


class CalendarOverride(db.Model):
    """An administrator's entry that overrides the packaged calendar for one date (e.g. next year's holidays,
    announced each November, before the package knows them)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class CalendarYear(db.Model):
    """A year whose official schedule (the State Council's holidays and make-up working days) an administrator
    imported as a table: deadlines falling in it are exact, not provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    holidays: Mapped[int] = mapped_column(default=0)  # rows that are days off
    makeup_days: Mapped[int] = mapped_column(default=0)  # rows that are make-up working days
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
