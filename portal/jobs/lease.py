"""Leader election for the scheduler: a lease row renewed by its holder.

Every scheduler process runs `LeaderLoop`; only the holder of the unexpired lease "scheduler" runs jobs. The lease
is taken and renewed by one atomic UPDATE (`... WHERE holder = me OR expires_at < now`), so two processes can never
both see success for the same period, on PostgreSQL as on SQLite. A holder that dies stops renewing: another
process takes the lease once it expires (SCHEDULER_LEASE_SECONDS after the last renewal; renewals every
SCHEDULER_RENEW_SECONDS), and a holder stopped cleanly releases it at once. A holder that cannot renew (database
unreachable, lease taken) pauses its jobs at once. Hosts' clocks must agree to well under the lease length (NTP);
the unique (name, slot) of job_runs is the backstop that keeps a slot from running twice even then.
"""
from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.db import utcnow
from portal.extensions import db
from portal.jobs.models import SchedulerLease

LEASE_NAME = "scheduler"


def holder_id() -> str:
    """host:pid:random: unique per process, readable in the lease row."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


def try_acquire(holder: str, ttl: timedelta, now: datetime | None = None, name: str = LEASE_NAME) -> bool:
    """Take or renew the lease for `holder` (flush only; the caller commits). True when `holder` holds it now."""
    now = now or utcnow()
    table = SchedulerLease.__table__
    stmt = (sa.update(table)
            .where(table.c.name == name, sa.or_(table.c.holder == holder, table.c.expires_at < now))
            .values(holder=holder, heartbeat_at=now, expires_at=now + ttl,
                    acquired_at=sa.case((table.c.holder == holder, table.c.acquired_at), else_=now)))
    if db.session.execute(stmt).rowcount == 1:
        return True
    if db.session.get(SchedulerLease, name) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(SchedulerLease(name=name, holder=holder, acquired_at=now, heartbeat_at=now,
                                          expires_at=now + ttl))
    except sa.exc.IntegrityError:  # another process inserted the row first
        return False
    return True


def release(holder: str, now: datetime | None = None, name: str = LEASE_NAME) -> bool:
    """Give the lease up at once (clean shutdown), so a standby takes over without waiting for it to expire."""
    table = SchedulerLease.__table__
    stmt = (sa.update(table).where(table.c.name == name, table.c.holder == holder)
            .values(expires_at=now or utcnow()))
    return db.session.execute(stmt).rowcount == 1


@dataclass(frozen=True)
class LeaseState:
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def held(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or utcnow())


def current(name: str = LEASE_NAME) -> LeaseState | None:
    row = db.session.execute(sa.select(SchedulerLease.holder, SchedulerLease.acquired_at,
                                       SchedulerLease.heartbeat_at, SchedulerLease.expires_at)
                             .where(SchedulerLease.name == name)).first()
    return LeaseState(*row) if row else None
