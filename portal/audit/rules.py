"""Pure hash-chain rules for the audit log."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable

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


def record_hash(seq: int, at: str, actor_label: str, action: str, object_type: str, object_id: str,
                before: Any, after: Any, prev_hash: str) -> str:
    body = canonical_json(
        {"seq": seq, "at": at, "actor": actor_label, "action": action, "type": object_type, "id": object_id,
         "before": before, "after": after, "prev": prev_hash}
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass
class ChainProblem:
    seq: int | None
    message: str


def verify_chain(records: Iterable[dict], head_seq: int, head_hash: str) -> list[ChainProblem]:
    """Walk records in seq order; report edits (hash mismatch), gaps (deletions) and a truncated tail."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last_hash = GENESIS_HASH
    last_seq = 0
    for r in records:
        if r["seq"] != expected_seq:
            problems.append(ChainProblem(r["seq"], f"records {expected_seq}..{r['seq'] - 1} are missing (deleted)"))
        elif r["prev_hash"] != expected_prev:
            problems.append(ChainProblem(r["seq"], "does not link to the record before it"))
        computed = record_hash(r["seq"], r["at"], r["actor_label"], r["action"], r["object_type"], r["object_id"],
                               r["before"], r["after"], r["prev_hash"])
        if computed != r["hash"]:
            problems.append(ChainProblem(r["seq"], "content was changed after it was written (hash mismatch)"))
        expected_prev = r["hash"]
        expected_seq = r["seq"] + 1
        last_hash, last_seq = r["hash"], r["seq"]
    if head_seq != last_seq or head_hash != last_hash:
        problems.append(ChainProblem(None, f"the chain head says record {head_seq} is last, but the last record "
                                           f"found is {last_seq}: records were deleted from the end"))
    return problems


def diff(before: dict | None, after: dict | None) -> list[tuple[str, Any, Any]]:
    """Field-by-field differences for the history view."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
