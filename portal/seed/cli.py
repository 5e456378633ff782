"""`flask --app wsgi seed-demo` and `flask --app wsgi load-reference`."""
from __future__ import annotations

import time
from datetime import date

import click
from flask import Flask

from portal.extensions import db


def _echo_reference(results: dict) -> None:
    for table, result in results.items():
        click.echo(f"  {table}: {result}")


def _print_accounts(accounts: list[tuple[str, str, str, str]], shared_password: bool) -> None:
    if not accounts:
        click.echo("No new demo accounts (they exist already; passwords were printed when they were created).")
        return
    click.echo("")
    click.echo("Demo accounts" + (" (password as given with --password):" if shared_password else
                                 " — these passwords are shown ONCE, note them now:"))
    rows = [("username", "role", "scope", "password"), *accounts]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        click.echo(f"  {r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    click.echo("")


def register(app: Flask) -> None:
    @app.cli.command("load-reference")
    def load_reference_command() -> None:
        """Upsert regions, industries and pollutant codes from portal/reference/data/*.csv."""
        from portal.reference.services import load_reference

        results = load_reference()
        db.session.commit()
        click.echo("Reference data loaded:")
        _echo_reference(results)

    @app.cli.command("seed-demo")
    @click.option("--enterprises", "n", default=300, show_default=True, type=click.IntRange(1, 5_000_000),
                  help="How many demo enterprises to generate.")
    @click.option("--seed", default=2024, show_default=True, type=int, help="Random seed (same seed, same data).")
    @click.option("--password", default=None, help="One password for every demo account (tests, CI); "
                  "without it each account gets a random password, printed once.")
    @click.option("--life", type=click.Choice(["full", "small", "none"]), default="full", show_default=True,
                  help="Seed monitoring, complaints, findings, grades, lists and open data through the services "
                       "(small: a few outlets and weeks, for tests; none: the registry only).")
    def seed_demo_command(n: int, seed: int, password: str | None, life: str) -> None:
        """Load reference data, then (only into an empty registry) demo enterprises, one account per role and, through
        the services, a year of activity."""
        from portal.reference.services import load_reference
        from portal.seed import demo

        if not demo.schema_ready():
            raise click.ClickException("The database has no tables yet: run `flask --app wsgi db upgrade` first.")
        results = load_reference()
        from portal.credit.services import seed_schemes
        results["credit schemes"] = seed_schemes()
        db.session.commit()
        click.echo("Reference data loaded:")
        _echo_reference(results)
        existing = demo.enterprise_count()
        if existing:
            click.echo(f"Demo data already seeded ({existing} enterprises in the registry); nothing changed.")
            return

        def progress(done: int, total: int) -> None:
            click.echo(f"  enterprises {done:>9,} / {total:,}")

        click.echo(f"Generating {n:,} demo enterprises (seed {seed}) ...")
        summary = demo.seed_demo(n, seed, date.today(), password=password, progress=progress)
        db.session.commit()
        click.echo(f"Seeded {summary.enterprises:,} enterprises, {summary.permits:,} permits, {summary.outlets:,} "
                   f"outlets, {summary.limits:,} limits, {summary.key_units:,} key-unit entries "
                   f"in {summary.seconds:.1f} s.")
        if summary.demo_enterprise is not None:
            click.echo(f"Demo enterprise for the enterprise accounts: {summary.demo_enterprise.name} "
                       f"({summary.demo_enterprise.uscc})")
        if life != "none":
            from portal.seed.life import SIZES, seed_life

            click.echo(f"Seeding demo activity ({life}) through the portal's services ...")
            started = time.monotonic()
            from portal.core.clock import china_today

            result = seed_life(china_today(), seed, SIZES[life], progress=click.echo)
            click.echo(f"  done in {time.monotonic() - started:.1f} s: " + ", ".join(
                f"{k} {v}" for k, v in result.items() if k != "opendata"))
        _print_accounts(summary.accounts, shared_password=password is not None)
