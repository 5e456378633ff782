"""Back-fill speed (issue 19): hourly values are their own hour, so the hour roll-ups keep manual samples only.

The ingest no longer writes an hour roll-up row for an hourly value (a device's CN 2061 mean, a derived mean); the
readers merge the hourly values with the hour roll-ups (portal/monitoring/hours.py). Stored hour roll-ups counted
both: they are rebuilt from the manual samples alone, so nothing is counted twice. Day and month roll-ups are
unchanged. Downgrade rebuilds the hour roll-ups from hourly values and manual samples, as the old code kept them.

Revision ID: 0012_landing
Revises: 0010_unknown_mn
Create Date: 2026-12-07
"""
import os
from datetime import timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_landing'
down_revision = '0010_unknown_mn'
branch_labels = None
depends_on = None

UTC = timezone.utc
VALID_FLAGS = ("N",)  # portal.monitoring.rules.VALID_FLAGS when this was written


def _tz() -> ZoneInfo:
    try:
        from flask import current_app
        return ZoneInfo(current_app.config.get("PORTAL_TIMEZONE", "Asia/Shanghai"))
    except RuntimeError:  # outside an app context
        return ZoneInfo(os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai"))


def _rebuild(periods: tuple[str, ...]) -> None:
    """Hour roll-ups from the values of `periods`, grouped by local hour (as bulk_sql's roll-up statement does)."""
    bind = op.get_bind()
    tz = _tz()
    values = sa.table("monitoring_values", sa.column("outlet_id"), sa.column("pollutant_code"), sa.column("period"),
                      sa.column("measured_at", sa.DateTime(timezone=True)), sa.column("value"),
                      sa.column("value_min"), sa.column("value_max"), sa.column("value_converted"),
                      sa.column("flag"))
    rollups = sa.table("monitoring_rollups", sa.column("outlet_id"), sa.column("pollutant_code"),
                       sa.column("resolution"), sa.column("period_start", sa.DateTime(timezone=True)),
                       sa.column("n_all"), sa.column("n_valid"), sa.column("sum_valid"), sa.column("min_valid"),
                       sa.column("max_valid"), sa.column("n_conv"), sa.column("sum_conv"))
    bind.execute(rollups.delete().where(rollups.c.resolution == "hour"))
    acc: dict[tuple, list] = {}
    result = bind.execute(  # streamed: the statement's option, not the connection's (that would stay on)
        sa.select(values.c.outlet_id, values.c.pollutant_code, values.c.measured_at, values.c.value,
                  values.c.value_min, values.c.value_max, values.c.value_converted, values.c.flag)
        .where(values.c.period.in_(periods), values.c.value.is_not(None)).execution_options(stream_results=True))
    for outlet_id, code, at, value, low, high, conv, flag in result:
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        hour = at.astimezone(tz).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        a = acc.setdefault((outlet_id, code, hour), [0, 0, 0.0, None, None, 0, 0.0])
        a[0] += 1
        if (flag or "N") in VALID_FLAGS:
            low, high = value if low is None else low, value if high is None else high
            a[1], a[2] = a[1] + 1, a[2] + value
            a[3] = low if a[3] is None else min(a[3], low)
            a[4] = high if a[4] is None else max(a[4], high)
            if conv is not None:
                a[5], a[6] = a[5] + 1, a[6] + conv
    rows = [{"outlet_id": o, "pollutant_code": c, "resolution": "hour",
             "period_start": h,
             "n_all": a[0], "n_valid": a[1], "sum_valid": a[2], "min_valid": a[3], "max_valid": a[4],
             "n_conv": a[5], "sum_conv": a[6]} for (o, c, h), a in acc.items()]
    for start in range(0, len(rows), 5000):
        bind.execute(rollups.insert(), rows[start:start + 5000])


def upgrade():
    _rebuild(("manual",))


def downgrade():
    _rebuild(("hour", "manual"))
