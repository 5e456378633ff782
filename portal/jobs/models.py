from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import utcnow
from portal.extensions import db


class JobRun(db.Model):
    """One run of a named job (scheduled or by hand), with its outcome."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), index=True)
    trigger: Mapped[str] = mapped_column(sa.String(16), default="manual")  # manual / scheduler
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16), default="running")  # running / ok / failed / interrupted
    detail: Mapped[str] = mapped_column(sa.Text, default="")
