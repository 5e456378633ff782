"""The enterprise environmental code (企业环保码) as pure functions: configuration (data) + an enterprise's current
facts → a colour and the reasons for it.

The mapping is configuration, not code (DOMAIN §2.1: "keep the thresholds per-scheme data, never constants"):
DEFAULT_RULES below, overridden key by key by the ENVCODE_RULES setting, and shown on the public rules page.
Every fact that applies gives one reason with the colour it calls for; the code takes the worst of them.
No database, request or app here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

COLOURS = ("green", "yellow", "red")  # best first; a configuration may not invent others

DEFAULT_RULES: dict[str, Any] = {
    # Credit grade (CreditStanding.grade, the code of the grade in the enterprise's scheme) → colour.
    "grades": {"green": "green", "blue": "green", "yellow": "yellow", "red": "red", "black": "red"},
    "other_grade": "yellow",  # a grade code the mapping does not name (a provincial scheme's own grades)
    "ungraded": "green",  # no standing yet: nothing counts against the enterprise
    "black_list": "red",  # listed on the serious-dishonesty list (DOMAIN §4.1)
    "white_list": "green",  # on the enforcement positive list (DOMAIN §4.2): a reason, never an improvement
    # Open exceedance incidents (the enterprise has not yet explained them), by count: the highest step reached.
    "open_incidents": [{"at_least": 1, "colour": "yellow"}, {"at_least": 3, "colour": "red"}],
    # Disclosure obligations past their deadline and still not filed (DOMAIN §1.4), by count.
    "overdue_obligations": [{"at_least": 1, "colour": "yellow"}, {"at_least": 2, "colour": "red"}],
}


class RulesError(ValueError):
    """The ENVCODE_RULES setting is malformed; the message names the key at fault."""


@dataclass(frozen=True)
class Step:
    at_least: int
    colour: str


@dataclass(frozen=True)
class CodeRules:
    grades: Mapping[str, str]
    other_grade: str
    ungraded: str
    black_list: str
    white_list: str
    open_incidents: tuple[Step, ...]
    overdue_obligations: tuple[Step, ...]


@dataclass(frozen=True)
class Facts:
    """What the code is computed from; gathered by envcode.services.facts_for."""

    grade: str | None = None
    black_listed: bool = False
    white_listed: bool = False
    open_incidents: int = 0
    overdue_obligations: int = 0


@dataclass(frozen=True)
class Reason:
    """One cause: `code` names the fact, `value` its detail (grade code or count), `colour` what it calls for."""

    code: str
    colour: str
    value: str | int | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "colour": self.colour, "value": self.value}


@dataclass(frozen=True)
class Verdict:
    colour: str
    reasons: tuple[Reason, ...]  # worst first

    @property
    def deciding(self) -> tuple[Reason, ...]:
        """The reasons that set the colour (all of them when it is green)."""
        return tuple(r for r in self.reasons if r.colour == self.colour)

    def reasons_json(self) -> list[dict]:
        return [r.as_dict() for r in self.reasons]


def severity(colour: str) -> int:
    return COLOURS.index(colour)


def _colour(value: Any, where: str) -> str:
    if value not in COLOURS:
        raise RulesError(f"{where}: must be one of {', '.join(COLOURS)}")
    return value


def _steps(value: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(value, list):
        raise RulesError(f"{where}: must be a list of {{'at_least': n, 'colour': c}}")
    steps = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise RulesError(f"{at}: must be an object with 'at_least' and 'colour'")
        n = item.get("at_least")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise RulesError(f"{at}: 'at_least' must be a whole number of 1 or more")
        steps.append(Step(n, _colour(item.get("colour"), f"{at}.colour")))
    if [s.at_least for s in steps] != sorted({s.at_least for s in steps}):
        raise RulesError(f"{where}: 'at_least' must rise from one step to the next")
    if any(severity(a.colour) > severity(b.colour) for a, b in zip(steps, steps[1:])):
        raise RulesError(f"{where}: a higher count cannot call for a milder colour")
    return tuple(steps)


def parse_rules(overrides: Mapping[str, Any] | None = None) -> CodeRules:
    """DEFAULT_RULES with the setting's keys laid over them; raises RulesError naming the first bad key."""
    data = {**DEFAULT_RULES, **(overrides or {})}
    unknown = set(data) - set(DEFAULT_RULES)
    if unknown:
        raise RulesError(f"unknown key: {sorted(unknown)[0]}")
    grades = data["grades"]
    if not isinstance(grades, dict):
        raise RulesError("grades: must map grade codes to colours")
    return CodeRules(
        grades={str(k): _colour(v, f"grades.{k}") for k, v in grades.items()},
        other_grade=_colour(data["other_grade"], "other_grade"),
        ungraded=_colour(data["ungraded"], "ungraded"),
        black_list=_colour(data["black_list"], "black_list"),
        white_list=_colour(data["white_list"], "white_list"),
        open_incidents=_steps(data["open_incidents"], "open_incidents"),
        overdue_obligations=_steps(data["overdue_obligations"], "overdue_obligations"),
    )


def _step_colour(steps: tuple[Step, ...], count: int) -> str | None:
    reached = [s for s in steps if count >= s.at_least]
    return reached[-1].colour if reached else None


def evaluate(rules: CodeRules, facts: Facts) -> Verdict:
    """The code's colour is the worst colour any applying fact calls for; the reasons list every applying fact,
    worst first (the grade always applies, so there is always at least one reason)."""
    reasons: list[Reason] = []
    if facts.grade is None:
        reasons.append(Reason("ungraded", rules.ungraded))
    else:
        reasons.append(Reason("grade", rules.grades.get(facts.grade, rules.other_grade), facts.grade))
    if facts.black_listed:
        reasons.append(Reason("black_list", rules.black_list))
    if facts.white_listed:
        reasons.append(Reason("white_list", rules.white_list))
    for code, steps, count in (("open_incidents", rules.open_incidents, facts.open_incidents),
                               ("overdue_obligations", rules.overdue_obligations, facts.overdue_obligations)):
        colour = _step_colour(steps, count) if count > 0 else None
        if colour is not None:
            reasons.append(Reason(code, colour, count))
    reasons.sort(key=lambda r: -severity(r.colour))  # stable: same colour keeps the order above
    return Verdict(colour=reasons[0].colour, reasons=tuple(reasons))


def causes_changed(old_colour: str | None, old_reasons: list[dict] | None, verdict: Verdict) -> bool:
    """A history row is due when the colour or any cause (fact or its value) changes."""
    return old_colour != verdict.colour or (old_reasons or []) != verdict.reasons_json()


def describe(rules: CodeRules) -> dict[str, Any]:
    """The mapping as plain data for the public rules page and its JSON."""
    return {
        "colours": list(COLOURS),
        "grades": dict(rules.grades), "other_grade": rules.other_grade, "ungraded": rules.ungraded,
        "black_list": rules.black_list, "white_list": rules.white_list,
        "open_incidents": [{"at_least": s.at_least, "colour": s.colour} for s in rules.open_incidents],
        "overdue_obligations": [{"at_least": s.at_least, "colour": s.colour} for s in rules.overdue_obligations],
    }
