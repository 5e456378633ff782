"""`flask --app wsgi jobs list | run NAME | scheduler | worker`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("list")
def list_command() -> None:
    """Show every named job with its schedule (Asia/Shanghai)."""
    from portal.jobs.registry import JOBS

    for job in JOBS.values():
        click.echo(f"{job.name:28} {job.cron:14} {job.description}")


@jobs_cli.command("run")
@click.argument("name")
def run_command(name: str) -> None:
    """Run one job now (idempotent; exits 1 if it fails)."""
    from portal.jobs.registry import JOBS
    from portal.jobs.runner import run_job

    if name not in JOBS:
        raise click.BadParameter(f"unknown job {name!r}; known: {', '.join(JOBS)}", param_hint="NAME")
    outcome = run_job(current_app._get_current_object(), name, trigger="manual")
    click.echo(f"{name}: {outcome.status} {outcome.detail}".rstrip())
    if not outcome.ok:
        raise SystemExit(1)


@jobs_cli.command("scheduler")
def scheduler_command() -> None:
    """Run a scheduler in this process until interrupted. Start one per host: they elect one leader (a lease in
    the database); the others stand by and take over within SCHEDULER_LEASE_SECONDS if it dies."""
    import signal

    from portal.jobs.scheduler import LeaderLoop

    loop = LeaderLoop(current_app._get_current_object())
    signal.signal(signal.SIGTERM, lambda *_: loop.stopping.set())
    click.echo(f"scheduler {loop.holder} started (Asia/Shanghai); Ctrl+C to stop")
    try:
        loop.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        loop.stop()


@jobs_cli.command("worker")
@click.option("--name", default=None, help="Worker name shown in the queue's records (default: host and pid).")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Jobs run at once by this worker (threads).")
def worker_command(name: str | None, concurrency: int) -> None:
    """Run queued background jobs until interrupted (JOBS_QUEUE=procrastinate on PostgreSQL). Start any number, on
    any host: each job is taken by one worker; the jobs of a worker that dies go back to the queue."""
    import os
    import socket

    from portal.jobs import queue

    app = current_app._get_current_object()
    if not queue.enabled(app):
        raise click.UsageError("the job queue needs PostgreSQL and PORTAL_JOBS_QUEUE=procrastinate; with SQLite the "
                               "scheduler runs jobs itself (flask --app wsgi jobs scheduler)")
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    click.echo(f"worker {name} started; Ctrl+C to stop")
    queue.run_worker(app, name=name, concurrency=concurrency)


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
