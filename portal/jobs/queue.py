"""Background work on workers on any host, through Procrastinate (a PostgreSQL-backed job queue).

When JOBS_QUEUE = "procrastinate" and the database is PostgreSQL, the leading scheduler does not run job bodies
itself: at each fire time it defers the task `portal.run_job(name, slot)` with a queueing lock per (job, slot), and
workers (`flask --app wsgi jobs worker`, one or more per host) run it. Procrastinate claims each job with
`SELECT … FOR UPDATE SKIP LOCKED` in its own procedure, so two workers never take the same job; workers send a
heartbeat, and a periodic task on the workers gives the jobs of a worker whose heartbeat stopped
(QUEUE_STALLED_SECONDS) back to the queue. The job-run row (name, slot) stays the guarantee that a slot's work is
done once: a retried job whose slot was already started is recorded as skipped and catches up at the next slot.

Without PostgreSQL (the embedded SQLite default, `make run`) there is no queue: the scheduler runs jobs in its own
process as before. The queue's tables live in the portal database; `ensure_schema` creates them once (under an
advisory lock, so workers starting together do not race), as Procrastinate's own `schema --apply` would.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime

import procrastinate
import sqlalchemy as sa
from flask import Flask

log = logging.getLogger(__name__)
QUEUE = "jobs"
TASK = "portal.run_job"
_SCHEMA_LOCK = 0x706F7274  # pg_advisory_lock key: "port"

STALLED_TASK = "portal.retry_stalled"
_apps: dict[str, procrastinate.App] = {}
_opened: set[str] = set()
_open_lock = threading.Lock()


def enabled(app: Flask) -> bool:
    return (app.config.get("JOBS_QUEUE") == "procrastinate"
            and str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"))


def conninfo(url: str) -> str:
    """libpq connection string of the portal's SQLAlchemy URL (postgresql+psycopg://… → postgresql://…)."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(app: Flask) -> procrastinate.App:
    """The Procrastinate app for this portal's database (one per database URL and process)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    qapp = _apps.get(url)
    if qapp is None:
        qapp = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))
        _register(qapp)
        _apps[url] = qapp
    return qapp


def ensure_schema(app: Flask) -> bool:
    """Create Procrastinate's tables and functions if they are missing; True when this call created them."""
    from portal.extensions import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
            if sa.inspect(conn).has_table("procrastinate_jobs"):
                return False
            # The schema's text holds literal % signs: run it on the driver's cursor with no parameters.
            conn.connection.dbapi_connection.cursor().execute(procrastinate.schema.SchemaManager.get_schema())
    log.info("job queue: Procrastinate schema created")
    return True


def _run_job(context: procrastinate.JobContext, name: str, slot: str | None = None, trigger: str = "queue") -> str:
    """A worker runs one named job for its slot, through the same runner as every other trigger."""
    from portal.jobs.runner import run_job

    flask_app = context.additional_context["flask_app"]
    outcome = run_job(flask_app, name, trigger=trigger, slot=datetime.fromisoformat(slot) if slot else None)
    if outcome.status == "failed":
        raise RuntimeError(f"job {name} failed: {outcome.detail}")
    return outcome.status


async def _retry_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
    """Jobs held by a worker whose heartbeat stopped go back to the queue (its process died mid-job)."""
    seconds = float(context.additional_context.get("stalled_seconds", 30))
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=seconds)
    for job in stalled:
        log.warning("job queue: job %s (%s) of a dead worker goes back to the queue", job.id, job.task_name)
        await manager.retry_job(job)
    await manager.prune_stalled_workers(seconds_since_heartbeat=seconds)
    return len(stalled)


async def _retry_stalled_now(qapp: procrastinate.App, seconds: float) -> None:
    """At a worker's start: give back at once the jobs of workers that died (the periodic check runs each minute)."""
    async with qapp.open_async():
        for job in await qapp.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
            log.warning("job queue: job %s (%s) of a dead worker goes back to the queue", job.id, job.task_name)
            await qapp.job_manager.retry_job(job)


def _register(qapp: procrastinate.App) -> None:
    """The portal's tasks on one Procrastinate app (a Blueprint can be attached to one app only, and tests and the
    cluster test open several databases in one process)."""
    qapp.task(name=TASK, queue=QUEUE, pass_context=True)(_run_job)
    stalled = qapp.task(name=STALLED_TASK, queue=QUEUE, pass_context=True)(_retry_stalled)
    qapp.periodic(cron="* * * * *", periodic_id="retry-stalled")(stalled)


def _open_for_deferring(app: Flask) -> procrastinate.App:
    """The app with its connection pool open for the life of the process. The scheduler fires several jobs in the
    same second from APScheduler's thread pool: opening and closing the pool around each deferral let one thread close
    it under another (PoolClosed, found by `make cluster-test`). psycopg_pool's pool is thread-safe."""
    qapp = queue_app(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with _open_lock:
        if url not in _opened:
            qapp.open()
            _opened.add(url)
    return qapp


def defer(app: Flask, name: str, slot: datetime | None, trigger: str = "scheduler") -> bool:
    """Queue one run of a named job for its slot; False when that (job, slot) is already queued."""
    qapp = _open_for_deferring(app)
    lock = f"{name}@{slot.isoformat() if slot else 'now'}"
    try:
        qapp.tasks[TASK].configure(queueing_lock=lock).defer(
            name=name, slot=slot.isoformat() if slot else None, trigger=trigger)
    except procrastinate.exceptions.AlreadyEnqueued:
        return False
    return True


def depth(app: Flask) -> dict[str, int]:
    """Jobs waiting and running in the queue, for /healthz."""
    from portal.extensions import db

    rows = db.session.execute(sa.text(
        "SELECT status::text, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') GROUP BY 1"))
    found = {status: count for status, count in rows}
    return {"queued": int(found.get("todo", 0)), "running": int(found.get("doing", 0))}


def run_worker(app: Flask, name: str | None = None, concurrency: int = 1) -> None:
    """Run a worker until SIGINT/SIGTERM (Procrastinate installs the handlers and finishes the current job)."""
    import asyncio

    ensure_schema(app)
    stalled = float(app.config.get("QUEUE_STALLED_SECONDS", 30))
    asyncio.run(_retry_stalled_now(queue_app(app), stalled))
    queue_app(app).run_worker(queues=[QUEUE], name=name, concurrency=concurrency, wait=True,
                              additional_context={"flask_app": app, "stalled_seconds": stalled},
                              update_heartbeat_interval=max(1.0, stalled / 6), stalled_worker_timeout=stalled,
                              delete_jobs="successful")
