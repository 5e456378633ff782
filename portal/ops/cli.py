"""`flask --app wsgi backup [--output PATH]` and `flask --app wsgi restore PATH --yes`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app

from portal.ops.backup import BackupError, backup, default_backup_path, restore


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the backup (default: instance/backups/portal-<UTC time>.<sqlite3|pgdump>).")
def backup_command(output: Path | None) -> None:
    """Write a consistent backup of the live database."""
    from portal.extensions import db

    url = db.engine.url
    target = output or default_backup_path(current_app.instance_path, url)
    try:
        written = backup(url.render_as_string(hide_password=False), target)
    except BackupError as exc:
        click.echo(f"backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backup written: {written} ({written.stat().st_size:,} bytes)")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the current content may be replaced.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database content with a backup (stop the web server and the scheduler first)."""
    from portal.extensions import db

    if not yes:
        click.echo("restore replaces every table's content; run again with --yes to confirm", err=True)
        sys.exit(2)
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    try:
        restore(url.render_as_string(hide_password=False), source)
    except BackupError as exc:
        click.echo(f"restore failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored from {source}")


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
