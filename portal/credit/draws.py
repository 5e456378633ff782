"""双随机 draw use cases: build the quarter's pool from the registry, credit standings and lists, draw with a fresh
CSPRNG seed, seal and log it, verify by re-running, publish. Services flush; the caller commits."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role, User
from portal.credit import draw as D
from portal.credit import conflicts, rules
from portal.core.clock import china_today
from portal.credit.draw_models import Inspection, Inspector
from portal.credit.models import (CreditListEntry, CreditStanding, Evidence, EvidenceKind, InspectionDraw, ListKind,
                                  ListStatus)
from portal.db import utcnow
from portal.enterprises.models import Enterprise, KeyUnitYear
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db


def _config() -> dict:
    return current_app.config.get("CREDIT_DRAW_CONFIG") or D.DEFAULT_CONFIG


def _caps() -> dict:
    return current_app.config.get("CREDIT_ROUTINE_INSPECTION_CAPS") or D.DEFAULT_YEARLY_CAPS


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


def roster_for(prefix: str, first: date, last: date) -> list[Inspector]:
    """Inspectors of the roster inside the jurisdiction whose certificate is valid from `first` to `last`."""
    stmt = (sa.select(Inspector).where(Inspector.jurisdiction_code.startswith(prefix, autoescape=True),
                                       Inspector.certificate_valid_from <= first,
                                       Inspector.certificate_valid_until >= last)
            .order_by(Inspector.certificate_no))
    return list(db.session.scalars(stmt))


def routine_counts(enterprise_ids: list[int] | None, year: int) -> dict[int, int]:
    """Routine inspections per enterprise in the year that count against the cap."""
    stmt = (sa.select(Inspection.enterprise_id, sa.func.count()).where(Inspection.year == year,
                                                                       Inspection.counts_against_cap.is_(True))
            .group_by(Inspection.enterprise_id))
    if enterprise_ids is not None:
        stmt = stmt.where(Inspection.enterprise_id.in_(enterprise_ids))
    return dict(db.session.execute(stmt).all())


def build_pool(prefix: str, year: int, config: dict) -> tuple[list[D.PoolItem], list[str]]:
    """Every registered enterprise under the prefix with its class and credit weight, and the regulators of the
    jurisdiction as the inspector list (usernames). Superseded for draws by roster_pool (the roster, the cap)."""
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


def roster_pool(prefix: str, year: int, quarter: int, config: dict):
    """The quarter's pool without the enterprises at this year's routine-inspection cap, the roster inspectors
    (certificate numbers) with a certificate valid from the draw day to the quarter's end, and the territory
    (inspector jurisdictions, enterprise districts, the enterprises left out at the cap)."""
    pool, _accounts = build_pool(prefix, year, config)
    rows = db.session.execute(sa.select(Enterprise.id, Enterprise.uscc, Enterprise.region_code)
                              .where(Enterprise.region_code.startswith(prefix, autoescape=True))).all()
    counts, caps = routine_counts(None, year), _caps()
    at_cap = {uscc for ent_id, uscc, region in rows if counts.get(ent_id, 0) >= D.yearly_cap(region, caps)}
    today = china_today()
    roster = roster_for(prefix, today, max(today, quarter_bounds(year, quarter)[1]))
    territory = {"inspector_jurisdictions": {i.certificate_no: i.jurisdiction_code for i in roster},
                 "regions": {uscc: region for _id, uscc, region in rows if uscc not in at_cap},
                 "at_cap": sorted(at_cap)}
    return [p for p in pool if p.uscc not in at_cap], roster, territory


def _roster_conflicts(prefix: str, roster: list[Inspector], config: dict) -> list[tuple[str, str]]:
    """Declared and complaint conflicts (by portal account) of roster inspectors linked to an account."""
    by_username = {i.user.username: i.certificate_no for i in roster if i.user is not None}
    return [(by_username[name], uscc) for name, uscc in
            conflicts.pairs_for_pool(prefix, int(config.get("complaint_conflict_months", 12) or 0))
            if name in by_username]


def make_draw(actor: Any, prefix: str, year: int, quarter: int, seed: str | None = None) -> InspectionDraw:
    """Draw once per jurisdiction and quarter; the seed is fresh from the CSPRNG unless given (tests, re-runs).
    Targets come from the pool without the enterprises at the yearly cap; inspectors from the roster, each only
    for enterprises inside its authority's jurisdiction. Every target becomes a routine inspection with its code."""
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
    pool, roster, territory = roster_pool(prefix, year, quarter, config)
    inspectors = [i.certificate_no for i in roster]
    if len(inspectors) < int(config.get("inspectors_per_target", 2)):
        raise ValidationFailed({"quarter": _("At least two inspectors of the jurisdiction's roster with a "
                                             "certificate valid until the end of the quarter are needed.")})
    seed = seed or secrets.token_hex(32)
    pairs = _roster_conflicts(prefix, roster, config)
    in_pool = {p.uscc for p in pool}
    uncovered = [uscc for uscc, _name in coverage(prefix, year, quarter).uncovered if uscc in in_pool]
    snap = D.pool_snapshot(pool, inspectors, pairs, uncovered, quarter, territory)
    pool_hash = D.sha256(D.canonical(snap))
    result = D.draw(seed, snap, config)
    entry = InspectionDraw(jurisdiction_prefix=prefix, year=year, quarter=quarter, seed=seed, config=config,
                           pool=snap, pool_hash=pool_hash, result=result, seal=D.seal(seed, pool_hash, result),
                           drawn_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    from portal.credit.draw_inspections import create_routine_inspections

    create_routine_inspections(entry, roster)
    record(actor, "credit_draw.draw", entry, after={"seed": seed, "pool_hash": pool_hash, "seal": entry.seal,
                                                    "targets": len(result), "conflicts": len(pairs),
                                                    "uncovered_key_units": len(uncovered),
                                                    "forced": sum(1 for r in result if r.get("forced")),
                                                    "at_cap": len(territory["at_cap"])})
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


def jurisdiction_names(prefixes: list[str]) -> dict[str, str]:
    """Region names for jurisdiction prefixes ("3208" → 淮安市), for pages that should not show raw codes."""
    from portal.reference.models import Region

    wanted = {p: (p + "0000")[:6] for p in prefixes if p}
    names = dict(db.session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(set(wanted.values())))
                                    ).all())
    return {p: names.get(code, p) for p, code in wanted.items()}


def display_names(entry: InspectionDraw) -> tuple[dict[str, str], dict[str, str]]:
    """Names for a draw's result: enterprises by credit code, inspectors by certificate number (the roster) or,
    in draws made before the roster, by the account's display name; never a login name."""
    usccs = [row["uscc"] for row in entry.result]
    keys = sorted({k for row in entry.result for k in row["inspectors"]})
    enterprises = dict(db.session.execute(sa.select(Enterprise.uscc, Enterprise.name)
                                          .where(Enterprise.uscc.in_(usccs))).all())
    inspectors = dict(db.session.execute(sa.select(Inspector.certificate_no, Inspector.name)
                                         .where(Inspector.certificate_no.in_(keys))).all())
    missing = [k for k in keys if k not in inspectors]
    if missing:
        accounts = dict(db.session.execute(sa.select(User.username, User.display_name)
                                           .where(User.username.in_(missing))).all())
        inspectors.update({k: accounts.get(k) or _("inspector %(n)s", n=i + 1) for i, k in enumerate(missing)})
    return enterprises, inspectors


def inspection_codes(entry: InspectionDraw) -> dict[str, str]:
    """The 行政行为码 of each drawn target (for the regulator's page; given to the enterprise at the visit)."""
    rows = db.session.execute(sa.select(Enterprise.uscc, Inspection.code)
                              .join(Inspection, Inspection.enterprise_id == Enterprise.id)
                              .where(Inspection.draw_id == entry.id)).all()
    return dict(rows)
