from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import utcnow
from portal.extensions import db


class JobRun(db.Model):
    """One run of a named job (scheduled or by hand), with its outcome.

    A scheduled run carries its slot (the cron fire time it serves); (name, slot) is unique, so however many
    schedulers or workers reach a slot, one run is recorded and the work is done once. Manual runs have no slot.
    """

    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("name", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), index=True)
    trigger: Mapped[str] = mapped_column(sa.String(16), default="manual")  # manual / scheduler
    slot: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16), default="running")  # running / ok / failed / interrupted
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    host: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")


class SchedulerLease(db.Model):
    """The scheduler leadership lease (one row per lease name). The holder renews it every few seconds; a lease
    whose expires_at has passed may be taken by any other scheduler process (portal/jobs/lease.py)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[datetime] = mapped_column()
    heartbeat_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
