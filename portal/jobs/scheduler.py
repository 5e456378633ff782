"""The APScheduler process (`flask --app wsgi jobs scheduler`). Never started by create_app: under gunicorn every
worker would run every job (STACK.md §5). Run exactly one scheduler process."""
from __future__ import annotations

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from portal.extensions import db
from portal.jobs.registry import JOBS, TIMEZONE
from portal.jobs.runner import run_job

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
ENTRY_POINT = "portal.jobs.scheduler:run_scheduled"
_app: Flask | None = None


def run_scheduled(name: str) -> None:
    """What the scheduler calls (by textual reference, so stored jobs survive code changes)."""
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    run_job(_app, name, trigger="scheduler")


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


def build_scheduler(app: Flask, scheduler_cls: type[BaseScheduler] = BlockingScheduler,
                    jobstore=None) -> BaseScheduler:
    global _app
    _app = app
    scheduler = scheduler_cls(jobstores={"default": jobstore or default_jobstore(app)}, timezone=TIMEZONE,
                              job_defaults=dict(JOB_DEFAULTS))
    register_jobs(scheduler)
    return scheduler
