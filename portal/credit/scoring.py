"""The points ledger as pure functions: scheme rules (data) + verified evidence → ledger entries, score, grade, veto,
and the what-if (when each entry stops counting, and the earliest date the grade can improve).

No database, request or app here: the same functions serve the incremental update, the annual evaluation run,
the public page, the API and the benchmark (DOMAIN §2.4).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any, Iterable

from portal.credit.indicators import parse_indicators


class SchemeError(ValueError):
    """A scheme version's rules are malformed; the message names the key at fault."""


@dataclass(frozen=True)
class Grade:
    code: str
    label: str
    label_en: str
    colour: str
    min_score: int | None  # None: everything below the grade above


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    points: int
    validity_months: int
    label: str
    label_en: str
    veto: bool = False
    amount_above: int | None = None  # exclusive lower bound on amount_yuan
    amount_at_most: int | None = None  # inclusive upper bound
    # "X万元以上" includes X (刑法 Art. 99 reading of 以上/以下, used by the credit texts): inclusive lower bound; and
    # "不满 Y" / "Y 以下（不含）": exclusive upper bound. Fine bands are [amount_at_least, amount_below).
    amount_at_least: int | None = None
    amount_below: int | None = None
    details_in: dict[str, tuple[str, ...]] = field(default_factory=dict)
    indicator: str = ""  # weighted-indicator schemes: the indicator whose 0–100 score the points change

    def matches(self, fact: "Fact") -> bool:
        if fact.kind != self.kind:
            return False
        amount = fact.amount_yuan
        if self.amount_above is not None and (amount is None or amount <= self.amount_above):
            return False
        if self.amount_at_most is not None and (amount is None or amount > self.amount_at_most):
            return False
        if self.amount_at_least is not None and (amount is None or amount < self.amount_at_least):
            return False
        if self.amount_below is not None and (amount is None or amount >= self.amount_below):
            return False
        return all(str(fact.details.get(key, "")) in allowed for key, allowed in self.details_in.items())


@dataclass(frozen=True)
class Cap:
    """At most `max_points` (a positive number) of deductions from the rules of `kinds` count per `period`
    ("year": the calendar year in which the entry starts counting); the source of the cap is quoted in `basis`."""

    code: str
    kinds: tuple[str, ...]
    max_points: int
    period: str = "year"
    basis: str = ""


@dataclass(frozen=True)
class SchemeRules:
    start_score: int
    max_score: int
    min_score: int | None
    counts_after_days: int
    veto_grade: str
    grades: tuple[Grade, ...]  # best first
    rules: tuple[Rule, ...]
    measures: dict[str, tuple[str, ...]] = field(default_factory=dict)  # grade → incentives or measures
    repair: dict[str, Any] = field(default_factory=dict)  # grades, apply_within_months, notice_days (or none)
    indicators: tuple = ()  # credit.indicators.Indicator rows (national annex)
    # "deductions": start score + Σ points (Jiangsu, Anqing-style); "weighted_indicators": each indicator's 0–100
    # score (100 + its counting points, 0 while a `zero` rule counts) × weight, summed (national 2013, DOMAIN §2.1).
    method: str = "deductions"
    caps: tuple[Cap, ...] = ()
    evidence_repair: bool = True  # repair of a dishonesty item by application (NDRC Order 36) offered under this scheme
    publication: dict[str, Any] = field(default_factory=dict)  # NDRC Order 36 publication periods (see presets)
    # Validity runs from this many days after the information (Jiangsu 2020: 15), while the entry counts from
    # counts_after_days; None: validity runs from when the entry starts counting.
    validity_starts_after_days: int | None = None

    @cached_property
    def rules_by_code(self) -> dict[str, Rule]:
        return {r.code: r for r in self.rules}

    @property
    def grade_codes(self) -> list[str]:
        return [g.code for g in self.grades]

    def grade(self, code: str) -> Grade:
        return next(g for g in self.grades if g.code == code)

    @cached_property
    def rules_by_kind(self) -> dict[str, tuple[Rule, ...]]:
        by_kind: dict[str, list[Rule]] = {}
        for rule in self.rules:
            by_kind.setdefault(rule.kind, []).append(rule)
        return {k: tuple(v) for k, v in by_kind.items()}


@dataclass(frozen=True)
class Fact:
    """What the engine needs from one verified, non-withdrawn evidence item."""

    evidence_id: int
    kind: str
    occurred_on: date
    amount_yuan: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    repaired_on: date | None = None  # credit repair (DOMAIN §3.3): the entry stops counting on this day


@dataclass(frozen=True)
class Entry:
    evidence_id: int
    rule_code: str
    rule_label: str
    points: int
    is_veto: bool
    counts_from: date
    expires_on: date | None  # first day it no longer counts

    def counts_on(self, day: date) -> bool:
        return self.counts_from <= day and (self.expires_on is None or day < self.expires_on)


@dataclass(frozen=True)
class Standing:
    score: int
    grade: str
    is_vetoed: bool


@dataclass(frozen=True)
class Step:
    """One future date on which the score changes, with the entries that start or stop counting then."""

    on: date
    standing: Standing
    expiring: tuple[Entry, ...]
    starting: tuple[Entry, ...]


@dataclass(frozen=True)
class Result:
    as_of: date
    standing: Standing
    entries: tuple[Entry, ...]
    steps: tuple[Step, ...]
    earliest_improvement: date | None
    next_change_on: date | None

    @property
    def counting(self) -> list[Entry]:
        return [e for e in self.entries if e.counts_on(self.as_of)]


# --- parsing ------------------------------------------------------------------------------------------------------

def _int(data: dict, key: str, where: str, default: Any = ..., allow_none: bool = False) -> Any:
    if key not in data:
        if default is ...:
            raise SchemeError(f"{where}: '{key}' is required")
        return default
    value = data[key]
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemeError(f"{where}: '{key}' must be a whole number")
    return value


def parse_rules(data: dict) -> SchemeRules:
    """Read a scheme version's JSON; raises SchemeError naming the first bad key."""
    if not isinstance(data, dict):
        raise SchemeError("rules: must be an object")
    grades = []
    for i, g in enumerate(data.get("grades") or []):
        where = f"grades[{i}]"
        if not isinstance(g, dict) or not g.get("code"):
            raise SchemeError(f"{where}: 'code' is required")
        grades.append(Grade(code=str(g["code"]), label=str(g.get("label", g["code"])),
                            label_en=str(g.get("label_en", g["code"])), colour=str(g.get("colour", "#777777")),
                            min_score=_int(g, "min_score", where, None, allow_none=True)))
    if len(grades) < 2:
        raise SchemeError("grades: at least two grades are needed")
    mins = [g.min_score for g in grades]
    if mins[-1] is not None or any(m is None for m in mins[:-1]):
        raise SchemeError("grades: every grade but the last needs 'min_score'; the last has none")
    if any(a <= b for a, b in zip(mins[:-2], mins[1:-1])):
        raise SchemeError("grades: 'min_score' must fall from the best grade to the worst")
    rules = []
    for i, r in enumerate(data.get("rules") or []):
        where = f"rules[{i}]"
        if not isinstance(r, dict) or not r.get("code") or not r.get("kind"):
            raise SchemeError(f"{where}: 'code' and 'kind' are required")
        details = {str(k): tuple(str(x) for x in v) for k, v in (r.get("details_in") or {}).items()}
        rules.append(Rule(code=str(r["code"]), kind=str(r["kind"]), points=_int(r, "points", where),
                          validity_months=_int(r, "validity_months", where),
                          label=str(r.get("label", r["code"])), label_en=str(r.get("label_en", r["code"])),
                          veto=bool(r.get("veto", False)),
                          amount_above=_int(r, "amount_above", where, None, allow_none=True),
                          amount_at_most=_int(r, "amount_at_most", where, None, allow_none=True),
                          amount_at_least=_int(r, "amount_at_least", where, None, allow_none=True),
                          amount_below=_int(r, "amount_below", where, None, allow_none=True),
                          details_in=details, indicator=str(r.get("indicator") or "")))
    veto_grade = str(data.get("veto_grade") or grades[-1].code)
    if veto_grade not in [g.code for g in grades]:
        raise SchemeError("veto_grade: must be one of the grade codes")
    indicators = parse_indicators(data.get("indicators"), SchemeError)
    method = str(data.get("method") or "deductions")
    if method not in ("deductions", "weighted_indicators"):
        raise SchemeError("method: must be 'deductions' or 'weighted_indicators'")
    if method == "weighted_indicators":
        if not indicators:
            raise SchemeError("method: 'weighted_indicators' needs the 'indicators' list")
        codes = {i.code for i in indicators}
        for i, rule in enumerate(rules):
            if rule.indicator not in codes:
                raise SchemeError(f"rules[{i}]: 'indicator' must name one of the scheme's indicators")
    evidence_repair = data.get("evidence_repair", True)
    if not isinstance(evidence_repair, bool):
        raise SchemeError("evidence_repair: must be true or false")
    return SchemeRules(start_score=_int(data, "start_score", "rules"), max_score=_int(data, "max_score", "rules"),
                       min_score=_int(data, "min_score", "rules", None, allow_none=True),
                       counts_after_days=_int(data, "counts_after_days", "rules", 0), veto_grade=veto_grade,
                       grades=tuple(grades), rules=tuple(rules), measures=_measures(data, grades),
                       repair=_repair(data, grades), indicators=indicators, method=method,
                       caps=_caps(data, rules), evidence_repair=evidence_repair,
                       publication=_publication(data),
                       validity_starts_after_days=_int(data, "validity_starts_after_days", "rules", None,
                                                       allow_none=True))


def _caps(data: dict, rules: list[Rule]) -> tuple[Cap, ...]:
    raw = data.get("caps") or []
    if not isinstance(raw, list):
        raise SchemeError("caps: must be a list")
    kinds = {r.kind for r in rules}
    caps = []
    for i, c in enumerate(raw):
        where = f"caps[{i}]"
        if not isinstance(c, dict) or not c.get("code") or not c.get("kinds"):
            raise SchemeError(f"{where}: 'code' and 'kinds' are required")
        if any(k not in kinds for k in c["kinds"]):
            raise SchemeError(f"{where}: 'kinds' must name kinds the rules score")
        max_points = _int(c, "max_points", where)
        if max_points <= 0:
            raise SchemeError(f"{where}: 'max_points' must be a positive whole number")
        if c.get("period", "year") != "year":
            raise SchemeError(f"{where}: 'period' must be 'year'")
        caps.append(Cap(str(c["code"]), tuple(str(k) for k in c["kinds"]), max_points, "year", str(c.get("basis", ""))))
    return tuple(caps)


def _publication(data: dict) -> dict[str, Any]:
    raw = data.get("publication") or {}
    if not isinstance(raw, dict):
        raise SchemeError("publication: must be an object")
    return raw


def _repair(data: dict, grades: list[Grade]) -> dict[str, Any]:
    raw = data.get("repair") or {}
    if not isinstance(raw, dict):
        raise SchemeError("repair: must be an object")
    if not raw:
        return {}
    codes = [g.code for g in grades]
    if not raw.get("grades") or any(g not in codes or g == codes[0] for g in raw["grades"]):
        raise SchemeError("repair: 'grades' must list grade codes below the best one")
    return {"grades": tuple(raw["grades"]), "apply_within_months": _int(raw, "apply_within_months", "repair", 6),
            "notice_days": _int(raw, "notice_days", "repair", 7)}


def _measures(data: dict, grades: list[Grade]) -> dict[str, tuple[str, ...]]:
    raw = data.get("measures") or {}
    if not isinstance(raw, dict) or any(k not in [g.code for g in grades] for k in raw):
        raise SchemeError("measures: must map grade codes to lists of measures")
    return {str(k): tuple(str(x) for x in v) for k, v in raw.items()}


# --- the ledger ---------------------------------------------------------------------------------------------------

def match_rule(scheme: SchemeRules, fact: Fact) -> Rule | None:
    """Rules are tried in order; the first that matches the evidence kind and its conditions applies."""
    return next((r for r in scheme.rules_by_kind.get(fact.kind, ()) if r.matches(fact)), None)


def add_months(day: date, months: int) -> date:
    """Same calendar day `months` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ledger(scheme: SchemeRules, facts: Iterable[Fact]) -> list[Entry]:
    """One entry per matched fact, in counting order. Under a scheme cap, deductions of the capped kinds that start
    counting in one calendar year add up to at most the cap: the entry that reaches it keeps the remainder, later
    ones keep their line with 0 points (so the ledger still shows them)."""
    matched = []
    for fact in facts:
        rule = match_rule(scheme, fact)
        if rule is None:
            continue
        counts_from = fact.occurred_on + timedelta(days=scheme.counts_after_days)
        validity_from = (counts_from if scheme.validity_starts_after_days is None
                         else fact.occurred_on + timedelta(days=scheme.validity_starts_after_days))
        expires = add_months(validity_from, rule.validity_months) if rule.validity_months > 0 else None
        if fact.repaired_on is not None and (expires is None or fact.repaired_on < expires):
            expires = max(fact.repaired_on, counts_from)  # repaired: kept on record, no longer counting
        matched.append((counts_from, fact.evidence_id, fact.kind, rule, expires))
    matched.sort(key=lambda m: (m[0], m[1]))
    used: dict[tuple[str, int], int] = {}
    entries = []
    for counts_from, evidence_id, kind, rule, expires in matched:
        points = rule.points
        for cap in scheme.caps:
            if points < 0 and kind in cap.kinds:
                key = (cap.code, counts_from.year)
                left = cap.max_points - used.get(key, 0)
                points = -min(-points, max(left, 0))
                used[key] = used.get(key, 0) - points
        entries.append(Entry(evidence_id=evidence_id, rule_code=rule.code, rule_label=rule.label,
                             points=points, is_veto=rule.veto, counts_from=counts_from, expires_on=expires))
    return entries


def indicator_scores(scheme: SchemeRules, counting: Iterable[Entry]) -> dict[str, int]:
    """Each indicator's 0–100 score from the entries counting: 100 plus their points (on the indicator's own
    0–100 scale; −100 zeroes it, e.g. 行政处罚与行政命令 with any penalty), clamped to 0–100. The clamp is the
    source's cap: a behaviour class never costs more than its indicator's weight."""
    by_code = scheme.rules_by_code
    points: dict[str, int] = {i.code: 0 for i in scheme.indicators}
    for e in counting:
        rule = by_code.get(e.rule_code)
        if rule is not None and rule.indicator in points:
            points[rule.indicator] += e.points
    return {code: max(0, min(100, 100 + p)) for code, p in points.items()}


def weighted_total(scheme: SchemeRules, counting: Iterable[Entry]) -> int:
    """Σ weight% × indicator score, in hundredths of a point (0–10,000): exact, no rounding."""
    scores = indicator_scores(scheme, counting)
    return sum(i.weight * scores[i.code] for i in scheme.indicators)


def grade_for_hundredths(scheme: SchemeRules, hundredths: int) -> str:
    for g in scheme.grades:
        if g.min_score is None or hundredths >= g.min_score * 100:
            return g.code
    return scheme.grades[-1].code


def grade_for(scheme: SchemeRules, score: int) -> str:
    for g in scheme.grades:
        if g.min_score is None or score >= g.min_score:
            return g.code
    return scheme.grades[-1].code


def worse(scheme: SchemeRules, a: str, b: str) -> str:
    codes = scheme.grade_codes
    return a if codes.index(a) >= codes.index(b) else b


def is_better(scheme: SchemeRules, a: str, b: str) -> bool:
    codes = scheme.grade_codes
    return codes.index(a) < codes.index(b)


def standing_on(scheme: SchemeRules, entries: Iterable[Entry], day: date) -> Standing:
    """Start score plus every entry counting on `day`, clamped to the scheme's range; a counting veto entry caps
    the grade at the veto grade (DOMAIN §2.1 一票否决)."""
    counting = [e for e in entries if e.counts_on(day)]
    if scheme.method == "weighted_indicators":
        hundredths = weighted_total(scheme, counting)
        score = hundredths // 100  # floor: the shown whole score never claims a grade the total does not reach
        grade = grade_for_hundredths(scheme, hundredths)
    else:
        score = scheme.start_score + sum(e.points for e in counting)
        score = min(score, scheme.max_score)
        if scheme.min_score is not None:
            score = max(score, scheme.min_score)
        grade = grade_for(scheme, score)
    vetoed = any(e.is_veto for e in counting)
    if vetoed:
        grade = worse(scheme, grade, scheme.veto_grade)
    return Standing(score=score, grade=grade, is_vetoed=vetoed)


def evaluate(scheme: SchemeRules, facts: Iterable[Fact], as_of: date, with_steps: bool = True) -> Result:
    """The standing on `as_of` from evidence facts (see evaluate_entries)."""
    return evaluate_entries(scheme, ledger(scheme, facts), as_of, with_steps)


def evaluate_entries(scheme: SchemeRules, entries: list[Entry], as_of: date, with_steps: bool = True) -> Result:
    """The standing on `as_of`, and every later date on which it changes as entries start or stop counting; the
    earliest improvement is the first of those dates with a better grade, if nothing new is recorded. Batch paths
    that need only the standing and its next change pass with_steps=False."""
    current = standing_on(scheme, entries, as_of)
    change_days = sorted({d for e in entries for d in (e.counts_from, e.expires_on) if d is not None and d > as_of})
    steps, earliest = [], None
    for day in change_days if with_steps else ():
        standing = standing_on(scheme, entries, day)
        steps.append(Step(on=day, standing=standing,
                          expiring=tuple(e for e in entries if e.expires_on == day),
                          starting=tuple(e for e in entries if e.counts_from == day)))
        if earliest is None and is_better(scheme, standing.grade, current.grade):
            earliest = day
    return Result(as_of=as_of, standing=current, entries=tuple(entries), steps=tuple(steps),
                  earliest_improvement=earliest, next_change_on=change_days[0] if change_days else None)
