"""Pure rules of the audit log: canonical JSON, keyed record hashes (HMAC-SHA256), chain walking and seals.

Every record belongs to one of several independent chains (a shard key, see services.chain_for); each record's MAC
covers every column (chain, sequence, time, actor id and label, action, object, enterprise, content before and
after, the previous record's MAC and the key id) under a key kept outside the database (AUDIT_KEY). A daily seal
publishes every chain's head at once; seals are linked by plain SHA-256 so anyone who saved one can check later
ones extend it (Certificate Transparency style).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable, Mapping

GENESIS_HASH = "0" * 64


def jsonable(value: Any) -> Any:
    """Turn model values into canonical JSON-ready values (dates ISO, decimals as strings, enums by value)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ---- keys -------------------------------------------------------------------------------------------------------

def key_id(secret: str) -> str:
    """A short public name for a key (never the key): lets `audit verify` say which key a record needs."""
    return hashlib.sha256(b"portal-audit-key-id:" + secret.encode("utf-8")).hexdigest()[:12]


def parse_keys(setting: str | Iterable[str] | None) -> dict[str, str]:
    """AUDIT_KEY: one secret or several, comma-separated; the first signs new records, all verify (rotation).
    Returns {key_id: secret} in order."""
    if not setting:
        return {}
    items = setting.split(",") if isinstance(setting, str) else list(setting)
    return {key_id(s.strip()): s.strip() for s in items if s.strip()}


def mac(secret: str, payload: Any) -> str:
    return hmac.new(secret.encode("utf-8"), canonical_json(payload).encode("utf-8"), hashlib.sha256).hexdigest()


# ---- records ----------------------------------------------------------------------------------------------------

RECORD_FIELDS = ("chain", "seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id",
                 "enterprise_id", "before", "after", "prev_hash", "key_id")


def record_payload(r: Mapping[str, Any]) -> dict:
    """Every column of a record except its own hash (and the surrogate id), in canonical form."""
    return {f: jsonable(r[f]) for f in RECORD_FIELDS}


def record_hash(secret: str, r: Mapping[str, Any]) -> str:
    return mac(secret, record_payload(r))


@dataclass
class ChainProblem:
    chain: str | None
    seq: int | None
    message: str

    @property
    def where(self) -> str:
        if self.chain is None:
            return "published heads"
        return f"chain {self.chain} record {self.seq}" if self.seq is not None else f"chain {self.chain}"


def verify_chain(chain: str, records: Iterable[Mapping[str, Any]], keys: Mapping[str, str],
                 head: tuple[int, str] | None) -> tuple[list[ChainProblem], dict[int, str]]:
    """Walk one chain's records in seq order: unknown keys, wrong MACs (any column changed), broken links, gaps
    (deletions) and a head that does not match the last record (deleted from the end).

    Returns the problems and {seq: hash} of the records (only those a seal names are kept by the caller)."""
    problems: list[ChainProblem] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    last_seq, last_hash = 0, GENESIS_HASH
    hashes: dict[int, str] = {}
    for r in records:
        seq = r["seq"]
        if seq != expected_seq:
            problems.append(ChainProblem(chain, seq, f"records {expected_seq}..{seq - 1} are missing (deleted)"))
        elif r["prev_hash"] != expected_prev:
            problems.append(ChainProblem(chain, seq, "does not link to the record before it"))
        secret = keys.get(r["key_id"] or "")
        if secret is None:
            problems.append(ChainProblem(chain, seq, f"signed with key {r['key_id']!r}, which is not configured "
                                                     "(AUDIT_KEY)"))
        elif not hmac.compare_digest(record_hash(secret, r), r["hash"]):
            problems.append(ChainProblem(chain, seq, "a column was changed after it was written (MAC mismatch)"))
        hashes[seq] = r["hash"]
        expected_prev, expected_seq = r["hash"], seq + 1
        last_seq, last_hash = seq, r["hash"]
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    if (head_seq, head_hash) != (last_seq, last_hash):
        problems.append(ChainProblem(chain, None, f"the chain head says record {head_seq} is last, but the last "
                                                  f"record found is {last_seq}: records were deleted from the end"))
    return problems, hashes


# ---- seals (published heads) ------------------------------------------------------------------------------------

def seal_payload(day: date | str, heads: Mapping[str, Any], prev_digest: str) -> dict:
    return {"day": jsonable(day), "heads": {c: list(v) for c, v in sorted(heads.items())}, "prev": prev_digest}


def seal_digest(day: date | str, heads: Mapping[str, Any], prev_digest: str) -> str:
    """Public SHA-256 of a seal: anyone can recompute it from the published page and check the links."""
    return hashlib.sha256(canonical_json(seal_payload(day, heads, prev_digest)).encode("utf-8")).hexdigest()


def verify_seals(seals: Iterable[Mapping[str, Any]], keys: Mapping[str, str],
                 record_hash_at) -> list[ChainProblem]:
    """Each seal: digest recomputes, links to the seal before, MAC under a configured key, and every head it
    published is still the hash of that record (`record_hash_at(chain, seq)` -> hash or None)."""
    problems: list[ChainProblem] = []
    prev = GENESIS_HASH
    for s in seals:
        day = jsonable(s["day"])
        if s["prev_digest"] != prev:
            problems.append(ChainProblem(None, None, f"the seal of {day} does not link to the seal before it"))
        if seal_digest(day, s["heads"], s["prev_digest"]) != s["digest"]:
            problems.append(ChainProblem(None, None, f"the seal of {day} was changed after it was published"))
        secret = keys.get(s["key_id"] or "")
        if secret is None:
            problems.append(ChainProblem(None, None, f"the seal of {day} is signed with key {s['key_id']!r}, which "
                                                     "is not configured"))
        elif not hmac.compare_digest(mac(secret, seal_payload(day, s["heads"], s["prev_digest"])), s["mac"]):
            problems.append(ChainProblem(None, None, f"the seal of {day} has a wrong MAC"))
        for chain, (seq, h) in sorted(s["heads"].items()):
            now = record_hash_at(chain, seq)
            if now != h:
                what = "is missing" if now is None else "was rewritten"
                problems.append(ChainProblem(chain, seq, f"published on {day} as the head of the chain, the record "
                                                         f"{what} since"))
        prev = s["digest"]
    return problems


def diff(before: dict | None, after: dict | None) -> list[tuple[str, Any, Any]]:
    """Field-by-field differences for the history view."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
