"""`flask --app wsgi audit verify`: walk the hash chain and report any edited or deleted record."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="Audit log commands.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Exit 0 when the chain is intact; otherwise list each problem and exit 1."""
    from portal.audit.models import AuditHead
    from portal.audit.services import verify
    from portal.extensions import db

    problems = verify()
    head = db.session.get(AuditHead, 1)
    count = head.seq if head else 0
    if not problems:
        click.echo(f"audit chain intact: {count} records, head {head.hash[:16] if head else '-'}…")
        return
    for p in problems:
        where = f"record {p.seq}" if p.seq is not None else "chain"
        click.echo(f"TAMPERED {where}: {p.message}", err=True)
    click.echo(f"{len(problems)} problem(s) in {count} records", err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
