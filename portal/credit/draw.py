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
}
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


def pool_snapshot(pool: list[PoolItem], inspectors: list[str]) -> dict:
    return {"pool": sorted([p.uscc, p.klass, round(p.weight, 6)] for p in pool), "inspectors": sorted(inspectors)}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def draw(seed: str, snapshot: dict, config: dict) -> list[dict]:
    """Draw targets per class (count = ceil(ratio × class size)) and `inspectors_per_target` distinct inspectors
    for each, balancing workload (fewest assignments first, ties by the seeded key)."""
    by_class: dict[str, list[tuple[str, float]]] = {}
    for uscc, klass, w in snapshot["pool"]:
        by_class.setdefault(klass, []).append((uscc, w))
    targets = []
    for klass in ("special", "key", "general"):
        items = by_class.get(klass, [])
        count = min(len(items), math.ceil(float(config.get("ratios", {}).get(klass, 0)) * len(items)))
        keyed = sorted(items, key=lambda it: -(_unit(seed, f"target:{it[0]}") ** (1.0 / it[1])))
        targets += [(uscc, klass) for uscc, _ in keyed[:count]]
    targets.sort(key=lambda t: t[0])
    load = {name: 0 for name in snapshot["inspectors"]}
    per_target = min(int(config.get("inspectors_per_target", 2)), len(load))
    result = []
    for uscc, klass in targets:
        chosen = sorted(load, key=lambda name: (load[name], _unit(seed, f"inspector:{uscc}:{name}")))[:per_target]
        for name in chosen:
            load[name] += 1
        result.append({"uscc": uscc, "class": klass, "inspectors": sorted(chosen)})
    return result


def seal(seed: str, pool_hash: str, result: list[dict]) -> str:
    return sha256(seed + pool_hash + canonical(result))
