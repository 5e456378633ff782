"""`flask --app wsgi integrity scan [--uscc USCC] [--from DATE --to DATE]`: run the rules on demand."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import click
import sqlalchemy as sa

from portal.core.clock import china_tz
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.integrity import scanning
from portal.integrity.views import bp


def _day(value: date | None, name: str) -> datetime | None:
    return datetime.combine(value, time(0), tzinfo=china_tz()) if value else None


@bp.cli.command("scan")
@click.option("--uscc", default=None, help="Credit code of one enterprise (default: every enterprise).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First China-local day (default: 31 days before --to).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last China-local day, included (default: up to the current hour).")
def scan(uscc: str | None, start: datetime | None, end: datetime | None) -> None:
    """Raise integrity flags (R1-R13) for the outlets' hourly data in the range; flags already raised for an
    overlapping window are not raised again."""
    if uscc:
        uscc = uscc.strip().upper()
        if db.session.scalar(sa.select(Enterprise.id).where(Enterprise.uscc == uscc)) is None:
            raise click.BadParameter(f"no enterprise has the credit code {uscc}", param_hint="--uscc")
    t0 = _day(start.date(), "from") if start else None
    t1 = _day(end.date() + timedelta(days=1), "to") if end else None
    if t0 and t1 and t1 <= t0:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    if t0 and not t1:
        t1 = min(t0 + timedelta(days=31), datetime.now(china_tz()).replace(minute=0, second=0, microsecond=0))
    result = scanning.scan(uscc, t0, t1)
    db.session.commit()
    counts = ", ".join(f"{k}: {v}" for k, v in result.count().items()) or "none"
    click.echo(f"Scanned {result.outlets} outlets; new flags: {len(result.flags)} ({counts}).")
