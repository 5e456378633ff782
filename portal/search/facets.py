"""Search filters and sort orders that read other capabilities' tables: credit grade, black/white list membership,
open monitoring exceedances, annual disclosure status, latest penalty.

Each filter is `enterprises.id IN (SELECT enterprise_id FROM <small table> WHERE …)`: both databases drive such a
semi-join from the (small, indexed) inner side and probe the enterprise primary key, so a rare facet on a million
enterprises costs what its own rows cost. The two extra sort orders are correlated scalar subqueries on indexed
columns; they only ever rank a capped number of matches (queries.TOTAL_CAP), like relevance.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.credit.models import CreditListEntry, CreditStanding, Evidence, EvidenceKind, ListKind, ListStatus
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus
from portal.enterprises.models import Enterprise
from portal.errors import DomainError
from portal.extensions import db
from portal.monitoring.models import ExceedanceIncident, IncidentState

# Best first; an enterprise without a standing sorts after every grade.
GRADE_ORDER = ("green", "blue", "yellow", "red", "black")
NO_GRADE_RANK = len(GRADE_ORDER) + 1
NOT_EVALUATED = "not_evaluated"  # the grade filter's value for enterprises with no standing (credit.standing)
PENALTY_KINDS = (EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY)
DISCLOSURE_STATUSES = tuple(s.value for s in ObligationStatus)

GRADE_LABELS = {"green": _l("Green (trustworthy)"), "blue": _l("Blue (good)"), "yellow": _l("Yellow (warning)"),
                "red": _l("Red (bad)"), "black": _l("Black (seriously dishonest)"),
                NOT_EVALUATED: _l("Not evaluated")}
LIST_LABELS = {ListKind.BLACK.value: _l("On the black list"), ListKind.WHITE.value: _l("On the white list")}
DISCLOSURE_LABELS = {ObligationStatus.PENDING.value: _l("Annual report not yet due"),
                     ObligationStatus.ON_TIME.value: _l("Annual report on time"),
                     ObligationStatus.LATE.value: _l("Annual report late"),
                     ObligationStatus.MISSING.value: _l("Annual report missing")}


@dataclass(frozen=True)
class Facets:
    grade: str = ""
    list: str = ""
    exceedance: str = ""
    disclosure: str = ""

    def any(self) -> bool:
        return bool(self.grade or self.list or self.exceedance or self.disclosure)


def check_facets(grade: str = "", list_kind: str = "", exceedance: str = "", disclosure: str = "") -> Facets:
    """Validate the raw parameters; DomainError names the parameter and its allowed values."""
    grade, list_kind = (grade or "").strip().lower(), (list_kind or "").strip().lower()
    exceedance, disclosure = (exceedance or "").strip().lower(), (disclosure or "").strip().lower()
    _allowed(grade, GRADE_ORDER + (NOT_EVALUATED,), "grade")
    _allowed(list_kind, tuple(k.value for k in ListKind), "list")
    _allowed(exceedance, ("open",), "exceedance")
    _allowed(disclosure, DISCLOSURE_STATUSES, "disclosure")
    return Facets(grade, list_kind, exceedance, disclosure)


def _allowed(value: str, choices: tuple[str, ...], name: str) -> None:
    if value and value not in choices:
        raise DomainError(_("Unknown value “%(value)s”; use one of: %(choices)s.", value=value,
                            choices=", ".join(choices)), field=name)


def disclosure_year(today: date) -> int:
    """The report year whose annual disclosure is due this year (DOMAIN §1.4: last year's report, due in spring)."""
    return today.year - 1


def facet_conditions(facets: Facets, today: date) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if facets.grade == NOT_EVALUATED:  # no standing row: never evaluated (an anti-join on its unique key)
        conditions.append(~sa.exists().where(CreditStanding.enterprise_id == Enterprise.id))
    elif facets.grade:
        conditions.append(Enterprise.id.in_(
            sa.select(CreditStanding.enterprise_id).where(CreditStanding.grade == facets.grade)))
    if facets.list:
        conditions.append(Enterprise.id.in_(
            sa.select(CreditListEntry.enterprise_id).where(CreditListEntry.kind == ListKind(facets.list),
                                                           CreditListEntry.status == ListStatus.LISTED)))
    if facets.exceedance:
        conditions.append(Enterprise.id.in_(
            sa.select(ExceedanceIncident.enterprise_id).where(ExceedanceIncident.state == IncidentState.OPEN)))
    if facets.disclosure:
        conditions.append(Enterprise.id.in_(
            sa.select(Obligation.enterprise_id).where(Obligation.kind == ObligationKind.ANNUAL,
                                                      Obligation.year == disclosure_year(today),
                                                      Obligation.status == ObligationStatus(facets.disclosure))))
    return conditions


def grade_rank() -> sa.ColumnElement[int]:
    """1 (green) … 5 (black), NO_GRADE_RANK without a standing: ascending = best first."""
    grade = (sa.select(CreditStanding.grade).where(CreditStanding.enterprise_id == Enterprise.id)
             .scalar_subquery())
    whens = [(grade == code, i + 1) for i, code in enumerate(GRADE_ORDER)]
    return sa.case(*whens, else_=NO_GRADE_RANK)


def penalty_key(dialect: str) -> sa.ColumnElement[int]:
    """Minus the day number of the latest public, verified, standing penalty (0 for none): ascending = most recent
    penalty first, enterprises without a penalty last."""
    latest = (sa.select(sa.func.max(Evidence.occurred_on))
              .where(Evidence.enterprise_id == Enterprise.id, Evidence.kind.in_(PENALTY_KINDS),
                     Evidence.is_verified.is_(True), Evidence.is_public.is_(True), Evidence.withdrawn_at.is_(None))
              .scalar_subquery())
    if dialect == "postgresql":
        days = sa.type_coerce(latest - sa.literal_column("DATE '1970-01-01'"), sa.Integer)  # date - date = int
    else:
        days = sa.cast(sa.func.julianday(latest) - 2440587.5, sa.Integer)  # julianday('1970-01-01') = 2440587.5
    return sa.func.coalesce(-days, 0)


def grades_for(enterprise_ids: list[int]) -> dict[int, str]:
    """Current grade codes of one page of results (one indexed IN query)."""
    if not enterprise_ids:
        return {}
    rows = db.session.execute(sa.select(CreditStanding.enterprise_id, CreditStanding.grade)
                              .where(CreditStanding.enterprise_id.in_(enterprise_ids)))
    return {ent_id: grade for ent_id, grade in rows}
