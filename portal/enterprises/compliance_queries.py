"""Counts for the compliance grid (portal/enterprises/compliance.py): one GROUP BY query per row source, each
putting rows into quarter buckets with a CASE over the quarter boundaries (portable across SQLite and PostgreSQL,
and index-friendly: the WHERE is a plain range on the date column).

Quarters are China calendar quarters (DOMAIN §9); UTC timestamps are compared with China midnights in UTC.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timezone
from typing import Any

import sqlalchemy as sa

from portal.complaints.models import Complaint, Findings, Status as ComplaintStatus
from portal.core.clock import china_today, china_tz
from portal.credit.models import Evidence, EvidenceKind
from portal.disclosures.models import Obligation, ObligationStatus
from portal.enterprises.compliance import QUARTERS, Grid, Quarter, Row, build_grid, last_quarters
from portal.extensions import db
from portal.monitoring.models import ExceedanceIncident

# Administrative sanctions (DOMAIN §2.3) shown in the penalties row; findings and events are not penalties.
PENALTY_KINDS = (EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY, EvidenceKind.PRODUCTION_LIMIT,
                 EvidenceKind.PRODUCTION_STOP, EvidenceKind.PERMIT_REVOKED, EvidenceKind.DETENTION,
                 EvidenceKind.CRIMINAL)


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=china_tz()).astimezone(timezone.utc)


def _bounds(quarters: list[Quarter], is_datetime: bool) -> list[Any]:
    """Start of the first quarter, then the end of each quarter."""
    days = [quarters[0].first_day] + [q.end for q in quarters]
    return [_utc_midnight(d) for d in days] if is_datetime else days


def _bucketed(column, quarters: list[Quarter], is_datetime: bool, *where, extra=()) -> list[sa.Row]:
    """(bucket, *extra, count) for rows with `column` inside the quarters; one query."""
    bounds = _bounds(quarters, is_datetime)
    bucket = sa.case(*[(column < end, i) for i, end in enumerate(bounds[1:])]).label("bucket")
    inner = (sa.select(bucket, *extra).where(column >= bounds[0], column < bounds[-1], *where).subquery())
    keys = [inner.c.bucket] + [inner.c[e.key] for e in extra]
    return list(db.session.execute(sa.select(*keys, sa.func.count()).group_by(*keys)))


def _counts(rows: list[sa.Row]) -> dict[int, int]:
    return {int(r[0]): int(r[-1]) for r in rows}


def compliance_counts(enterprise_id: int, quarters: list[Quarter]) -> tuple[dict, dict]:
    """Four queries, whatever the number of quarters: counts per row and quarter index, and the late/missing split
    of the reports row."""
    counts: dict[Row, dict[int, int]] = {}
    counts[Row.EXCEEDANCES] = _counts(_bucketed(
        ExceedanceIncident.period_start, quarters, True, ExceedanceIncident.enterprise_id == enterprise_id))
    report_rows = _bucketed(
        Obligation.due_on, quarters, False, Obligation.enterprise_id == enterprise_id,
        Obligation.status.in_((ObligationStatus.LATE, ObligationStatus.MISSING)), extra=(Obligation.status,))
    reports: dict[int, int] = defaultdict(int)
    split: dict[int, dict[str, int]] = defaultdict(dict)
    for bucket, status, n in report_rows:
        reports[int(bucket)] += int(n)
        split[int(bucket)][ObligationStatus(status).value] = int(n)
    counts[Row.REPORTS] = dict(reports)
    counts[Row.PENALTIES] = _counts(_bucketed(
        Evidence.occurred_on, quarters, False, Evidence.enterprise_id == enterprise_id,
        Evidence.kind.in_(PENALTY_KINDS), Evidence.is_verified.is_(True), Evidence.is_public.is_(True),
        Evidence.withdrawn_at.is_(None)))
    counts[Row.COMPLAINTS] = _counts(_bucketed(
        Complaint.closed_at, quarters, True, Complaint.enterprise_id == enterprise_id,
        Complaint.status == ComplaintStatus.CLOSED, Complaint.findings == Findings.SUBSTANTIATED))
    return counts, {Row.REPORTS: dict(split)}


def compliance_grid(enterprise_id: int, today: date | None = None, n: int = QUARTERS) -> Grid:
    today = today or china_today()
    counts, details = compliance_counts(enterprise_id, last_quarters(today, n))
    return build_grid(today, counts, details, n)
