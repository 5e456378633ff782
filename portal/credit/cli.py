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


@credit_cli.command("evaluate")
@click.option("--year", required=True, type=click.IntRange(2014, 2100), help="The calendar year evaluated.")
@click.option("--jurisdiction", default="", help="Region-code prefix (e.g. 3208); without it, one run per province.")
@click.option("--notice-days", default=None, type=click.IntRange(7, 30), help="Public notice length (default 15).")
def evaluate_command(year: int, jurisdiction: str, notice_days: int | None) -> None:
    """Compute the proposed results (拟评) of the annual evaluation; a regulator then puts them on notice."""
    import sqlalchemy as sa

    from portal.credit.evaluation import compute_run, grade_counts
    from portal.enterprises.models import Enterprise
    from portal.errors import DomainError

    if jurisdiction and not (jurisdiction.isdigit() and len(jurisdiction) <= 6):
        raise click.BadParameter("give a region-code prefix such as 32 or 3208", param_hint="--jurisdiction")
    prefixes = [jurisdiction] if jurisdiction else sorted(db.session.scalars(
        sa.select(sa.func.substr(Enterprise.region_code, 1, 2)).distinct()))
    for prefix in prefixes:
        started = time.perf_counter()
        try:
            run = compute_run(year, prefix, "cli", notice_days)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(f"{prefix}: {exc.message}") from exc
        db.session.commit()
        grades = grade_counts(run)
        summary = ", ".join(f"{k} {v:,}" for k, v in sorted(grades.items()))
        click.echo(f"Run {run.id} ({year}, jurisdiction {prefix}): {sum(grades.values()):,} enterprises "
                   f"[{summary}] in {time.perf_counter() - started:.1f} s.")


@credit_cli.command("draw")
@click.option("--jurisdiction", required=True, help="Region-code prefix, e.g. 3208.")
@click.option("--year", required=True, type=click.IntRange(2014, 2100))
@click.option("--quarter", required=True, type=click.IntRange(1, 4))
def draw_command(jurisdiction: str, year: int, quarter: int) -> None:
    """Draw the quarter's random-inspection targets and inspectors (sealed; once per quarter)."""
    from portal.credit.draws import make_draw
    from portal.errors import DomainError

    try:
        entry = make_draw("cli", jurisdiction, year, quarter)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    forced = sum(1 for row in entry.result if row.get("forced"))
    short = [row["uscc"] for row in entry.result if row.get("short")]
    click.echo(f"Draw {entry.id}: {len(entry.result)} targets from {len(entry.pool['pool'])} enterprises "
               f"({len(entry.pool.get('uncovered_key', []))} key units not yet inspected this year, {forced} drawn "
               f"for coverage; {len(entry.pool.get('conflicts', []))} conflicts excluded); "
               f"seed {entry.seed}; seal {entry.seal}")
    if short:
        click.echo(f"Too few inspectors without a conflict for: {', '.join(short)}")


@credit_cli.command("draw-verify")
@click.argument("draw_id", type=int)
def draw_verify_command(draw_id: int) -> None:
    """Re-run a stored draw from its seed and pool snapshot and compare result and seal."""
    from portal.credit.draws import verify
    from portal.credit.models import InspectionDraw

    entry = db.session.get(InspectionDraw, draw_id)
    if entry is None:
        raise click.ClickException(f"no draw {draw_id}")
    if not verify(entry):
        raise click.ClickException(f"draw {draw_id}: MISMATCH")
    click.echo(f"draw {draw_id}: the same result and seal ({entry.seal})")
