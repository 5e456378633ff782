"""`flask --app wsgi audit verify`: check every chain (keys, MACs over every column, links, heads) and every
published seal; name the first bad record. `audit publish-heads`: seal today's heads (the daily job does it too)."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="Audit log commands.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Exit 0 when every chain and seal is intact; otherwise name the first bad record, list all, exit 1."""
    import sqlalchemy as sa

    from portal.audit.models import AuditChainHead, AuditSeal
    from portal.audit.services import verify
    from portal.extensions import db

    problems = verify()
    count = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(AuditChainHead.seq), 0)))
    chains = db.session.scalar(sa.select(sa.func.count()).select_from(AuditChainHead))
    sealed = db.session.scalar(sa.select(sa.func.count()).select_from(AuditSeal))
    if not problems:
        click.echo(f"audit chain intact: {count} records in {chains} chain(s), {sealed} published head(s) match")
        return
    click.echo(f"FIRST BAD: {problems[0].where}: {problems[0].message}", err=True)
    for p in problems:
        click.echo(f"TAMPERED {p.where}: {p.message}", err=True)
    click.echo(f"{len(problems)} problem(s) in {count} records", err=True)
    sys.exit(1)


@audit_cli.command("publish-heads")
def publish_command() -> None:
    """Seal and publish today's chain heads (idempotent)."""
    from portal.audit.services import publish_heads_job

    click.echo(publish_heads_job())


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
