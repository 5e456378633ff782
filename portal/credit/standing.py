"""One answer to "what is this enterprise's credit standing now" (issue 18, PRODUCT §2.5).

An enterprise is *evaluated* once it has a result in a final annual run, or confirmed evidence that a rule of its
scheme scores (a ledger line, counting or lapsed). Otherwise it is *not evaluated*: no grade, no score, never the
scheme's start grade.

Which grade is current (`decide`, pure):
* a final annual result whose scheme version is still active, and no ledger entry started or stopped counting after
  its period (31 December of its year): the annual result stands (basis "evaluation"), since the run was finalised;
* otherwise the ledger today (basis "dynamic"): dynamic re-evaluation between runs (DOMAIN §2.1, §2.5), since the
  last day an entry started or stopped counting; the entries that did so after the evaluated period are the
  "adjustments" that explain why the current grade differs from the annual one.

`decide` runs when the standing is maintained (credit.services: new evidence, the daily refresh, a full recompute,
a run finalised, a repair); the result is stored in credit_standings, which search, the 环保码, the bulk CSV, the
API and the pages read through `current_standing` / `current_standings`. Nothing computes a grade per reader.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

import sqlalchemy as sa

from portal.credit import scoring
from portal.credit.models import (CreditSchemeVersion, CreditStanding, EvaluationResult, EvaluationRun, LedgerEntry,
                                  RunStatus)
from portal.extensions import db

EVALUATION, DYNAMIC = "evaluation", "dynamic"
EVALUATED, NOT_EVALUATED = "evaluated", "not_evaluated"


@dataclass(frozen=True)
class Annual:
    """An enterprise's latest result in a final annual run."""

    result_id: int
    run_id: int
    year: int
    scheme_version_id: int
    grade: str
    score: int
    is_vetoed: bool
    finalised_on: date

    @property
    def period_end(self) -> date:
        return date(self.year, 12, 31)


@dataclass(frozen=True)
class Decision:
    basis: str
    score: int
    grade: str
    is_vetoed: bool
    since: date
    next_change_on: date | None
    adjustments: tuple[scoring.Entry, ...] = ()


def _changes(entry: scoring.Entry) -> tuple[date, ...]:
    return tuple(d for d in (entry.counts_from, entry.expires_on) if d is not None)


def adjustments_after(entries: Iterable[scoring.Entry], after: date, today: date) -> tuple[scoring.Entry, ...]:
    """Entries that started or stopped counting in (after, today]."""
    return tuple(e for e in entries if any(after < d <= today for d in _changes(e)))


def decide(scheme: scoring.SchemeRules, version_id: int, entries: list[scoring.Entry], today: date,
           annual: Annual | None, dynamic: scoring.Result | None = None) -> Decision | None:
    """The current standing from the ledger entries and the latest final annual result; None: not evaluated."""
    if not entries and annual is None:
        return None
    dynamic = dynamic or scoring.evaluate_entries(scheme, entries, today, with_steps=False)
    s = dynamic.standing
    if annual is not None:
        adjustments = adjustments_after(entries, annual.period_end, today)
        if not adjustments and annual.scheme_version_id == version_id:
            return Decision(EVALUATION, annual.score, annual.grade, annual.is_vetoed, annual.finalised_on,
                            dynamic.next_change_on)
        days = [d for e in adjustments for d in _changes(e) if annual.period_end < d <= today]
        since = max(days) if days else annual.finalised_on  # a scheme change without ledger change
        return Decision(DYNAMIC, s.score, s.grade, s.is_vetoed, since, dynamic.next_change_on, adjustments)
    days = [d for e in entries for d in _changes(e) if d <= today]
    return Decision(DYNAMIC, s.score, s.grade, s.is_vetoed, max(days) if days else today, dynamic.next_change_on)


# --- reading the annual results -----------------------------------------------------------------------------------

def latest_annual(enterprise_ids: list[int]) -> dict[int, Annual]:
    """The latest result in a final run per enterprise (one query per 5,000 enterprises)."""
    found: dict[int, Annual] = {}
    r, run = EvaluationResult.__table__, EvaluationRun.__table__
    conn = db.session.connection()
    for start in range(0, len(enterprise_ids), 5000):
        chunk = enterprise_ids[start:start + 5000]
        stmt = (sa.select(r.c.id, r.c.run_id, r.c.enterprise_id, run.c.year, r.c.scheme_version_id, r.c.grade,
                          r.c.score, r.c.is_vetoed, run.c.finalised_at)
                .join(run, run.c.id == r.c.run_id)
                .where(r.c.enterprise_id.in_(chunk), run.c.status == RunStatus.FINAL.value))
        for rid, run_id, ent_id, year, version_id, grade, score, vetoed, finalised in conn.execute(stmt):
            a = Annual(rid, run_id, year, version_id, grade, score, bool(vetoed),
                       finalised.date() if finalised else date(year + 1, 1, 1))
            old = found.get(ent_id)
            if old is None or (a.year, a.finalised_on, a.result_id) > (old.year, old.finalised_on, old.result_id):
                found[ent_id] = a
    return found


# --- the one reader -----------------------------------------------------------------------------------------------

@dataclass
class CurrentStanding:
    """What every page, the API, the CSV, feeds, PDFs and the 环保码 say about an enterprise's credit now."""

    enterprise_id: int
    status: str  # EVALUATED | NOT_EVALUATED
    version: CreditSchemeVersion | None = None
    scheme: scoring.SchemeRules | None = None
    grade_code: str | None = None
    score: int | None = None
    is_vetoed: bool = False
    basis: str | None = None
    since: date | None = None
    as_of: date | None = None
    next_change_on: date | None = None
    evaluation: Annual | None = None
    adjustment_ids: tuple[int, ...] = field(default_factory=tuple)  # ledger line ids

    @property
    def evaluated(self) -> bool:
        return self.status == EVALUATED

    @property
    def grade(self) -> scoring.Grade | None:
        if self.scheme is None or self.grade_code not in (self.scheme.grade_codes if self.scheme else ()):
            return None
        return self.scheme.grade(self.grade_code)

    @property
    def differs(self) -> bool:
        """The current grade or score is not the annual evaluation's."""
        return (self.evaluated and self.evaluation is not None and self.basis == DYNAMIC
                and (self.evaluation.grade, self.evaluation.score) != (self.grade_code, self.score))

    def grade_json(self, english: bool) -> dict | None:
        g = self.grade
        if g is None:
            return None
        return {"code": g.code, "label": g.label_en if english else g.label, "colour": g.colour}

    def to_json(self, english: bool = False) -> dict[str, Any]:
        """The API shape: `"grade": null` with `"status": "not_evaluated"` when never evaluated."""
        if not self.evaluated:
            return {"status": NOT_EVALUATED, "grade": None, "score": None, "vetoed": False, "basis": None,
                    "since": None, "as_of": None, "evaluation": None, "adjustments": []}
        ev = self.evaluation
        return {"status": EVALUATED, "grade": self.grade_json(english), "score": self.score, "vetoed": self.is_vetoed,
                "basis": self.basis, "since": _iso(self.since), "as_of": _iso(self.as_of),
                "evaluation": None if ev is None else {
                    "year": ev.year, "run": ev.run_id, "grade": ev.grade, "score": ev.score, "vetoed": ev.is_vetoed,
                    "finalised_on": ev.finalised_on.isoformat(), "scheme_version": ev.scheme_version_id},
                "adjustments": list(self.adjustment_ids)}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def current_standings(enterprise_ids: Iterable[int], today: date | None = None) -> dict[int, CurrentStanding]:
    """The batched form: stored standings of many enterprises (one query for the rows, one for the annual results
    of the evaluated ones, one for the adjustment ledger lines of those whose grade is dynamic after a run)."""
    from portal.core.clock import china_today
    from portal.credit.services import parsed

    ids = list(dict.fromkeys(enterprise_ids))
    today = today or china_today()
    out = {i: CurrentStanding(i, NOT_EVALUATED) for i in ids}
    if not ids:
        return out
    rows = []
    for start in range(0, len(ids), 5000):
        rows += db.session.scalars(sa.select(CreditStanding).where(
            CreditStanding.enterprise_id.in_(ids[start:start + 5000]))).all()
    annual = latest_annual([row.enterprise_id for row in rows])
    after = {row.enterprise_id: annual[row.enterprise_id].period_end for row in rows
             if row.basis == DYNAMIC and row.enterprise_id in annual}
    adjustments: dict[int, list[int]] = defaultdict(list)
    if after:
        stmt = (sa.select(LedgerEntry.id, LedgerEntry.enterprise_id, LedgerEntry.counts_from, LedgerEntry.expires_on)
                .where(LedgerEntry.enterprise_id.in_(list(after))).order_by(LedgerEntry.counts_from, LedgerEntry.id))
        for line_id, ent_id, counts_from, expires_on in db.session.execute(stmt):
            if any(d is not None and after[ent_id] < d <= today for d in (counts_from, expires_on)):
                adjustments[ent_id].append(line_id)
    schemes: dict[int, scoring.SchemeRules] = {}
    for row in rows:
        version = row.scheme_version
        if version.id not in schemes:
            schemes[version.id] = parsed(version)
        out[row.enterprise_id] = CurrentStanding(
            row.enterprise_id, EVALUATED, version, schemes[version.id], row.grade, row.score, row.is_vetoed,
            row.basis, row.since or row.as_of, row.as_of, row.next_change_on, annual.get(row.enterprise_id),
            tuple(adjustments.get(row.enterprise_id, ())))
    return out


def current_standing(enterprise_id: int, today: date | None = None) -> CurrentStanding:
    """What is this enterprise's standing now: grade or not evaluated, scheme, since when, the evaluation it came
    from and the dynamic adjustments since."""
    return current_standings([enterprise_id], today)[enterprise_id]
