"""What /healthz reports about background work: the scheduler leader's last heartbeat and the queue depths.

The heartbeat is the lease row's heartbeat_at (renewed every SCHEDULER_RENEW_SECONDS by the leading scheduler);
older than SCHEDULER_STALE_SECONDS, or no lease at all, means no scheduler is running jobs. Queue depths are counts
of waiting work: outbox messages still to send, those given up after MAX_ATTEMPTS, waiting monitoring imports and
job runs in progress. Read-only, a few indexed counts, computed at most once per HEALTHZ_DETAIL_SECONDS in each
process (a probe hammering /healthz costs one SELECT 1 a request, as before these figures were added).
"""
from __future__ import annotations

import threading
import time
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from portal.db import utcnow
from portal.extensions import db
from portal.jobs import lease
from portal.jobs.models import JobRun
from portal.mail.models import OutboxMessage
from portal.mail.services import MAX_ATTEMPTS


def scheduler_status(now: datetime | None = None) -> dict:
    now = now or utcnow()
    state = lease.current()
    if state is None:
        return {"status": "none", "heartbeat_at": None, "age_seconds": None}
    age = max(0.0, (now - state.heartbeat_at).total_seconds())
    stale = age > float(current_app.config["SCHEDULER_STALE_SECONDS"]) or not state.held(now)
    return {"status": "stale" if stale else "ok", "heartbeat_at": state.heartbeat_at.isoformat(),
            "age_seconds": round(age, 1)}


def queue_depths() -> dict[str, int]:
    from portal.monitoring.imports import WAITING
    from portal.monitoring.models import ImportJob

    def count(model, *where) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    unsent = OutboxMessage.sent_at.is_(None)
    depths = {}
    from portal.jobs import queue

    app = current_app._get_current_object()
    if queue.enabled(app):
        try:
            with db.session.begin_nested():
                found = queue.depth(app)
            depths = {"queue_waiting": found["queued"], "queue_running": found["running"]}
        except sa.exc.ProgrammingError:  # no worker has created the queue's tables yet
            depths = {"queue_waiting": 0, "queue_running": 0}
    return {**depths, "outbox": count(OutboxMessage, unsent, OutboxMessage.attempts < MAX_ATTEMPTS),
            "outbox_given_up": count(OutboxMessage, unsent, OutboxMessage.attempts >= MAX_ATTEMPTS),
            "monitoring_imports": count(ImportJob, ImportJob.status.in_(WAITING)),
            "jobs_running": count(JobRun, JobRun.status == "running")}


_cache: dict = {"at": None, "data": None}
_lock = threading.Lock()


def snapshot() -> dict:
    """{"scheduler": ..., "queues": ...}, recomputed when older than HEALTHZ_DETAIL_SECONDS (0: every call)."""
    ttl = float(current_app.config["HEALTHZ_DETAIL_SECONDS"])
    with _lock:
        at, data = _cache["at"], _cache["data"]
        if data is not None and ttl > 0 and time.monotonic() - at < ttl:
            return data
    data = {"scheduler": scheduler_status(), "queues": queue_depths()}
    with _lock:
        _cache["at"], _cache["data"] = time.monotonic(), data
    return data
