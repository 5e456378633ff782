"""`flask --app wsgi credit seed-schemes | recompute | refresh`."""
from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db

credit_cli = AppGroup("credit", help="Environmental credit: schemes, ledgers and standings.")


@credit_cli.command("seed-schemes")
def seed_schemes_command() -> None:
    """Load the national 2013 and Jiangsu 12-point presets and the default jurisdiction mapping (idempotent)."""
    from portal.credit.services import seed_schemes

    result = seed_schemes()
    db.session.commit()
    for key, outcome in result.items():
        click.echo(f"  {key}: {outcome}")


@credit_cli.command("recompute")
@click.option("--jurisdiction", default="", help="Only enterprises whose region code starts with this prefix.")
def recompute_command(jurisdiction: str) -> None:
    """Rebuild every enterprise's ledger and standing from its verified evidence (after a scheme change)."""
    from portal.credit.services import recompute_all

    if jurisdiction and not jurisdiction.isdigit():
        raise click.BadParameter("give a region-code prefix such as 32 or 3208", param_hint="--jurisdiction")
    started = time.perf_counter()
    count = recompute_all(jurisdiction)
    db.session.commit()
    click.echo(f"Recomputed {count:,} enterprises in {time.perf_counter() - started:.1f} s.")


@credit_cli.command("refresh")
def refresh_command() -> None:
    """Recompute the standings whose ledger entries start or stop counting today (the credit-refresh job)."""
    from portal.credit.services import refresh_due_standings

    count = refresh_due_standings()
    db.session.commit()
    click.echo(f"Refreshed {count:,} standings.")


def register(app: Flask) -> None:
    app.cli.add_command(credit_cli)
