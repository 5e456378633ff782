"""Integrity rules R1–R13 (DOMAIN §5.12): pure detectors over plain hourly series, their default parameters as data,
and the flag workflow's transition table. No database, request or app here.

A series is dense and hourly: `values[i]` is the hour starting at `start + i h` (None = nothing received) and
`flags[i]` its HJ 212 data flag ("N" valid; "" when nothing was received). A detector returns `Hit`s: clues for a
regulator, never findings. Every default is a design value [M] (DOMAIN §11 item 19) and can be overridden per rule
with the INTEGRITY_RULES setting; the parameters used are stored on each flag so dismissals can tune them.
"""
from __future__ import annotations

import enum
import math
import statistics
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

HOUR = timedelta(hours=1)
INVALID_FLAGS = frozenset({"F", "M", "D", "C", "S", "B"})


@dataclass(frozen=True)
class RuleSpec:
    id: str
    params: Mapping[str, float]
    basis: str  # the legal hook or source, as DOMAIN cites it (shown untranslated: it names documents)
    needs: tuple[str, ...] = ()  # the data the rule reads besides the pollutant series


RULES: dict[str, RuleSpec] = {r.id: r for r in (
    RuleSpec("R1", {"min_hours": 24, "range_share": 0.02, "usual_share": 0.3, "identical_run": 6},
             "监测条例 Art. 25(5); check items 数据变化幅度长期在量程2%以内波动 (jinhhb.com/news/2850-cn.html)",
             ("analyser range",)),
    RuleSpec("R2", {"days": 7, "mdl_multiple": 2.0, "share": 0.8, "min_coverage": 0.5},
             "check item 数据长期在仪器分析方法检出限上下波动 (jinhhb.com/news/2850-cn.html); 监测条例 Art. 25",
             ("method detection limit",)),
    RuleSpec("R3", {"band": 0.15, "ratio": 3.0, "min_share": 0.25, "min_values": 100},
             "Karplus, Zhang & Almond 2018 (PNAS); Greenstone et al. 2022 (AER: Insights); 环发〔2015〕175号",
             ("limit",)),
    RuleSpec("R4", {"high_share": 0.8, "rate_ratio": 2.0, "min_events": 3, "p_value": 0.01, "load_quantile": 0.75},
             "Wang et al. 2022, J. Environ. Manage. 314:115081; 监测条例 Art. 25(5)", ("limit", "ST=44 load")),
    RuleSpec("R5", {"drop": 0.5, "flat_hours": 6, "flat_cv": 0.02, "min_events": 5, "days": 14},
             "Xiamen 2025 case (credit.xm.gov.cn/cxxc/dxal/202510/t20251010_2959431.htm); 环发〔2015〕175号 篡改"),
    RuleSpec("R6", {"window": 6, "step_sigma": 3.0, "step_share": 0.25, "o2_max": 19.0, "o2_hours": 3,
                    "conv_tolerance": 0.05, "conv_hours": 3},
             "监测条例 Art. 25(5) (changing equipment parameters); Guangxi 2023 and Panzhihua cases",
             ("flow, temperature, O2, moisture", "ST=44/45")),
    RuleSpec("R7", {"min_valid": 12, "near_tolerance": 0.01},
             "环发〔2015〕175号 伪造 (用其他样品的分析结果替代); O&M liability", ("O&M company",)),
    RuleSpec("R8", {"tolerance": 0.3, "abs_floor": 0.0},
             "排污许可管理条例 art. 29 (supervisory results prevail); huanjing.cn/11303.html",
             ("supervisory results", "lab results")),
    RuleSpec("R9", {"peer_multiple": 2.0, "min_flag_hours": 24, "on_share": 0.3, "min_hours": 2,
                    "high_share": 0.8, "min_odd": 3},
             "监测条例 Art. 25(5) (falsely marking equipment or 工况 status); 2022 标记规则", ("ST=44",)),
    RuleSpec("R10", {"on_share": 0.3, "baseline_share": 0.3, "min_hours": 1},
             "MEE July 2025 notice (设备开停有数、治污效果可查); 监测条例 Art. 25(5)", ("ST=44",)),
    RuleSpec("R11", {"min_clients": 3},
             "Xiamen 2025 lab case; SAMR Order 39 (false reports); 环发〔2015〕175号", ("lab reports", "CMA scope")),
    RuleSpec("R12", {"silent_hours": 4, "report_hours": 12},
             "监测条例 Art. 23 (report transmission anomalies and repair)", ("Art. 23 reports",)),
    RuleSpec("R13", {"min_values": 50, "chi2_first": 26.12, "chi2_last": 27.88},
             "forensic practice [M]; a weak signal, raised only beside another rule's flag"),
)}
SERIES_RULES = ("R1", "R2", "R3", "R4", "R5", "R6", "R9", "R10", "R12")


def params_for(rule_id: str, overrides: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, float]:
    """The rule's defaults with the configured overrides; unknown keys are refused so a typo never goes unnoticed."""
    params = dict(RULES[rule_id].params)
    for key, value in ((overrides or {}).get(rule_id) or {}).items():
        if key not in params:
            raise KeyError(f"INTEGRITY_RULES[{rule_id!r}]: unknown parameter {key!r}")
        params[key] = float(value)
    return params


@dataclass
class Series:
    start: datetime
    values: list[float | None]
    flags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.flags:
            self.flags = ["N" if v is not None else "" for v in self.values]

    def __len__(self) -> int:
        return len(self.values)

    def at(self, i: int) -> datetime:
        return self.start + i * HOUR

    def valid(self, i: int) -> bool:
        return self.values[i] is not None and self.flags[i] == "N"


@dataclass(frozen=True)
class Hit:
    rule: str
    start: datetime
    end: datetime  # exclusive
    measure: float  # what was measured (span, share, count ...)
    threshold: float | None  # the level the chart draws (a value in the series' unit), None if not a level
    details: dict = field(default_factory=dict)


def _producing(s: Series, i: int, producing: Sequence[bool] | None) -> bool:
    return s.valid(i) and (producing is None or producing[i])


def _runs(mask: Sequence[bool]) -> Iterable[tuple[int, int]]:
    """Maximal [a, b) runs of True."""
    a = None
    for i, m in enumerate(mask):
        if m and a is None:
            a = i
        elif not m and a is not None:
            yield a, i
            a = None
    if a is not None:
        yield a, len(mask)


def _merge(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    spans.sort()
    out: list[list] = []
    for a, b, m in spans:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
            out[-1][2] = max(out[-1][2], m)
        else:
            out.append([a, b, m])
    return [tuple(x) for x in out]


def _cv(xs: Sequence[float]) -> float:
    mean = sum(xs) / len(xs)
    if mean == 0:
        return 0.0 if all(x == 0 for x in xs) else math.inf
    return statistics.pstdev(xs) / abs(mean)


def _binomial_tail(k: int, n: int, q: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, q): how likely that many gaps after high values are by chance."""
    if k <= 0:
        return 1.0
    if n <= 0 or k > n:
        return 0.0
    q = min(max(q, 1e-12), 1 - 1e-12)
    term = math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(q) + (n - k) * math.log1p(-q))
    total = 0.0
    for x in range(k, n + 1):
        total += term
        term *= (n - x) / (x + 1) * q / (1 - q)
    return min(total, 1.0)


def production_on(production: Sequence[float | None], share: float) -> list[bool]:
    """ST=44 production power counts as on at ≥ share × the usual running level (the 75th percentile of the
    positive readings), so standby power during a stop is not production."""
    positive = sorted(v for v in production if v is not None and v > 0)
    if not positive:
        return [False] * len(production)
    level = share * positive[int(0.75 * (len(positive) - 1))]
    return [v is not None and v >= level for v in production]


# ------------------------------------------------------------------------------------------------ R1 flat line

def detect_r1(s: Series, p: Mapping[str, float], *, analyser_range: float | None = None,
              producing: Sequence[bool] | None = None) -> list[Hit]:
    """≥ min_hours valid producing hours within range_share of the analyser range (and within usual_share of the
    outlet's own median daily span, so a steady plant read on an oversized range is not taken for a stuck one),
    or ≥ identical_run identical hourly values in a row. Hours when the plant is stopped or the data are flagged
    are skipped, not counted: a stuck value stays stuck across a night stop."""
    idx = [i for i in range(len(s)) if _producing(s, i, producing)]
    vals = [s.values[i] for i in idx]
    hits: list[Hit] = []
    min_hours, run_len = int(p["min_hours"]), int(p["identical_run"])
    tol = analyser_range * p["range_share"] if analyser_range else None
    if tol is not None:
        days: dict[int, list[float]] = defaultdict(list)
        for i, v in zip(idx, vals):
            days[i // 24].append(v)
        spans_per_day = sorted(max(d) - min(d) for d in days.values() if len(d) >= 12)
        if spans_per_day:
            tol = min(tol, p["usual_share"] * spans_per_day[len(spans_per_day) // 2])
    if tol is not None and len(vals) >= min_hours:
        spans = []
        lo = 0
        mx: deque = deque()
        mn: deque = deque()
        for hi, v in enumerate(vals):
            while mx and vals[mx[-1]] <= v:
                mx.pop()
            mx.append(hi)
            while mn and vals[mn[-1]] >= v:
                mn.pop()
            mn.append(hi)
            while vals[mx[0]] - vals[mn[0]] > tol:
                lo += 1
                if mx[0] < lo:
                    mx.popleft()
                if mn[0] < lo:
                    mn.popleft()
            if hi + 1 - lo >= min_hours:
                spans.append((lo, hi + 1, float(hi + 1 - lo)))
        for x, y, _m in _merge(spans):
            seg = vals[x:y]
            hits.append(Hit("R1", s.at(idx[x]), s.at(idx[y - 1] + 1), max(seg) - min(seg), tol,
                            {"kind": "narrow", "hours": y - x, "range": analyser_range}))
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[i]:
            j += 1
        start = s.at(idx[i])
        if j + 1 - i >= run_len and not any(h.start <= start < h.end for h in hits):
            hits.append(Hit("R1", start, s.at(idx[j] + 1), float(j + 1 - i), None,
                            {"kind": "identical", "value": vals[i], "hours": j + 1 - i}))
        i = j + 1
    return hits


# ------------------------------------------------------------------------------------------------ R2 detection limit

def detect_r2(s: Series, p: Mapping[str, float], *, mdl: float | None,
              producing: Sequence[bool] | None = None) -> list[Hit]:
    """Over any window of `days` days, ≥ share of the valid producing hours are ≤ mdl_multiple × MDL."""
    if not mdl:
        return []
    width = int(p["days"]) * 24
    level = mdl * p["mdl_multiple"]
    ok = [_producing(s, i, producing) for i in range(len(s))]
    low = [ok[i] and s.values[i] <= level for i in range(len(s))]
    spans = []
    n_ok = sum(ok[:width])
    n_low = sum(low[:width])
    for a in range(0, max(len(s) - width + 1, 0)):
        if a:
            n_ok += ok[a + width - 1] - ok[a - 1]
            n_low += low[a + width - 1] - low[a - 1]
        if a % 24:
            continue
        if n_ok >= width * p["min_coverage"] and n_low >= p["share"] * n_ok:
            spans.append((a, a + width, n_low / n_ok))
    return [Hit("R2", s.at(a), s.at(b), m, level, {"mdl": mdl}) for a, b, m in _merge(spans)]


# ------------------------------------------------------------------------------------------------ R3 bunching

def detect_r3(s: Series, p: Mapping[str, float], *, limit: float | None) -> list[Hit]:
    """In the window (a month), the share of valid values in [(1-band)L, L) is ≥ ratio × the share in
    [L, (1+band)L) and ≥ min_share of all valid values."""
    if not limit:
        return []
    vals = [s.values[i] for i in range(len(s)) if s.valid(i)]
    if len(vals) < p["min_values"]:
        return []
    below = sum(1 for v in vals if (1 - p["band"]) * limit <= v < limit) / len(vals)
    above = sum(1 for v in vals if limit <= v < (1 + p["band"]) * limit) / len(vals)
    if below >= p["min_share"] and below >= p["ratio"] * above:
        return [Hit("R3", s.start, s.at(len(s)), below, (1 - p["band"]) * limit,
                    {"share_below": round(below, 4), "share_above": round(above, 4), "limit": limit})]
    return []


# ------------------------------------------------------------------------------------------------ R4 strategic gaps

def detect_r4(s: Series, p: Mapping[str, float], *, limit: float | None,
              load: Sequence[float | None] | None = None, producing: Sequence[bool] | None = None) -> list[Hit]:
    """Gaps (or F/M/D/C hours) that start right after a high and rising value, at ≥ rate_ratio × the rate after
    other values; or gap hours concentrated in high-load hours (ST=44 production power). A gap while the plant
    is not producing (a planned stop) is no gap in the data of a discharge."""
    hits = []
    n = len(s)
    starts = [i for i in range(1, n) if not s.valid(i) and s.valid(i - 1) and (producing is None or producing[i])]
    cal = Counter(s.at(i).hour for i in starts if s.flags[i] == "C")
    if cal:  # the routine calibration at the device's usual hour is no strategic gap
        usual = cal.most_common(1)[0][0]
        starts = [i for i in starts if not (s.flags[i] == "C" and s.at(i).hour == usual)]
    if limit:
        def high(i: int) -> bool:
            return (s.values[i] >= p["high_share"] * limit and i > 0 and s.valid(i - 1)
                    and s.values[i] > s.values[i - 1])

        valid_idx = [i for i in range(n - 1) if s.valid(i)]
        n_high = sum(1 for i in valid_idx if high(i))
        after_high = [i for i in starts if high(i - 1)]
        n_other = len(valid_idx) - n_high
        rate_high = len(after_high) / n_high if n_high else 0.0
        rate_other = (len(starts) - len(after_high)) / n_other if n_other else 0.0
        chance = _binomial_tail(len(after_high), n_high, max(rate_other, 1.0 / max(n_other, 1)))
        if (len(after_high) >= p["min_events"] and rate_high >= p["rate_ratio"] * rate_other
                and chance < p["p_value"]):
            hits.append(Hit("R4", s.at(after_high[0] - 1), s.at(after_high[-1] + 1), float(len(after_high)),
                            p["high_share"] * limit,
                            {"kind": "after_high", "events": len(after_high), "rate_high": round(rate_high, 4),
                             "rate_other": round(rate_other, 4),
                             "times": [s.at(i).isoformat() for i in after_high[:20]]}))
    if load is not None:
        known = sorted(v for v in load if v is not None and v > 0)
        if len(known) >= 48:
            q = known[int(p["load_quantile"] * (len(known) - 1))]
            hi_hours = [i for i in range(n) if load[i] is not None and load[i] >= q]
            lo_hours = [i for i in range(n) if load[i] is not None and 0 < load[i] < q]
            gaps_hi = sum(1 for i in hi_hours if not s.valid(i))
            gaps_lo = sum(1 for i in lo_hours if not s.valid(i))
            r_hi = gaps_hi / len(hi_hours) if hi_hours else 0.0
            r_lo = gaps_lo / len(lo_hours) if lo_hours else 0.0
            if gaps_hi >= p["min_events"] and r_hi >= p["rate_ratio"] * r_lo and r_hi > r_lo:
                hits.append(Hit("R4", s.start, s.at(n), r_hi, None,
                                {"kind": "high_load", "gap_hours_high_load": gaps_hi, "rate_high": round(r_hi, 4),
                                 "rate_other": round(r_lo, 4), "load_threshold": q}))
    return hits


# ------------------------------------------------------------------------------------------------ R5 step-down, flat

def detect_r5(s: Series, p: Mapping[str, float], *, producing: Sequence[bool] | None = None) -> list[Hit]:
    """≥ min_events sharp drops (to ≤ (1-drop) of the hour before) within `days` days, each followed by
    ≥ flat_hours valid producing hours with a coefficient of variation below flat_cv (dilution, reagent
    tampering); a plant shutting down is not producing, so its drop to zero is not counted."""
    flat = int(p["flat_hours"])
    events = []
    for i in range(1, len(s) - flat + 1):
        if not (s.valid(i) and s.valid(i - 1)) or s.values[i - 1] <= 0:
            continue
        if s.values[i] > (1 - p["drop"]) * s.values[i - 1]:
            continue
        after = s.values[i:i + flat]
        if all(_producing(s, k, producing) for k in range(i, i + flat)) and _cv(after) < p["flat_cv"]:
            events.append(i)
    width = int(p["days"]) * 24
    need = int(p["min_events"])
    spans = []
    for k in range(len(events) - need + 1):
        if events[k + need - 1] - events[k] < width:
            spans.append((events[k] - 1, events[k + need - 1] + flat, float(need)))
    hits = []
    for a, b, _m in _merge(spans):
        inside = [e for e in events if a < e < b]
        hits.append(Hit("R5", s.at(a), s.at(b), float(len(inside)), None,
                        {"drops": len(inside), "times": [s.at(e).isoformat() for e in inside[:20]]}))
    return hits


# ------------------------------------------------------------------------------------------------ R6 parameter shifts

def _steps(values: Sequence[float | None], w: int, sigma: float, share: float,
           ok: Sequence[bool]) -> set[int]:
    """Hours i where the mean of the w valid hours after differs from the w hours before by more than `sigma`
    times their spread and by at least `share` of the level before (≤ 2 invalid hours per side tolerated)."""
    n = len(values)
    cnt, s1, s2 = [0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    for i in range(n):
        v = values[i] if ok[i] and values[i] is not None else None
        cnt[i + 1] = cnt[i] + (v is not None)
        s1[i + 1] = s1[i] + (v or 0.0)
        s2[i + 1] = s2[i] + (v * v if v is not None else 0.0)

    def stats(a: int, b: int) -> tuple[int, float, float]:
        k = cnt[b] - cnt[a]
        if not k:
            return 0, 0.0, 0.0
        mean = (s1[b] - s1[a]) / k
        return k, mean, math.sqrt(max((s2[b] - s2[a]) / k - mean * mean, 0.0))

    out = set()
    for i in range(w, n - w + 1):
        kb, mb, sb = stats(i - w, i)
        ka, ma, sa = stats(i, i + w)
        if kb < w - 2 or ka < w - 2:
            continue
        noise = (sb + sa) / 2
        if abs(ma - mb) > sigma * max(noise, 1e-9) and abs(ma - mb) >= share * max(abs(mb), 1e-9):
            out.add(i)
    return out


def detect_r6(s: Series, p: Mapping[str, float], *, companions: Mapping[str, Sequence[float | None]] | None = None,
              state: Sequence[float | None] | None = None, o2: Sequence[float | None] | None = None,
              combustion: bool = False, converted: Sequence[float | None] | None = None,
              reference_o2: float | None = None, producing: Sequence[bool] | None = None) -> list[Hit]:
    """A step at one hour in the concentration and a companion parameter (flow, temperature, O2, moisture) with no
    step in the ST=44/45 series; O2 above o2_max at a combustion stack; converted values off the recomputation."""
    hits = []
    n = len(s)
    ok = [_producing(s, i, producing) for i in range(n)]
    w = int(p["window"])
    conc_steps = _steps(s.values, w, p["step_sigma"], p["step_share"], ok)
    state_steps: set[int] = set()
    if state is not None:
        state_ok = [v is not None for v in state]
        state_steps = _steps(state, w, p["step_sigma"], p["step_share"] / 2, state_ok)
    for name, comp in (companions or {}).items():
        comp_ok = [ok[i] and comp[i] is not None for i in range(n)]
        for i in sorted(_steps(comp, w, p["step_sigma"], p["step_share"], comp_ok)):
            near = {i - 1, i, i + 1}
            if near & conc_steps and not (near & state_steps):
                hits.append(Hit("R6", s.at(i - w), s.at(i + w), 1.0, None,
                                {"kind": "synchronous_step", "parameter": name, "at": s.at(i).isoformat()}))
    if combustion and o2 is not None:
        high = [i for i in range(n) if ok[i] and o2[i] is not None and o2[i] > p["o2_max"]]
        if len(high) >= p["o2_hours"]:
            hits.append(Hit("R6", s.at(high[0]), s.at(high[-1] + 1), float(len(high)), p["o2_max"],
                            {"kind": "o2_high", "hours": len(high), "series": "o2"}))
    if converted is not None and o2 is not None and reference_o2 is not None:
        off = []
        for i in range(n):
            if not ok[i] or converted[i] is None or o2[i] is None or o2[i] >= 20.9:
                continue
            expected = s.values[i] * (21 - reference_o2) / (21 - o2[i])
            if expected > 0 and abs(converted[i] - expected) / expected > p["conv_tolerance"]:
                off.append(i)
        if len(off) >= p["conv_hours"]:
            hits.append(Hit("R6", s.at(off[0]), s.at(off[-1] + 1), float(len(off)), None,
                            {"kind": "conversion", "hours": len(off)}))
    return hits


# ------------------------------------------------------------------------------------------------ R7 recycled series

def day_vectors(s: Series, min_valid: int) -> dict[int, tuple[float | None, ...]]:
    """Day index → its 24 values, for days with ≥ min_valid valid hours (series start at a local midnight)."""
    out = {}
    for d in range(len(s) // 24):
        vals = tuple(s.values[i] if s.valid(i) else None for i in range(d * 24, d * 24 + 24))
        if sum(v is not None for v in vals) >= min_valid:
            out[d] = vals
    return out


def _near(a: Sequence[float | None], b: Sequence[float | None], tol: float) -> bool:
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if len(pairs) < 20 or len(set(x for x, _ in pairs)) < 3:
        return False
    mean = sum(abs(x) for x, _ in pairs) / len(pairs) or 1.0
    return all(abs(x - y) <= tol * mean for x, y in pairs)


class RecycledIndex:
    """R7, streaming: identical 24-value days across two series (two MNs), a series repeating one of its earlier
    days, and near-identical days across one O&M company's (or lab's) clients. Only day signatures are kept, and
    day vectors of grouped series, so a province's outlets can be fed one at a time."""

    def __init__(self, p: Mapping[str, float]):
        self.p = p
        self.seen: dict[tuple, tuple[object, datetime]] = {}
        self.group_days: dict[tuple[str, datetime], list[tuple[object, tuple]]] = defaultdict(list)

    def add(self, key: object, s: Series, group: str | None = None) -> list[Hit]:
        hits = []
        for d, vec in day_vectors(s, int(self.p["min_valid"])).items():
            day = s.at(d * 24)
            if len(set(v for v in vec if v is not None)) < 3:
                continue  # a flat day is R1's business
            sig = tuple(round(v, 6) if v is not None else None for v in vec)
            if sig in self.seen:
                other, other_day = self.seen[sig]
                kind = "repeat" if other == key else "identical_other"
                hits.append(Hit("R7", day, day + 24 * HOUR, 1.0, None,
                                {"kind": kind, "other": str(other), "other_day": other_day.isoformat()}))
                continue
            self.seen[sig] = (key, day)
            if group:
                peers = self.group_days[(group, day)]
                for other, other_vec in peers:
                    if other != key and _near(vec, other_vec, self.p["near_tolerance"]):
                        hits.append(Hit("R7", day, day + 24 * HOUR, 1.0, None,
                                        {"kind": "near_identical_group", "other": str(other), "group": group}))
                        break
                peers.append((key, vec))
        return hits


def detect_r7(series: Mapping[object, Series], p: Mapping[str, float], *,
              groups: Mapping[object, str] | None = None) -> list[tuple[object, Hit]]:
    """R7 over a set of series at once (see RecycledIndex). Returns (series key, hit) pairs."""
    index = RecycledIndex(p)
    return [(key, h) for key, s in series.items() for h in index.add(key, s, (groups or {}).get(key))]


# ------------------------------------------------------------------------------------------------ R8 divergence

@dataclass(frozen=True)
class Reference:
    at: datetime
    value: float
    source: str  # supervisory / lab
    ref: str = ""


def detect_r8(s: Series, p: Mapping[str, float], references: Sequence[Reference]) -> list[Hit]:
    """A supervisory (or lab) result differs from the same-hour automatic value by more than the tolerance."""
    hits = []
    for r in references:
        i = int((r.at - s.start) // HOUR)
        if not (0 <= i < len(s)) or not s.valid(i) or r.value <= 0:
            continue
        diff = abs(s.values[i] - r.value)
        if diff > max(p["tolerance"] * r.value, p["abs_floor"]):
            hits.append(Hit("R8", s.at(max(i - 12, 0)), s.at(min(i + 13, len(s))), diff / r.value, r.value,
                            {"source": r.source, "reference": r.value, "automatic": s.values[i],
                             "at": s.at(i).isoformat(), "ref": r.ref}))
    return hits


# ------------------------------------------------------------------------------------------------ R9 flag abuse

PEER_FLAGS = ("M", "C", "D")


def flag_hours(flags: Sequence[str]) -> int:
    """Maintenance, calibration and fault hours: what R9 compares with the peers' median."""
    return sum(1 for f in flags if f in PEER_FLAGS)


def detect_r9(s: Series, p: Mapping[str, float], *, peer_median_flag_hours: float | None = None,
              production: Sequence[float | None] | None = None, limit: float | None = None) -> list[Hit]:
    """M/C/D hours above peer_multiple × the peers' median; F (stopped) hours while ST=44 production power is on;
    calibrations at odd hours (not the device's usual hour) that follow high readings. F hours are judged against
    production power rather than peers, since planned stops make them differ legitimately between plants."""
    hits = []
    n = len(s)
    flagged = flag_hours(s.flags)
    if (peer_median_flag_hours is not None and flagged >= p["min_flag_hours"]
            and flagged > p["peer_multiple"] * peer_median_flag_hours):
        hits.append(Hit("R9", s.start, s.at(n), float(flagged), None,
                        {"kind": "flag_share", "flag_hours": flagged, "peer_median": peer_median_flag_hours}))
    if production is not None:
        on = production_on(production, p["on_share"])
        bad = [i for i in range(n) if s.flags[i] == "F" and on[i]]
        if len(bad) >= p["min_hours"]:
            hits.append(Hit("R9", s.at(bad[0]), s.at(bad[-1] + 1), float(len(bad)), None,
                            {"kind": "stopped_while_producing", "hours": len(bad), "series": "production"}))
    cal_starts = [i for i in range(1, n) if s.flags[i] == "C" and s.flags[i - 1] != "C"]
    if limit and len(cal_starts) >= p["min_odd"]:
        usual = Counter(s.at(i).hour for i in cal_starts).most_common(1)[0][0]
        odd = [i for i in cal_starts if s.at(i).hour != usual and s.valid(i - 1)
               and s.values[i - 1] >= p["high_share"] * limit]
        if len(odd) >= p["min_odd"]:
            hits.append(Hit("R9", s.at(odd[0] - 1), s.at(odd[-1] + 1), float(len(odd)), p["high_share"] * limit,
                            {"kind": "odd_calibration", "events": len(odd),
                             "times": [s.at(i).isoformat() for i in odd[:20]]}))
    return hits


# ------------------------------------------------------------------------------------------------ R10 treatment

def detect_r10(start: datetime, p: Mapping[str, float], *, production: Sequence[float | None],
               treatment: Sequence[float | None]) -> list[Hit]:
    """Production power on while treatment power is off or below baseline_share × its usual (median) level while
    producing, for ≥ min_hours hours in a row."""
    n = min(len(production), len(treatment))
    running = production_on(production[:n], p["on_share"])
    on = [running[i] and treatment[i] is not None for i in range(n)]
    usual = [treatment[i] for i in range(n) if on[i]]
    if len(usual) < 24:
        return []
    baseline = statistics.median(usual) * p["baseline_share"]
    low = [on[i] and treatment[i] < baseline for i in range(n)]
    hits = []
    for a, b in _runs(low):
        if b - a >= p["min_hours"]:
            hits.append(Hit("R10", start + a * HOUR, start + b * HOUR, float(b - a), baseline,
                            {"hours": b - a, "baseline": baseline, "series": "treatment"}))
    return hits


# ------------------------------------------------------------------------------------------------ R11 lab reports

@dataclass(frozen=True)
class LabRecord:
    key: object
    site: object  # enterprise or outlet the sample was taken at
    client: object  # the enterprise
    lab: str
    samplers: tuple[str, ...]
    sampling_start: datetime
    sampling_end: datetime
    analysed_at: datetime | None
    issued_at: datetime | None
    method: str
    pollutant: str
    value: float | None
    in_scope: bool | None  # None when the lab's CMA scope is unknown


def detect_r11(records: Sequence[LabRecord], p: Mapping[str, float]) -> list[tuple[object, Hit]]:
    """One sampler at two sites at once; a report issued (or analysed) before sampling ended; a method outside
    the lab's CMA scope; one lab reporting the same value for ≥ min_clients clients on one day."""
    out = []

    def hit(r: LabRecord, kind: str, **details) -> None:
        out.append((r.key, Hit("R11", r.sampling_start, r.sampling_end, 1.0, None, {"kind": kind, **details})))

    by_sampler: dict[str, list[LabRecord]] = defaultdict(list)
    for r in records:
        for person in r.samplers:
            by_sampler[person.strip()].append(r)
        if r.issued_at is not None and r.issued_at < r.sampling_end:
            hit(r, "issued_before_sampling", issued=r.issued_at.isoformat())
        elif r.analysed_at is not None and r.analysed_at < r.sampling_start:
            hit(r, "analysed_before_sampling", analysed=r.analysed_at.isoformat())
        if r.in_scope is False:
            hit(r, "outside_cma_scope", method=r.method, lab=r.lab)
    for person, rs in by_sampler.items():
        rs = sorted(rs, key=lambda r: r.sampling_start)
        for x in range(len(rs)):
            for y in range(x + 1, len(rs)):
                a, b = rs[x], rs[y]
                if b.sampling_start >= a.sampling_end:
                    break
                if a.site != b.site:
                    hit(b, "sampler_two_places", sampler=person, other=str(a.key))
    same: dict[tuple, set] = defaultdict(set)
    for r in records:
        if r.value is not None:
            same[(r.lab, r.pollutant, r.sampling_start.date(), round(r.value, 6))].add(r.client)
    for r in records:
        if r.value is not None:
            clients = same[(r.lab, r.pollutant, r.sampling_start.date(), round(r.value, 6))]
            if len(clients) >= p["min_clients"]:
                hit(r, "same_value_many_clients", clients=len(clients))
    return out


# ------------------------------------------------------------------------------------------------ R12 silence

def detect_r12(s: Series, p: Mapping[str, float], *,
               reported: Sequence[tuple[datetime, datetime | None, datetime]] = ()) -> list[Hit]:
    """A device silent (nothing received for any code) for more than silent_hours hours with no timely Art. 23
    report covering the silence. `s` holds any value per hour; None = nothing received. `reported` holds the
    device's anomaly reports as (noticed_at, repaired_at or None, reported_at) (portal/integrity/anomaly_rules.py)."""
    from portal.integrity.anomaly_rules import covered

    hits = []
    silent = [v is None for v in s.values]
    for a, b in _runs(silent):
        if b - a <= p["silent_hours"] or a == 0 or b == len(s):
            continue  # a silence must be bounded by data on both sides to be judged
        start, end = s.at(a), s.at(b)
        if covered(reported, start, p["silent_hours"], p.get("report_hours", 12)):
            continue
        hits.append(Hit("R12", start, end, float(b - a), None, {"hours": b - a}))
    return hits


# ------------------------------------------------------------------------------------------------ R13 digits

BENFORD = [math.log10(1 + 1 / d) for d in range(1, 10)]


def _first_digit(v: float) -> int | None:
    v = abs(v)
    if v == 0 or not math.isfinite(v):
        return None
    return int(v / 10 ** math.floor(math.log10(v)))


def detect_r13(values: Sequence[str], p: Mapping[str, float]) -> dict[str, float] | None:
    """Manual values as entered (text): chi-square of the first digits against Benford and of the last digits
    against uniformity. Returns the statistics when either exceeds its critical value, else None."""
    nums = []
    for text in values:
        try:
            nums.append((text.strip(), float(text)))
        except ValueError:
            continue
    if len(nums) < p["min_values"]:
        return None
    firsts = [d for d in (_first_digit(v) for _, v in nums) if d]
    chi_first = 0.0
    if firsts:
        counts = Counter(firsts)
        chi_first = sum((counts.get(d, 0) - len(firsts) * e) ** 2 / (len(firsts) * e)
                        for d, e in zip(range(1, 10), BENFORD))
    lasts = [int(t[-1]) for t, _ in nums if t and t[-1].isdigit() and len(t.replace("-", "").replace(".", "")) >= 2]
    chi_last = 0.0
    if len(lasts) >= p["min_values"]:
        counts = Counter(lasts)
        e = len(lasts) / 10
        chi_last = sum((counts.get(d, 0) - e) ** 2 / e for d in range(10))
    if chi_first > p["chi2_first"] or chi_last > p["chi2_last"]:
        return {"chi2_first": round(chi_first, 2), "chi2_last": round(chi_last, 2), "n": len(nums)}
    return None


# ------------------------------------------------------------------------------------------------ workflow

class FlagState(enum.StrEnum):
    OPEN = "open"  # raised; the regulators of the jurisdiction see it
    DISMISSED = "dismissed"  # no follow-up, with a reason (tunes the thresholds)
    WARNED = "warned"  # the enterprise is asked to explain or correct (5 working days)
    ANSWERED = "answered"  # the enterprise answered or corrected online
    RESOLVED = "resolved"  # the answer satisfied the regulator
    INSPECTED = "inspected"  # an on-site check is recorded (个案 check, outside the routine cap)
    CONFIRMED = "confirmed"  # outcome: falsification found on site (offered as unconfirmed credit evidence)
    CLEARED = "cleared"  # outcome: nothing wrong found on site


F = FlagState
TRANSITIONS: dict[FlagState, frozenset[FlagState]] = {
    F.OPEN: frozenset({F.DISMISSED, F.WARNED, F.INSPECTED}),
    F.WARNED: frozenset({F.ANSWERED, F.INSPECTED}),
    F.ANSWERED: frozenset({F.RESOLVED, F.INSPECTED, F.WARNED}),
    F.INSPECTED: frozenset({F.CONFIRMED, F.CLEARED}),
    F.DISMISSED: frozenset(), F.RESOLVED: frozenset(), F.CONFIRMED: frozenset(), F.CLEARED: frozenset(),
}
# Who may move a flag into each state: the enterprise only answers; everything else is the regulator's.
ENTERPRISE_STATES = frozenset({F.ANSWERED})
# The enterprise sees a flag only once it was warned (DOMAIN §5.12): an open or dismissed clue stays internal.
ENTERPRISE_VISIBLE = frozenset({F.WARNED, F.ANSWERED, F.RESOLVED, F.INSPECTED, F.CONFIRMED, F.CLEARED})
OPEN_STATES = frozenset({F.OPEN, F.WARNED, F.ANSWERED, F.INSPECTED})
ANSWER_WORKING_DAYS = 5


def can_transition(current: FlagState, new: FlagState) -> bool:
    return new in TRANSITIONS[current]


def overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1
