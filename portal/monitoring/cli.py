"""`flask devices add|list|listen`: register HJ 212 data loggers (MN + password) against an enterprise outlet.
`flask monitoring-storage partitions`: the monthly partitions of monitoring values (PostgreSQL)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.monitoring import partitions, services
from portal.monitoring.listener import Hj212Listener

devices = AppGroup("devices", help="Automatic monitoring devices (HJ 212 data loggers).")


@devices.command("add")
@click.option("--mn", required=True, help="The device's MN as configured in the data logger.")
@click.option("--password", prompt=True, hide_input=True, help="The device's PW; prompted for when not given.")
@click.option("--uscc", required=True, help="Credit code of the enterprise.")
@click.option("--outlet", "outlet_code", required=True, help="Outlet code, e.g. DA001 or DW001.")
def add(mn: str, password: str, uscc: str, outlet_code: str) -> None:
    """Register a device (audited); fails, changing nothing, if the MN is taken."""
    with force_locale("en"):
        try:
            device = services.add_device("cli", mn=mn, password=password, uscc=uscc, outlet_code=outlet_code)
        except ValidationFailed as exc:
            db.session.rollback()
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        db.session.commit()
        click.echo(f"Registered device {device.mn} for outlet {outlet_code.upper()} (id {device.id}).")


@devices.command("list")
def list_devices() -> None:
    """Print every registered device."""
    for device in services.all_devices():
        state = "active" if device.is_active else "inactive"
        click.echo(f"{device.mn}\t{device.enterprise.uscc}\t{device.outlet.code}\t{state}")


@devices.command("listen")
@click.option("--host", default=None, help="Address to bind (default HJ212_LISTEN_HOST, 0.0.0.0).")
@click.option("--port", type=int, default=None, help="TCP port (default HJ212_LISTEN_PORT, 9212).")
def listen(host: str | None, port: int | None) -> None:
    """Run the HJ 212 TCP listener in the foreground until SIGTERM or Ctrl-C (its own process)."""
    Hj212Listener(current_app._get_current_object(), host=host, port=port).run()


storage = AppGroup("monitoring-storage", help="Storage of monitoring values (PostgreSQL monthly partitions).")


@storage.command("partitions")
@click.option("--ensure", is_flag=True, help="First create this and the next 3 months and sweep the default partition.")
def list_partitions(ensure: bool) -> None:
    """Print each partition of monitoring_values with its bounds and approximate rows."""
    if ensure:
        click.echo(partitions.run_maintenance())
        db.session.commit()
    rows = partitions.describe()
    if not rows:
        click.echo("monitoring_values is a plain table on this database (no partitions).")
        return
    for name, bounds, approx in rows:
        click.echo(f"{name}\t{bounds}\t{'?' if approx is None else f'~{approx}'} rows")
    holds = partitions.default_has_rows()
    click.echo(f"default partition: {'HOLDS ROWS (run with --ensure)' if holds else 'empty'}")


def register(app: Flask) -> None:
    app.cli.add_command(devices)
    app.cli.add_command(storage)
