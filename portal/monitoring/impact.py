"""What publishing a set of manual results will create, shown before the user confirms (issue 18): the values over
their limits, the late-publication finding, and the exceedance incidents (new episodes, or running ones they
extend: monitoring.episodes). The same rules as the commit (services.detect_exceedances for manual samples,
manual._late_finding); means are judged again at publication, with the automatic data of the same periods."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone

from portal.core.clock import china_tz
from portal.monitoring import episodes, rules, services
from portal.monitoring.importers import ManualRow
from portal.workdays.services import add_working_days

MAX_EXAMPLES = 20


@dataclass
class Impact:
    over_limit: int = 0
    examples: list = field(default_factory=list)  # [line, outlet, pollutant, value, limit text]
    late_groups: int = 0
    late_rows: int = 0
    first_due: str = ""
    late_findings: int = 0
    new_incidents: int = 0
    extended_incidents: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> "Impact":
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


def _limit_text(spec: rules.LimitSpec) -> str:
    if spec.is_range:
        low = "" if spec.limit_min is None else f"{spec.limit_min:g}"
        high = "" if spec.limit_max is None else f"{spec.limit_max:g}"
        return f"{low}–{high}"
    return f"{spec.limit_value:g}"


class Collector:
    """Fed every valid row of a file while it is checked (memory: only the exceeding rows' times)."""

    def __init__(self, outlets: dict[str, int]):
        self.outlets = outlets
        self.specs = services.limit_specs(set(outlets.values()))
        self.tz = china_tz()
        self.impact = Impact()
        self.exceeding: dict[tuple[int, str], list[datetime]] = defaultdict(list)

    def row(self, row: ManualRow) -> None:
        outlet_id = self.outlets.get(row.outlet)
        spec = self.specs.get(outlet_id, {}).get(row.pollutant)
        if spec is None or not rules.is_valid_flag(row.flag) or rules.check(row.value, spec) is None:
            return
        self.impact.over_limit += 1
        if len(self.impact.examples) < MAX_EXAMPLES:
            self.impact.examples.append([row.line, row.outlet, row.pollutant, row.value, _limit_text(spec)])
        self.exceeding[(outlet_id, row.pollutant)].append(
            row.sampled_at.replace(tzinfo=self.tz).astimezone(timezone.utc))

    def finish(self, groups: dict[tuple[date, str, str], int], today: date) -> Impact:
        impact = self.impact
        dues = []
        for (completed_on, _lab, _method), n in groups.items():
            due = add_working_days(completed_on, 5)
            if today > due:
                impact.late_groups, impact.late_rows = impact.late_groups + 1, impact.late_rows + n
                dues.append(due)
        impact.first_due = min(dues).isoformat() if dues else ""
        impact.late_findings = 1 if dues else 0  # one publication act, one finding (manual._late_finding)
        for (outlet_id, code), times in self.exceeding.items():
            medium = self._medium(outlet_id)
            runs: list[list[datetime]] = []
            for t in sorted(times):
                if runs and episodes.joins(medium, runs[-1][0], runs[-1][-1], t, self.tz):
                    runs[-1].append(t)
                else:
                    runs.append([t])
            for run in runs:
                if services.find_episode(outlet_id, code, run[0]) or services.find_episode(outlet_id, code, run[-1]):
                    impact.extended_incidents += 1
                else:
                    impact.new_incidents += 1
        return impact

    def _medium(self, outlet_id: int) -> str:
        code = next((c for c, i in self.outlets.items() if i == outlet_id), "")
        return episodes.medium_of(code)
