"""`flask --app wsgi jobs list | run NAME | scheduler`."""
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
    """Run the scheduler in this process until interrupted (run exactly one)."""
    from portal.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("scheduler started (Asia/Shanghai); Ctrl+C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
