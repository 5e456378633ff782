"""`flask devices add|list|rotate-key|listen`: register HJ 212 data loggers (MN + password, and for HJ 212-2025 an
SM4 key) against an enterprise outlet.
`flask monitoring-storage partitions`: the monthly partitions of monitoring values (PostgreSQL)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.monitoring import devicepage, partitions, services
from portal.monitoring.listener import Hj212Listener

devices = AppGroup("devices", help="Automatic monitoring devices (HJ 212 data loggers).")


@devices.command("add")
@click.option("--mn", required=True, help="The device's MN as configured in the data logger.")
@click.option("--password", prompt=True, hide_input=True, help="The device's PW; prompted for when not given.")
@click.option("--uscc", required=True, help="Credit code of the enterprise.")
@click.option("--outlet", "outlet_code", required=True, help="Outlet code, e.g. DA001 or DW001.")
@click.option("--protocol", type=click.Choice(["2017", "2025"]), default="2017", show_default=True,
              help="HJ 212 edition the data logger speaks (2025: SM4-encrypted data area).")
@click.option("--sm4-key", default=None, help="2025 only: the logger's SM4 key (32 hex digits); a new one is made "
                                              "and printed once when left out.")
def add(mn: str, password: str, uscc: str, outlet_code: str, protocol: str, sm4_key: str | None) -> None:
    """Register a device (audited); fails, changing nothing, if the MN is taken."""
    with force_locale("en"):
        try:
            device = services.add_device("cli", mn=mn, password=password, uscc=uscc, outlet_code=outlet_code,
                                         protocol=protocol, sm4_key=sm4_key)
        except ValidationFailed as exc:
            db.session.rollback()
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        db.session.commit()
        click.echo(f"Registered device {device.mn} for outlet {outlet_code.upper()} (id {device.id}, "
                   f"HJ 212-{device.protocol}).")
        if device.protocol == "2025":
            click.echo(f"SM4 key (shown once; configure it in the data logger): {device.new_sm4_key}")
        _where_to_send()


def _where_to_send() -> None:
    config = current_app.config
    click.echo(f"Point the logger at TCP {devicepage.public_host(config)}:"
               f"{config['HJ212_LISTEN_PORT']} or HTTP POST {config['PUBLIC_BASE_URL'].rstrip('/')}"
               f"/api/v1/monitoring/hj212 (one packet per line).")


@devices.command("rotate-key")
@click.option("--mn", required=True, help="The device's MN.")
@click.option("--sm4-key", default=None, help="The new key (32 hex digits); a new one is made when left out.")
def rotate_key(mn: str, sm4_key: str | None) -> None:
    """Give a 2025 device a new SM4 key (audited, printed once); the logger must be set to it as well."""
    with force_locale("en"):
        device = services.device_by_mn(mn)
        if device is None:
            raise click.ClickException(f"No device has MN {mn}.")
        try:
            key = services.rotate_sm4_key("cli", device, sm4_key)
        except ValidationFailed as exc:
            db.session.rollback()
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        db.session.commit()
        click.echo(f"New SM4 key for {device.mn} (shown once): {key}")


@devices.command("list")
def list_devices() -> None:
    """Print every registered device."""
    for device in services.all_devices():
        state = "active" if device.is_active else "inactive"
        click.echo(f"{device.mn}\t{device.enterprise.uscc}\t{device.outlet.code}\t{state}\tHJ 212-{device.protocol}")


@devices.command("listen")
@click.option("--host", default=None, help="Address to bind (default HJ212_LISTEN_HOST, 0.0.0.0).")
@click.option("--port", type=int, default=None, help="TCP port (default HJ212_LISTEN_PORT, 9212).")
@click.option("--reuse-port", is_flag=True, default=None,
              help="Share the port with other listener processes (SO_REUSEPORT; default HJ212_LISTEN_REUSE_PORT).")
@click.option("--max-connections", type=int, default=None,
              help="Open connections this process holds (default HJ212_LISTEN_MAX_CONNECTIONS).")
@click.option("--workers", type=int, default=None, help="Ingest threads (default HJ212_LISTEN_WORKERS).")
def listen(host: str | None, port: int | None, reuse_port: bool | None, max_connections: int | None,
           workers: int | None) -> None:
    """Run the HJ 212 TCP listener in the foreground until SIGTERM or Ctrl-C (its own process). Several processes
    may share one port with --reuse-port (docs/deployment.md)."""
    Hj212Listener(current_app._get_current_object(), host=host, port=port, reuse_port=reuse_port,
                  max_connections=max_connections, workers=workers).run()


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
