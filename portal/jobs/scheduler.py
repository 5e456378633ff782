"""The scheduler process (`flask --app wsgi jobs scheduler`). Never started by create_app: under gunicorn every
worker would run every job (STACK.md §5).

Run one on each of two or more hosts: they elect a leader through a lease row (portal/jobs/lease.py). Only the
leader's APScheduler runs jobs; the others keep theirs paused and take over when the leader's lease expires (killed)
or is released (stopped cleanly). The job store is shared in the portal database, so a new leader sees the fire
times the old one had not served yet and runs them (within misfire_grace_time). Each scheduled run records its slot
once (job_runs unique (name, slot)): a slot is never run twice, even by two processes that both think they lead.
With JOBS_QUEUE = "procrastinate" on PostgreSQL the leader only queues each fire time; workers run it
(portal/jobs/queue.py).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
import sqlalchemy as sa
from flask import Flask

from portal.db import utcnow
from portal.extensions import db
from portal.jobs import lease
from portal.jobs.registry import JOBS, TIMEZONE
from portal.jobs.runner import run_job

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
ENTRY_POINT = "portal.jobs.scheduler:run_scheduled"
_app: Flask | None = None


def current_slot(name: str, now: datetime | None = None) -> datetime:
    """The latest fire time of the job's crontab at or before `now` (the slot a scheduled run serves). Runs the
    scheduler coalesced after a delay serve the newest missed slot, as coalesce=True means."""
    now = now or utcnow()
    trigger = JOBS[name].trigger()
    grace = timedelta(seconds=JOB_DEFAULTS["misfire_grace_time"] + 60)
    slot = trigger.get_next_fire_time(None, now - grace)
    if slot is None or slot > now:  # not due within the grace window: the run was late beyond it
        slot = now.replace(microsecond=0)
    while True:
        nxt = trigger.get_next_fire_time(slot, slot + timedelta(seconds=1))
        if nxt is None or nxt > now:
            return slot.astimezone(timezone.utc)
        slot = nxt


def run_scheduled(name: str) -> None:
    """What the scheduler calls (by textual reference, so stored jobs survive code changes)."""
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    from portal.jobs import queue

    if queue.enabled(_app):  # workers on any host run it (portal/jobs/queue.py)
        queue.defer(_app, name, current_slot(name))
        return
    run_job(_app, name, trigger="scheduler", slot=current_slot(name))


def default_jobstore(app: Flask) -> SQLAlchemyJobStore:
    """SCHEDULER_JOBSTORE_URL, else the portal database itself (table apscheduler_jobs)."""
    url = app.config.get("SCHEDULER_JOBSTORE_URL")
    if url:
        return SQLAlchemyJobStore(url=url, tablename="apscheduler_jobs")
    with app.app_context():
        return SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs")


def register_jobs(scheduler: BaseScheduler) -> None:
    for job in JOBS.values():
        scheduler.add_job(ENTRY_POINT, trigger=job.trigger(), args=[job.name], id=job.name, name=job.description,
                          replace_existing=True)


def sync_jobs(scheduler: BaseScheduler) -> None:
    """On becoming leader: add jobs missing from the shared store and replace those whose schedule changed, but
    leave an unchanged job alone, so a fire time the old leader did not serve is still run."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    for job in JOBS.values():
        have = stored.pop(job.name, None)
        if (have is not None and have.func_ref == ENTRY_POINT and tuple(have.args) == (job.name,)
                and str(have.trigger) == str(job.trigger())):
            continue
        scheduler.add_job(ENTRY_POINT, trigger=job.trigger(), args=[job.name], id=job.name, name=job.description,
                          replace_existing=True)
    for gone in stored:
        scheduler.remove_job(gone)


def build_scheduler(app: Flask, scheduler_cls: type[BaseScheduler] = BlockingScheduler,
                    jobstore=None, register: bool = True) -> BaseScheduler:
    global _app
    _app = app
    scheduler = scheduler_cls(jobstores={"default": jobstore or default_jobstore(app)}, timezone=TIMEZONE,
                              job_defaults=dict(JOB_DEFAULTS))
    if register:
        register_jobs(scheduler)
    return scheduler


def _create_store_tables(scheduler: BaseScheduler) -> None:
    """Create the shared job-store table before APScheduler does: two schedulers starting together on a fresh
    database both try CREATE TABLE, and the loser's error would stop its process."""
    for store in scheduler._jobstores.values():
        table, engine = getattr(store, "jobs_t", None), getattr(store, "engine", None)
        if table is None or engine is None:
            continue
        try:
            table.create(engine, checkfirst=True)
        except sa.exc.DBAPIError:  # created by the other process between the check and CREATE
            if not sa.inspect(engine).has_table(table.name, schema=table.schema):
                raise


class LeaderLoop:
    """One scheduler process: renew-or-take the lease every SCHEDULER_RENEW_SECONDS; run the APScheduler while
    holding it, pause it the moment the lease is not confirmed."""

    def __init__(self, app: Flask, scheduler: BaseScheduler | None = None, holder: str | None = None):
        self.app = app
        self.holder = holder or lease.holder_id()
        self.ttl = timedelta(seconds=float(app.config["SCHEDULER_LEASE_SECONDS"]))
        self.renew_every = float(app.config["SCHEDULER_RENEW_SECONDS"])
        if self.renew_every * 2 >= self.ttl.total_seconds():
            raise ValueError("SCHEDULER_RENEW_SECONDS must be less than half of SCHEDULER_LEASE_SECONDS")
        self.scheduler = scheduler or build_scheduler(app, BackgroundScheduler, register=False)
        self.leading = False
        self.stopping = threading.Event()

    def step(self, now: datetime | None = None) -> bool:
        """One renewal round; returns whether this process leads afterwards."""
        try:
            with self.app.app_context():
                try:
                    held = lease.try_acquire(self.holder, self.ttl, now)
                    db.session.commit()
                finally:
                    db.session.remove()
        except Exception:  # database unreachable: the lease cannot be confirmed, so stop running jobs
            log.exception("scheduler lease could not be renewed")
            held = False
        if held and not self.leading:
            log.info("scheduler %s leads", self.holder)
            sync_jobs(self.scheduler)
            self.scheduler.resume()
        elif not held and self.leading:
            log.warning("scheduler %s lost the lease; jobs paused", self.holder)
            self.scheduler.pause()
        self.leading = held
        return held

    def run(self) -> None:
        _create_store_tables(self.scheduler)
        self.scheduler.start(paused=True)
        try:
            while not self.stopping.is_set():
                self.step()
                self.stopping.wait(self.renew_every)
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        if self.scheduler.state in (STATE_RUNNING, STATE_PAUSED):
            self.scheduler.shutdown(wait=True)
        if self.leading:
            try:
                with self.app.app_context():
                    lease.release(self.holder)
                    db.session.commit()
                    db.session.remove()
            except Exception:
                log.exception("scheduler lease could not be released (it expires by itself)")
            self.leading = False
