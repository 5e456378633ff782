"""The home page's registry totals and the reference lists the search form and the API offer (regions,
industries)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from portal.enterprises.models import Enterprise, Outlet, Permit
from portal.extensions import db
from portal.reference.models import Industry, Region


@dataclass(frozen=True)
class RegionName:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class HomeStats:
    enterprises: int
    permits: int
    outlets: int
    regions_covered: int
    popular_regions: list[tuple[RegionName, int]]


_home_cache: dict[str, tuple[float, HomeStats]] = {}


def cached_home_stats() -> HomeStats:
    """home_stats() kept for HOME_STATS_TTL seconds per process (default 60; 0 when testing): on a million rows the
    GROUP BY takes 50–250 ms, and the totals need not be fresher than a minute."""
    ttl = current_app.config["HOME_STATS_TTL"]
    key = str(db.engine.url)
    now = time.monotonic()
    hit = _home_cache.get(key)
    if ttl and hit and now - hit[0] < ttl:
        return hit[1]
    stats = home_stats()
    if ttl:
        _home_cache[key] = (now, stats)
    return stats


def home_stats(popular: int = 8) -> HomeStats:
    """Registry totals and the prefectures with the most enterprises (one GROUP BY over the region index)."""
    by_county = db.session.execute(
        sa.select(Enterprise.region_code, sa.func.count()).group_by(Enterprise.region_code)).all()
    by_city: dict[str, int] = {}
    for code, n in by_county:
        by_city[code[:4] + "00"] = by_city.get(code[:4] + "00", 0) + n
    top = sorted(by_city.items(), key=lambda kv: (-kv[1], kv[0]))[:popular]
    regions = {r.code: r for r in db.session.scalars(sa.select(Region).where(Region.code.in_([c for c, _n in top])))}
    return HomeStats(
        enterprises=sum(n for _code, n in by_county),
        permits=db.session.scalar(sa.select(sa.func.count()).select_from(Permit)) or 0,
        outlets=db.session.scalar(sa.select(sa.func.count()).select_from(Outlet)) or 0,
        regions_covered=len(by_county),
        popular_regions=[(RegionName(c, regions[c].name, regions[c].name_en), n) for c, n in top if c in regions],
    )


REGION_SELECT_LIMIT = 500


def list_regions(level: int | None = None) -> list[Region]:
    stmt = sa.select(Region).order_by(Region.code)
    if level is not None:
        stmt = stmt.where(Region.level == level)
    return list(db.session.scalars(stmt))


def regions_for_select() -> list[Region]:
    """Every seeded region, or only provinces and prefectures when there are too many for one select."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Region)) or 0
    stmt = sa.select(Region).order_by(Region.code)
    if total > REGION_SELECT_LIMIT:
        stmt = stmt.where(Region.level <= 2)
    return list(db.session.scalars(stmt))


def list_industries() -> list[Industry]:
    return list(db.session.scalars(sa.select(Industry).order_by(Industry.level, Industry.code)))


INDUSTRY_SELECT_LIMIT = 300


def industries_for_select() -> list[Industry]:
    """The industry filter's choices: every numbered entry while the table is small, only the 97 GB/T 4754
    divisions once the full standard is loaded (1,970 entries; the filter matches a division's classes by prefix,
    and a class code can still be typed into the URL or the API)."""
    numbered = sa.select(Industry).where(Industry.level >= 2).order_by(Industry.code)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(numbered.subquery())) or 0
    if total > INDUSTRY_SELECT_LIMIT:
        numbered = numbered.where(Industry.level == 2)
    return list(db.session.scalars(numbered))
