"""Counts for the compliance grid (portal/enterprises/compliance.py): one GROUP BY per row source, each putting
rows into quarter buckets with a CASE over the quarter boundaries (portable across SQLite and PostgreSQL, and
index-friendly: the WHERE is a plain range on the date column), sent as one UNION ALL statement.

Quarters are China calendar quarters (DOMAIN §9); UTC timestamps are compared with China midnights in UTC.
"""
from __future__ import annotations

import functools
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
from portal.permits.models import ExecutionReport, ReportStatus
from portal.permits.services import confirmed_late_clause

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


# (row, date column, is it a UTC datetime, conditions besides the enterprise, the column kept beside the bucket)
SOURCES = (
    (Row.EXCEEDANCES, ExceedanceIncident.period_start, True, ExceedanceIncident.enterprise_id, (), None),
    (Row.REPORTS, Obligation.due_on, False, Obligation.enterprise_id,
     (Obligation.status.in_((ObligationStatus.LATE, ObligationStatus.MISSING)),), Obligation.status),
    # Permit execution reports (排污许可管理办法) late or not filed, by their (nominal) due date, once the finding is
    # confirmed (the report is filed on the national platform, not here: until then it is a clue).
    (Row.REPORTS, ExecutionReport.due_on, False, ExecutionReport.enterprise_id,
     (ExecutionReport.status.in_((ReportStatus.LATE, ReportStatus.MISSING)), confirmed_late_clause()),
     ExecutionReport.status),
    (Row.PENALTIES, Evidence.occurred_on, False, Evidence.enterprise_id,
     (Evidence.kind.in_(PENALTY_KINDS), Evidence.is_verified.is_(True), Evidence.is_public.is_(True),
      Evidence.withdrawn_at.is_(None)), None),
    (Row.COMPLAINTS, Complaint.closed_at, True, Complaint.enterprise_id,
     (Complaint.status == ComplaintStatus.CLOSED, Complaint.findings == Findings.SUBSTANTIATED), None),
)
ROWS = [source[0] for source in SOURCES]


@functools.lru_cache(maxsize=4)
def _statement(n: int) -> sa.CompoundSelect:
    """(source index, bucket, status or NULL, count) for every row source, as one UNION ALL of GROUP BYs. Built once
    per number of quarters with the bounds as parameters ("<row>_<i>"): building the four CASEs per request cost
    more than the query."""
    parts = []
    for index, (row, column, _is_datetime, enterprise, where, status) in enumerate(SOURCES):
        bounds = [sa.bindparam(f"{row.value}{index}_{i}", type_=column.type) for i in range(n + 1)]
        bucket = sa.case(*[(column < end, sa.literal_column(str(i))) for i, end in enumerate(bounds[1:])])
        inner = (sa.select(bucket.label("bucket"), (sa.null() if status is None else status).label("status"))
                 .where(enterprise == sa.bindparam("enterprise_id"), column >= bounds[0], column < bounds[-1],
                        *where).subquery())
        parts.append(sa.select(sa.literal_column(str(index)).label("source"), inner.c.bucket, inner.c.status,
                               sa.func.count()).group_by(inner.c.bucket, inner.c.status))
    return sa.union_all(*parts)


def compliance_counts(enterprise_id: int, quarters: list[Quarter]) -> tuple[dict, dict]:
    """One statement, whatever the number of quarters: counts per row and quarter index, and the late/missing
    split of the reports row."""
    params: dict[str, Any] = {"enterprise_id": enterprise_id}
    for index, (row, _column, is_datetime, *_rest) in enumerate(SOURCES):
        params.update({f"{row.value}{index}_{i}": bound for i, bound in enumerate(_bounds(quarters, is_datetime))})
    counts: dict[Row, dict[int, int]] = {row: defaultdict(int) for row in Row}
    split: dict[int, dict[str, int]] = defaultdict(dict)
    for index, bucket, status, n in db.session.execute(_statement(len(quarters)), params):
        row, bucket, n = ROWS[int(index)], int(bucket), int(n)
        counts[row][bucket] += n
        if row is Row.REPORTS and status is not None:
            key = ObligationStatus(status).value  # disclosure and execution reports share late / missing
            split[bucket][key] = split[bucket].get(key, 0) + n
    return {row: dict(c) for row, c in counts.items()}, {Row.REPORTS: dict(split)}


def compliance_grid(enterprise_id: int, today: date | None = None, n: int = QUARTERS) -> Grid:
    today = today or china_today()
    counts, details = compliance_counts(enterprise_id, last_quarters(today, n))
    return build_grid(today, counts, details, n)
