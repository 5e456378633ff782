"""Frames refused from MNs that name no registered device: aggregated, bounded, shown to the people who register.

Every refused frame whose MN is not a registered device (unknown MN, a frame too broken to read an MN from, a CN 1001
request for a platform-assigned MN) adds to one row per (MN, source address, reason): first and last seen, count,
the latest detail. Never one row per frame: a flood from one address costs one row. The number of rows is capped
(HJ212_UNKNOWN_SENDERS_MAX); once full, new (MN, address) pairs are counted in one overflow row per reason (MN and
address `*`), so an attacker varying MNs or addresses cannot fill the database either. Existing rows keep counting.

The network never learns any of this: unknown device and wrong password both hear `unauthorised` (intake.py).
Who sees the list: administrators and province-level (or national) regulators, as an unregistered MN belongs to no
region yet (`may_view`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from portal.auth.models import Role
from portal.extensions import db
from portal.monitoring.models import UnknownSender

OVERFLOW = "*"
DEFAULT_MAX = 2000
PAGE_SIZE = 200
MN_REQUEST = "mn_request"  # CN 1001 from an unregistered logger (HJ 212-2025 platform-assigned MN)


def may_view(user) -> bool:
    """Administrators, and regulators whose jurisdiction is a whole province (2 digits) or the nation (none)."""
    role = getattr(user, "role", None)
    if role == Role.ADMIN:
        return True
    return bool(role is not None and role.is_regulator and len(user.jurisdiction_code or "") <= 2)


def cap() -> int:
    return int(current_app.config.get("HJ212_UNKNOWN_SENDERS_MAX", DEFAULT_MAX))


def _insert():
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(
        UnknownSender.__table__)


def record(entries: list[dict[str, Any]], now: datetime) -> None:
    """Add refused frames (dicts with mn, address, reason, channel, detail) to their aggregate rows (flushes)."""
    if not entries:
        return
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in entries:
        key = ((entry.get("mn") or "")[:24], (entry.get("address") or "")[:64], entry["reason"][:32])
        row = merged.get(key)
        if row is None:
            merged[key] = {"mn": key[0], "address": key[1], "reason": key[2], "channel": entry.get("channel", "tcp"),
                           "first_seen": now, "last_seen": now, "count": 1,
                           "detail": (entry.get("detail") or "")[:300]}
        else:
            row["count"] += 1
            row["detail"] = (entry.get("detail") or "")[:300] or row["detail"]
    table = UnknownSender.__table__
    held = {tuple(r) for r in db.session.execute(
        sa.select(table.c.mn, table.c.address, table.c.reason).where(table.c.mn.in_({k[0] for k in merged})))}
    new = [k for k in merged if k not in held]
    room = max(0, cap() - (db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)) if new else 0
    for key in sorted(new)[room:]:  # no room: counted in the reason's overflow row
        row = merged.pop(key)
        overflow = (OVERFLOW, OVERFLOW, key[2])
        if overflow in merged:
            merged[overflow]["count"] += row["count"]
        else:
            merged[overflow] = {**row, "mn": OVERFLOW, "address": OVERFLOW, "detail": ""}
    stmt = _insert()
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.mn, table.c.address, table.c.reason],
        set_={"count": table.c.count + stmt.excluded.count, "last_seen": stmt.excluded.last_seen,
              "channel": stmt.excluded.channel, "detail": stmt.excluded.detail})
    # one key order for every writer, so two listener workers never wait on each other's rows in a cycle
    db.session.execute(stmt, [merged[k] for k in sorted(merged)])


def latest(limit: int = PAGE_SIZE) -> list[UnknownSender]:
    return list(db.session.scalars(sa.select(UnknownSender).order_by(UnknownSender.last_seen.desc(),
                                                                     UnknownSender.id.desc()).limit(limit)))


def total() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(UnknownSender)) or 0
