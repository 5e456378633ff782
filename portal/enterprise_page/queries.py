"""The verdict of the public enterprise page (issue 21): one summary read from the domains' own readers.

Credit standing (portal.credit.standing, stored, never computed per reader), the 环保码 (portal.envcode.services),
list membership (credit black/white lists and this year's key-unit types), open exceedance incidents, the last
published disclosure with its status and the disclosures overdue, and the 12-quarter compliance counts. The same
summary opens the web page and the summary PDF (portal.reports.services).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale

from portal.core.clock import china_today
from portal.credit import lists as credit_lists
from portal.credit.models import ListStatus
from portal.credit.standing import CurrentStanding, current_standing
from portal.disclosures.models import (AnnualReport, Obligation, ObligationStatus, ReportStatus, TemporaryReport)
from portal.enterprises.compliance import Grid
from portal.enterprises.compliance_queries import compliance_grid
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.monitoring.models import ExceedanceIncident, IncidentState


def english() -> bool:
    return str(get_locale() or "zh_CN").startswith("en")


@dataclass
class EnvCodeSummary:
    colour: str
    label: str
    meaning: str
    why: list[str]
    since: datetime | None


@dataclass
class Listing:
    kind: str  # black | white
    reason: str
    listed_on: date | None
    until: date | None


@dataclass
class LastDisclosure:
    kind: str  # annual | temporary
    year: int | None
    trigger: str | None
    status: str  # published | corrected
    submitted_at: datetime
    sha256: str


@dataclass
class Summary:
    """Everything the verdict block says; the page and the PDF render the same object."""

    as_of: date
    standing: CurrentStanding
    grade_label: str | None
    envcode: EnvCodeSummary | None
    listings: list[Listing]
    key_unit_types: list[str]
    open_incidents: int
    oldest_open_incident: datetime | None
    last_disclosure: LastDisclosure | None
    overdue_disclosures: int
    grid: Grid
    grid_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def evaluated(self) -> bool:
        return self.standing.evaluated


def _grade_label(standing: CurrentStanding, in_english: bool) -> str | None:
    g = standing.grade
    if g is None:
        return None
    return g.label_en if in_english else g.label


def _envcode(ent: Enterprise, in_english: bool) -> EnvCodeSummary | None:
    """The stored code with its deciding reasons in words. A code computed here for the first time is flushed with
    the request; the page's view commits nothing (like the envcode section it sits beside)."""
    from portal.envcode import labels, services

    view = services.code_view(ent, history_limit=0)
    if view is None or view.code is None:
        return None
    grades = labels.grade_labels(ent.id, in_english)
    return EnvCodeSummary(colour=view.code.colour, label=str(labels.COLOUR_LABELS[view.code.colour]),
                          meaning=str(labels.COLOUR_MEANINGS[view.code.colour]),
                          why=[labels.reason_text(r, grades) for r in view.verdict.deciding],
                          since=view.code.since)


def _listings(enterprise_id: int) -> list[Listing]:
    """Black and white list entries in force (prior notices are not yet a listing)."""
    return [Listing(kind=e.kind.value, reason=e.reason, listed_on=e.listed_on, until=e.max_until)
            for e in credit_lists.entries_of(enterprise_id) if e.status == ListStatus.LISTED]


def _open_incidents(enterprise_id: int) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        sa.select(sa.func.count(ExceedanceIncident.id), sa.func.min(ExceedanceIncident.period_start))
        .where(ExceedanceIncident.enterprise_id == enterprise_id,
               ExceedanceIncident.state == IncidentState.OPEN)).one()
    return int(count or 0), oldest


def _last_disclosure(enterprise_id: int) -> LastDisclosure | None:
    found: list[LastDisclosure] = []
    for model in (AnnualReport, TemporaryReport):
        report = db.session.scalar(
            sa.select(model).where(model.enterprise_id == enterprise_id, model.status != ReportStatus.DRAFT,
                                   model.submitted_at.is_not(None))
            .order_by(model.submitted_at.desc(), model.id.desc()).limit(1))
        if report is not None:
            annual = model is AnnualReport
            found.append(LastDisclosure(kind="annual" if annual else "temporary",
                                        year=report.year if annual else None,
                                        trigger=None if annual else report.trigger.value,
                                        status=report.status.value, submitted_at=report.submitted_at,
                                        sha256=report.sha256))
    return max(found, key=lambda d: d.submitted_at) if found else None


def _overdue_disclosures(enterprise_id: int, today: date) -> int:
    """Obligations past their due date and not disclosed (missing, or still pending after the due date)."""
    return int(db.session.scalar(
        sa.select(sa.func.count(Obligation.id)).where(
            Obligation.enterprise_id == enterprise_id,
            sa.or_(Obligation.status == ObligationStatus.MISSING,
                   sa.and_(Obligation.status == ObligationStatus.PENDING, Obligation.due_on < today)))) or 0)


def page_summary(ent: Enterprise, today: date | None = None, grid: Grid | None = None,
                 in_english: bool | None = None) -> Summary:
    today = today or china_today()
    in_english = english() if in_english is None else in_english
    standing = current_standing(ent.id, today)
    grid = grid or compliance_grid(ent.id, today)
    count, oldest = _open_incidents(ent.id)
    rows = [{"row": r.row.value, "quarters": r.quarters_in_violation,
             "violations": sum(c.count for c in r.cells)} for r in grid.rows]
    return Summary(as_of=today, standing=standing, grade_label=_grade_label(standing, in_english),
                   envcode=_envcode(ent, in_english), listings=_listings(ent.id),
                   key_unit_types=[t.value for t in ent.key_unit_types(today.year)],
                   open_incidents=count, oldest_open_incident=oldest,
                   last_disclosure=_last_disclosure(ent.id), overdue_disclosures=_overdue_disclosures(ent.id, today),
                   grid=grid, grid_rows=rows)


def summary_facts(s: Summary) -> dict[str, Any]:
    """The summary as plain data (codes, numbers, ISO dates): what the summary PDF's content digest covers."""
    st = s.standing
    return {
        "credit": {"status": st.status, "grade": st.grade_code if st.evaluated else None,
                   "score": st.score if st.evaluated else None, "basis": st.basis if st.evaluated else None,
                   "since": st.since.isoformat() if st.evaluated and st.since else None},
        "envcode": None if s.envcode is None else {
            "colour": s.envcode.colour, "since": s.envcode.since.isoformat() if s.envcode.since else None},
        "lists": [{"kind": e.kind, "listed_on": e.listed_on.isoformat() if e.listed_on else None}
                  for e in s.listings],
        "key_unit_types": list(s.key_unit_types),
        "open_incidents": s.open_incidents,
        "last_disclosure": None if s.last_disclosure is None else {
            "kind": s.last_disclosure.kind, "status": s.last_disclosure.status, "sha256": s.last_disclosure.sha256},
        "overdue_disclosures": s.overdue_disclosures,
        "compliance": {r["row"]: r["violations"] for r in s.grid_rows},
    }
