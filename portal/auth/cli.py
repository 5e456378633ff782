"""`flask users create-admin` and `flask users create`: accounts from the command line (first admin, scripts)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.auth import services
from portal.auth.models import Role
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db

users = AppGroup("users", help="Create portal accounts and reset their passwords.")

_password_option = click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                help="Prompted for (hidden) when not given.")


def _create(**kwargs) -> None:
    try:
        user = services.create_account("cli", **kwargs)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.username!r} (id {user.id}).")


@users.command("create-admin")
@click.option("--username", default="admin", show_default=True)
@click.option("--display-name", default="", help="Defaults to the username.")
@click.option("--email", default="")
@_password_option
def create_admin(username: str, display_name: str, email: str, password: str) -> None:
    """Create an administrator account (fails, changing nothing, if the username exists)."""
    with force_locale("en"):  # no request here to pick a language from
        _create(username=username, display_name=display_name, email=email, password=password, role=Role.ADMIN)


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--display-name", default="", help="Defaults to the username.")
@click.option("--email", default="")
@click.option("--jurisdiction", default="", help="Region-code prefix for regulators (32, 3208, 320826).")
@click.option("--uscc", default="", help="Credit code of the enterprise, for enterprise roles.")
@_password_option
def create(username: str, role: str, display_name: str, email: str, jurisdiction: str, uscc: str,
           password: str) -> None:
    """Create an account of any role; enterprise accounts given --uscc are bound to that enterprise directly."""
    with force_locale("en"):  # no request here to pick a language from
        _create_any(username, role, display_name, email, jurisdiction, uscc, password)


def _create_any(username: str, role: str, display_name: str, email: str, jurisdiction: str, uscc: str,
                password: str) -> None:
    chosen = Role(role)
    enterprise = None
    if uscc:
        if not chosen.is_enterprise:
            raise click.ClickException("--uscc applies only to enterprise roles.")
        checked = check_uscc(uscc)
        if not checked.ok:
            raise click.ClickException(f"--uscc: {checked.error}")
        enterprise = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == checked.value))
        if enterprise is None:
            raise click.ClickException(f"--uscc: no enterprise with the credit code {checked.value}.")
    _create(username=username, display_name=display_name, email=email, password=password, role=chosen,
            jurisdiction_code=jurisdiction or None, enterprise=enterprise)


@users.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Print a one-time link to choose a new password (for a person without mail). The old password stops working
    and every session of the account ends; the link is valid PASSWORD_RESET_MINUTES."""
    from portal.auth import recovery

    with force_locale("en"):
        user = services.find_user(username)
        if user is None:
            raise click.ClickException(f"No account named {username!r}.")
        if not user.is_active_account:
            raise click.ClickException(f"The account {user.username!r} is deactivated; reactivate it first.")
        token = recovery.force("cli", user)
        db.session.commit()
        click.echo(f"One-time link for {user.username!r} (valid {current_app.config['PASSWORD_RESET_MINUTES']} "
                   f"minutes):\n{recovery.link(token)}")


def register(app: Flask) -> None:
    app.cli.add_command(users)
