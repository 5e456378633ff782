"""Public complaint numbers: per-enterprise counts for the enterprise page and the monthly bulletin.
Nothing here reads or returns reporter data."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from portal.complaints import rules
from portal.complaints.models import Complaint, Findings, Status
from portal.complaints.common import _local_date
from portal.core.clock import china_today, china_tz
from portal.extensions import db
from portal.reference.models import Region


def enterprise_counts(enterprise_id: int, today: date | None = None) -> dict[str, int]:
    """Received / accepted / substantiated complaints about one enterprise over the last 12 months."""
    since_day = (today or china_today()) - timedelta(days=365)
    since = datetime(since_day.year, since_day.month, since_day.day, tzinfo=china_tz())
    count = sa.func.count()
    received, accepted, substantiated = db.session.execute(  # one scan for the three numbers
        sa.select(count, count.filter(Complaint.accepted_at.is_not(None)),
                  count.filter(Complaint.findings == Findings.SUBSTANTIATED))
        .select_from(Complaint).where(Complaint.enterprise_id == enterprise_id, Complaint.received_at >= since,
                                      Complaint.merged_into_id.is_(None))).one()
    return {"received": received or 0, "accepted": accepted or 0, "substantiated": substantiated or 0}


def monthly_statistics(year: int, month: int) -> dict:
    """The public monthly bulletin: cases received by category, channel and district, and the on-time rates of
    acceptance decisions and replies made in the month (like MEE's monthly 12369 reports). No reporter data."""
    first, after = rules.month_bounds(year, month)
    tz = china_tz()
    start, end = (datetime(d.year, d.month, d.day, tzinfo=tz) for d in (first, after))
    received = sa.and_(Complaint.received_at >= start, Complaint.received_at < end)

    def grouped(column) -> list[tuple[str, int]]:
        rows = db.session.execute(sa.select(column, sa.func.count()).where(received).group_by(column)
                                  .order_by(sa.func.count().desc(), column))
        return [(getattr(key, "value", key), n) for key, n in rows]

    districts = grouped(Complaint.region_code)
    names = dict(db.session.execute(sa.select(Region.code, Region.name)
                                    .where(Region.code.in_([code for code, _ in districts]))).all())
    decided = db.session.execute(
        sa.select(Complaint.accepted_at, Complaint.closed_at, Complaint.accept_due, Complaint.status)
        .where(sa.or_(sa.and_(Complaint.accepted_at >= start, Complaint.accepted_at < end),
                      sa.and_(Complaint.status == Status.REJECTED, Complaint.closed_at >= start,
                              Complaint.closed_at < end)))).all()
    accepted_on_time = sum(1 for acc, closed, due, _s in decided if _local_date(acc or closed) <= due)
    replied = db.session.execute(
        sa.select(Complaint.replied_at, Complaint.close_due, Complaint.extended_until)
        .where(Complaint.replied_at >= start, Complaint.replied_at < end)).all()
    replied_on_time = sum(1 for at, due, ext in replied if due is None or _local_date(at) <= (ext or due))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(received)) or 0
    return {"year": year, "month": month, "received": total,
            "by_category": grouped(Complaint.category), "by_channel": grouped(Complaint.channel),
            "by_district": [(code, names.get(code, code), n) for code, n in districts],
            "decided": len(decided), "decided_on_time": rules.share(accepted_on_time, len(decided)),
            "replied": len(replied), "replied_on_time": rules.share(replied_on_time, len(replied))}
