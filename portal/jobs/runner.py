"""run_job: the one edge (besides views and CLI commands) that commits.

Each run gets its own app context (so per-request caches such as the working-day calendar start fresh), a JobRun
row written before the work starts (a crash still leaves a trace), one commit for the work, or a rollback and the
failure recorded, and finally db.session.remove().

A scheduled run names its slot (the cron fire time it serves). The JobRun row is committed before the work starts
and (name, slot) is unique: a second scheduler or a retry reaching the same slot finds the row and skips, so a slot's
work is done once. A run killed mid-work keeps its slot; its job (idempotent, like every job) catches up at the next
slot.
"""
from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from portal.db import utcnow
from portal.extensions import db
from portal.jobs.models import JobRun
from portal.jobs.registry import JOBS

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=1)  # a run still "running" this long after its start was killed (no job runs that long)


class UnknownJob(KeyError):
    pass


@dataclass(frozen=True)
class JobOutcome:
    run_id: int | None
    name: str
    status: str  # ok / failed / skipped (the slot was already taken by another run)
    detail: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped")


def run_job(app: Flask, name: str, trigger: str = "manual", slot: datetime | None = None, **kwargs) -> JobOutcome:
    job = JOBS.get(name)
    if job is None:
        raise UnknownJob(name)
    with app.app_context():
        try:
            _close_interrupted(name)
            run = JobRun(name=name, trigger=trigger, slot=slot, started_at=utcnow(), status="running",
                         host=socket.gethostname()[:200])
            db.session.add(run)
            try:
                db.session.commit()
            except sa.exc.IntegrityError:
                db.session.rollback()
                detail = f"slot {slot.isoformat() if slot else ''} already run"
                log.info("job %s (%s): skipped, %s", name, trigger, detail)
                return JobOutcome(None, name, "skipped", detail)
            run_id = run.id
            try:
                detail = str(job.func(**kwargs) or "")
                run.status, run.detail, run.finished_at = "ok", detail[:10000], utcnow()
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                log.exception("job %s failed", name)
                detail = f"{type(exc).__name__}: {exc}"[:10000]
                run = db.session.get(JobRun, run_id)
                run.status, run.detail, run.finished_at = "failed", detail, utcnow()
                db.session.commit()
            log.info("job %s (%s): %s %s", name, trigger, run.status, run.detail)
            return JobOutcome(run_id, name, run.status, run.detail)
        finally:
            db.session.remove()


def _close_interrupted(name: str) -> None:
    """Earlier runs of this job that were killed mid-work (the process died before recording an outcome) are
    marked interrupted when the next run starts, so the job history never shows a run as running for ever."""
    cutoff = utcnow() - STALE_AFTER
    stale = db.session.scalars(sa.select(JobRun).where(JobRun.name == name, JobRun.status == "running",
                                                       JobRun.started_at < cutoff)).all()
    for run in stale:
        run.status, run.finished_at = "interrupted", utcnow()
        run.detail = (run.detail + "\n" if run.detail else "") + "the process stopped before the run finished"
    if stale:
        db.session.commit()


def prune_runs(now: datetime | None = None) -> str:
    """Job `job-runs-prune`: delete finished job runs older than JOB_RUN_RETENTION_DAYS (flush only; run_job
    commits). The newest run of each job is kept whatever its age, so the history always shows the last outcome."""
    days = int(current_app.config["JOB_RUN_RETENTION_DAYS"])
    cutoff = (now or utcnow()) - timedelta(days=days)
    newest = sa.select(sa.func.max(JobRun.id)).group_by(JobRun.name)
    stmt = (sa.delete(JobRun).where(JobRun.started_at < cutoff, JobRun.status != "running",
                                    JobRun.id.not_in(newest))
            .execution_options(synchronize_session=False))
    deleted = db.session.execute(stmt).rowcount
    return f"deleted {deleted} runs older than {days} days"
