"""双随机 draws as pure functions (DOMAIN §8.5): classify the pool, weight it by credit, draw enterprises and two
inspectors each from a seed, and seal the result so anyone holding the seed and the pool snapshot can re-run the
draw and get the same result.

Randomness: every draw key is HMAC-SHA256(seed, item); the seed itself comes from a CSPRNG (secrets) and is
published with the result. Weighted sampling without replacement uses Efraimidis–Spirakis keys u^(1/w).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass

DEFAULT_CONFIG = {
    # Share of each class drawn per quarter: special objects in full (Fuzhou), key units ≥ 25 % (county level),
    # general units 5 % (Chizhou). Credit multipliers weight the draw inside a class.
    "ratios": {"special": 1.0, "key": 0.25, "general": 0.05},
    "multipliers": {"green": 0.5, "blue": 1.0, "yellow": 1.5, "red": 2.0, "black": 2.0, "white_list": 0.5},
    "inspectors_per_target": 2,
    # Every key unit is inspected at least once a year (DOMAIN §8.3, §8.5): a key unit not yet covered this year
    # weighs `uncovered_multiplier` times more, and from `force_from_quarter` on every uncovered one is drawn.
    "key_coverage": {"force_from_quarter": 4, "uncovered_multiplier": 2.0},
    # An inspector who handled a complaint about the enterprise in this many months has a conflict (0: off).
    "complaint_conflict_months": 12,
}
# Routine (日常) checks of one enterprise per year (DOMAIN §8.6: each province publishes its cap; Suichang and
# Ankang: 2) [M]. Keys are province codes (2 digits); "default" applies elsewhere. Case checks do not count.
DEFAULT_YEARLY_CAPS = {"default": 2}
CLASS_CODES = ("special", "key", "general")


def yearly_cap(region_code: str, caps: dict) -> int:
    return int(caps.get(region_code[:2], caps.get("default", 2)))
SPECIAL_GRADES = ("yellow", "red", "black")


@dataclass(frozen=True)
class PoolItem:
    uscc: str
    klass: str  # special | key | general
    weight: float


def classify(grade: str | None, vetoed: bool, black_listed: bool, key_unit: bool) -> str:
    """特殊监管对象: warning-or-worse grade, a counting veto, or the black list; then key units; then general."""
    if vetoed or black_listed or (grade in SPECIAL_GRADES):
        return "special"
    return "key" if key_unit else "general"


def weight(grade: str | None, white_listed: bool, config: dict) -> float:
    multipliers = config["multipliers"]
    w = float(multipliers.get(grade or "blue", 1.0))
    if white_listed:
        w *= float(multipliers.get("white_list", 1.0))
    return max(w, 0.0001)


def _unit(seed: str, label: str) -> float:
    """A number in (0, 1) from HMAC-SHA256(seed, label): reproducible and unpredictable without the seed."""
    digest = hmac.new(bytes.fromhex(seed), label.encode(), hashlib.sha256).digest()
    return (int.from_bytes(digest[:8], "big") + 1) / (2 ** 64 + 2)


def canonical(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def pool_snapshot(pool: list[PoolItem], inspectors: list[str], conflicts: list[tuple[str, str]] | None = None,
                  uncovered_key: list[str] | None = None, quarter: int | None = None,
                  territory: dict | None = None) -> dict:
    """What the draw reads, canonical and hashed: the classed, weighted pool, the inspectors, the conflicts
    (inspector, credit code) that exclude an inspector from a target, the key units not yet inspected this year
    and the quarter. `territory` holds each inspector's jurisdiction ("inspector_jurisdictions"), each
    enterprise's district ("regions") and the enterprises left out at the yearly cap ("at_cap"). Snapshots sealed
    before conflicts, coverage or territory existed lack those keys and re-run unchanged."""
    snap = {"pool": sorted([p.uscc, p.klass, round(p.weight, 6)] for p in pool), "inspectors": sorted(inspectors)}
    if territory is not None:
        snap["inspector_jurisdictions"] = dict(sorted(territory["inspector_jurisdictions"].items()))
        snap["regions"] = dict(sorted(territory["regions"].items()))
        snap["at_cap"] = sorted(territory.get("at_cap", ()))
    if conflicts is not None:
        snap["conflicts"] = sorted([name, uscc] for name, uscc in set(conflicts))
    if uncovered_key is not None:
        snap["uncovered_key"] = sorted(set(uncovered_key))
    if quarter is not None:
        snap["quarter"] = quarter
    return snap


def forces_coverage(quarter: int | None, config: dict) -> bool:
    """Whether this quarter draws every key unit not yet inspected this year."""
    force_from = int(config.get("key_coverage", {}).get("force_from_quarter", 4) or 5)
    return quarter is not None and quarter >= force_from


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def draw(seed: str, snapshot: dict, config: dict) -> list[dict]:
    """Draw targets per class (count = ceil(ratio × class size)) and `inspectors_per_target` distinct inspectors
    for each, balancing workload (fewest assignments first, ties by the seeded key)."""
    by_class: dict[str, list[tuple[str, float]]] = {}
    for uscc, klass, w in snapshot["pool"]:
        by_class.setdefault(klass, []).append((uscc, w))
    uncovered = set(snapshot.get("uncovered_key", ()))
    force = forces_coverage(snapshot.get("quarter"), config) and bool(uncovered)
    boost = float(config.get("key_coverage", {}).get("uncovered_multiplier", 1.0) or 1.0)
    targets = []
    for klass in ("special", "key", "general"):
        items = by_class.get(klass, [])
        count = min(len(items), math.ceil(float(config.get("ratios", {}).get(klass, 0)) * len(items)))
        forced = [it for it in items if it[0] in uncovered] if force else []
        rest = [it for it in items if not (force and it[0] in uncovered)]
        keyed = sorted(rest, key=lambda it: -(_unit(seed, f"target:{it[0]}") ** (
            1.0 / (it[1] * boost if it[0] in uncovered else it[1]))))
        targets += [(uscc, klass, True) for uscc, _ in forced]
        targets += [(uscc, klass, False) for uscc, _ in keyed[:max(count - len(forced), 0)]]
    targets.sort(key=lambda t: t[0])
    conflicts = {(name, uscc) for name, uscc in snapshot.get("conflicts", ())}
    jurisdictions = snapshot.get("inspector_jurisdictions")
    regions = snapshot.get("regions", {})
    load = {name: 0 for name in snapshot["inspectors"]}
    per_target = min(int(config.get("inspectors_per_target", 2)), len(load))
    result = []
    for uscc, klass, was_forced in targets:
        free = [name for name in load if (name, uscc) not in conflicts
                and covers(jurisdictions, name, regions.get(uscc, ""))]
        chosen = sorted(free, key=lambda name: (load[name], _unit(seed, f"inspector:{uscc}:{name}")))[:per_target]
        for name in chosen:
            load[name] += 1
        row = {"uscc": uscc, "class": klass, "inspectors": sorted(chosen)}
        if was_forced:
            row["forced"] = True  # key unit not yet inspected this year
        if len(chosen) < per_target:
            row["short"] = per_target - len(chosen)  # too few inspectors without a conflict
        result.append(row)
    return result


def covers(jurisdictions: dict | None, inspector: str, region_code: str) -> bool:
    """Whether the inspector's authority holds territorial jurisdiction over the enterprise's district (DOMAIN
    §8.5 step 3); snapshots without jurisdictions (before the roster) put no limit."""
    if jurisdictions is None:
        return True
    prefix = jurisdictions.get(inspector) or "\x00"
    return bool(region_code) and region_code.startswith(prefix)


def seal(seed: str, pool_hash: str, result: list[dict]) -> str:
    return sha256(seed + pool_hash + canonical(result))
