"""双随机 draw use cases: build the quarter's pool from the registry, credit standings and lists, draw with a fresh
CSPRNG seed, seal and log it, verify by re-running, publish. Services flush; the caller commits."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role, User
from portal.credit import draw as D
from portal.credit import conflicts, rules
from portal.credit.models import (CreditListEntry, CreditStanding, Evidence, EvidenceKind, InspectionDraw, ListKind,
                                  ListStatus)
from portal.db import utcnow
from portal.enterprises.models import Enterprise, KeyUnitYear
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db


def _config() -> dict:
    return current_app.config.get("CREDIT_DRAW_CONFIG") or D.DEFAULT_CONFIG


def build_pool(prefix: str, year: int, config: dict) -> tuple[list[D.PoolItem], list[str]]:
    """Every registered enterprise under the prefix with its class and credit weight, and the regulators of the
    jurisdiction as the inspector list (usernames)."""
    listed = {(e, k) for e, k in db.session.execute(
        sa.select(CreditListEntry.enterprise_id, CreditListEntry.kind)
        .where(CreditListEntry.status == ListStatus.LISTED))}
    keys = set(db.session.scalars(sa.select(KeyUnitYear.enterprise_id).where(KeyUnitYear.year == year)))
    rows = db.session.execute(
        sa.select(Enterprise.id, Enterprise.uscc, CreditStanding.grade, CreditStanding.is_vetoed)
        .outerjoin(CreditStanding, CreditStanding.enterprise_id == Enterprise.id)
        .where(Enterprise.region_code.startswith(prefix, autoescape=True)))
    pool = [D.PoolItem(uscc, D.classify(grade, bool(vetoed), (ent_id, ListKind.BLACK) in listed, ent_id in keys),
                       D.weight(grade, (ent_id, ListKind.WHITE) in listed, config))
            for ent_id, uscc, grade, vetoed in rows]
    inspectors = list(db.session.scalars(
        sa.select(User.username).where(User.role.in_((Role.REGULATOR, Role.REGULATOR_LEAD)),
                                       User.jurisdiction_code.startswith(prefix, autoescape=True),
                                       User.is_active_account.is_(True))))
    return pool, inspectors


@dataclass
class Coverage:
    """Key units of the year under a prefix and which were inspected (drawn in an earlier quarter, or an
    inspection recorded as evidence this year)."""

    year: int
    before_quarter: int
    units: list[tuple[str, str]]  # (credit code, name)
    covered: set[str]

    @property
    def uncovered(self) -> list[tuple[str, str]]:
        return [u for u in self.units if u[0] not in self.covered]


def coverage(prefix: str, year: int, before_quarter: int = 5) -> Coverage:
    units = [(uscc, name) for uscc, name in db.session.execute(
        sa.select(Enterprise.uscc, Enterprise.name).join(KeyUnitYear, KeyUnitYear.enterprise_id == Enterprise.id)
        .where(KeyUnitYear.year == year, Enterprise.region_code.startswith(prefix, autoescape=True))
        .distinct().order_by(Enterprise.uscc))]
    covered: set[str] = set()
    for result in db.session.scalars(sa.select(InspectionDraw.result).where(InspectionDraw.year == year,
                                                                           InspectionDraw.quarter < before_quarter)):
        covered |= {row["uscc"] for row in result}
    inspected = (sa.select(Enterprise.uscc).join(Evidence, Evidence.enterprise_id == Enterprise.id)
                 .where(Evidence.kind == EvidenceKind.INSPECTION_FINDING,
                        Evidence.occurred_on >= date(year, 1, 1), Evidence.occurred_on <= date(year, 12, 31),
                        Evidence.withdrawn_at.is_(None), Enterprise.region_code.startswith(prefix, autoescape=True)))
    covered |= set(db.session.scalars(inspected))
    keys = {u[0] for u in units}
    return Coverage(year, before_quarter, units, covered & keys)


def make_draw(actor: Any, prefix: str, year: int, quarter: int, seed: str | None = None) -> InspectionDraw:
    """Draw once per jurisdiction and quarter; the seed is fresh from the CSPRNG unless given (tests, re-runs)."""
    if actor is not None and not isinstance(actor, str) and not rules.can_manage_run(
            actor.role, actor.jurisdiction_code, prefix):
        raise NotAllowed(_("This jurisdiction is outside yours."))
    if quarter not in (1, 2, 3, 4):
        raise ValidationFailed({"quarter": _("Choose a quarter from 1 to 4.")})
    if db.session.scalar(sa.select(InspectionDraw.id).where(InspectionDraw.jurisdiction_prefix == prefix,
                                                           InspectionDraw.year == year,
                                                           InspectionDraw.quarter == quarter)):
        raise Conflict(_("This quarter has already been drawn; its result is sealed."))
    config = _config()
    pool, inspectors = build_pool(prefix, year, config)
    if len(inspectors) < int(config.get("inspectors_per_target", 2)):
        raise ValidationFailed({"quarter": _("At least two inspectors of the jurisdiction are needed.")})
    seed = seed or secrets.token_hex(32)
    names = set(inspectors)
    pairs = [p for p in conflicts.pairs_for_pool(prefix, int(config.get("complaint_conflict_months", 12) or 0))
             if p[0] in names]
    in_pool = {p.uscc for p in pool}
    uncovered = [uscc for uscc, _name in coverage(prefix, year, quarter).uncovered if uscc in in_pool]
    snap = D.pool_snapshot(pool, inspectors, pairs, uncovered, quarter)
    pool_hash = D.sha256(D.canonical(snap))
    result = D.draw(seed, snap, config)
    entry = InspectionDraw(jurisdiction_prefix=prefix, year=year, quarter=quarter, seed=seed, config=config,
                           pool=snap, pool_hash=pool_hash, result=result, seal=D.seal(seed, pool_hash, result),
                           drawn_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    record(actor, "credit_draw.draw", entry, after={"seed": seed, "pool_hash": pool_hash, "seal": entry.seal,
                                                    "targets": len(result), "conflicts": len(pairs),
                                                    "uncovered_key_units": len(uncovered),
                                                    "forced": sum(1 for r in result if r.get("forced"))})
    return entry


def verify(entry: InspectionDraw) -> bool:
    """Re-run the draw from its seed and pool snapshot: the same result and the same seal."""
    pool_hash = D.sha256(D.canonical(entry.pool))
    result = D.draw(entry.seed, entry.pool, entry.config)
    return pool_hash == entry.pool_hash and result == entry.result and D.seal(entry.seed, pool_hash,
                                                                              result) == entry.seal


def publish(actor: Any, entry: InspectionDraw) -> InspectionDraw:
    if actor.role != Role.REGULATOR_LEAD or not rules.can_manage_run(actor.role, actor.jurisdiction_code,
                                                                     entry.jurisdiction_prefix):
        raise NotAllowed(_("Only a lead of this jurisdiction publishes a draw."))
    if entry.published_at is None:
        before = snapshot(entry, exclude=("created_at", "updated_at", "pool", "result", "config"))
        entry.published_at = utcnow()
        record(actor, "credit_draw.publish", entry, before=before, after={"published_at": entry.published_at})
    return entry


def draws_for(jurisdiction: str) -> list[InspectionDraw]:
    stmt = (sa.select(InspectionDraw).where(InspectionDraw.jurisdiction_prefix.startswith(jurisdiction,
                                                                                          autoescape=True))
            .order_by(InspectionDraw.year.desc(), InspectionDraw.quarter.desc()))
    return list(db.session.scalars(stmt))
