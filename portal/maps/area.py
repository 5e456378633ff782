"""Search by area over the enterprise registry: `bbox` (a longitude/latitude box) and `near` (a radius around a point),
paged by keyset cursors like the list.

Index (migration 0011_geo): a composite b-tree on enterprises (longitude, latitude, id) on both databases. A box is a
longitude range scan whose latitude test runs inside the same index entries, so neither database reads a table row
that is outside the box; a cell/geohash column would need a second column kept in step with every write and a set
of cell ranges per box, for no gain at the sizes of a province's registry. `near` uses the box around the circle as
the indexed prefilter, then the exact haversine test in SQL (no asin: the haversine term `a` is compared with the
radius' own term, and ordering by `a` is ordering by distance, nearest first). With more than TOTAL_CAP matches
the page is found by walking the primary key instead (see search_area), as the list does.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.enterprises.models import Enterprise
from portal.errors import DomainError
from portal.extensions import db
from portal.maps.rules import EARTH_RADIUS_KM, BBox, Near, haversine_km
from portal.search import facets as facet_rules
from portal.search import pgcount

TOTAL_CAP = 5000  # counted exactly up to this many matches, "5,000+" above (as the list)


@dataclass
class AreaResult:
    items: list[Enterprise]
    mode: str  # bbox / near
    sort: str  # id (registry order) / distance (nearest first)
    total: int
    total_is_capped: bool
    next_cursor: str | None = None
    prev_cursor: str | None = None
    distances: dict[int, float] = field(default_factory=dict)  # near: enterprise id -> km
    grades: dict[int, str] = field(default_factory=dict)


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def box_condition(box: BBox) -> sa.ColumnElement[bool]:
    return sa.and_(Enterprise.longitude >= _dec(box.min_lon), Enterprise.longitude <= _dec(box.max_lon),
                   Enterprise.latitude >= _dec(box.min_lat), Enterprise.latitude <= _dec(box.max_lat))


def haversine_term(near: Near) -> sa.ColumnElement[float]:
    """a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2), in SQL (both databases have these functions)."""
    phi = sa.func.radians(sa.cast(Enterprise.latitude, sa.Float))
    lam = sa.func.radians(sa.cast(Enterprise.longitude, sa.Float))
    p0, l0 = math.radians(near.lat), math.radians(near.lon)
    return (sa.func.power(sa.func.sin((phi - p0) / 2.0), 2)
            + math.cos(p0) * sa.func.cos(phi) * sa.func.power(sa.func.sin((lam - l0) / 2.0), 2))


def radius_term(radius_km: float) -> float:
    return math.sin(radius_km / EARTH_RADIUS_KM / 2) ** 2


def _encode(mode: str, sort: str, forward: bool, key: list[Any]) -> str:
    raw = json.dumps({"m": mode, "s": sort, "f": forward, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, mode: str, sort: str) -> tuple[bool, list[Any]]:
    bad = DomainError(_("this page link is not valid any more; start again from the first page."), field="cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if (not isinstance(data, dict) or data.get("m") != mode or data.get("s") != sort
            or not isinstance(data.get("f"), bool)):
        raise bad
    key = data.get("k")
    size = 2 if sort == "distance" else 1
    if (not isinstance(key, list) or len(key) != size or not isinstance(key[-1], int) or isinstance(key[-1], bool)
            or (size == 2 and (isinstance(key[0], bool) or not isinstance(key[0], (int, float))))):
        raise bad
    return data["f"], key


def _walk_condition(box: BBox) -> sa.ColumnElement[bool]:
    """The box on float casts of the columns: no index can serve it, so the database walks the primary key (used
    when more than TOTAL_CAP rows match, where a few thousand rows in id order hold a page)."""
    lon, lat = sa.cast(Enterprise.longitude, sa.Float), sa.cast(Enterprise.latitude, sa.Float)
    return sa.and_(lon >= box.min_lon, lon <= box.max_lon, lat >= box.min_lat, lat <= box.max_lat)


def search_area(area: BBox | Near, per_page: int, cursor: str = "") -> AreaResult:
    """One page of an area search. Up to TOTAL_CAP matches are read through the (longitude, latitude) index and
    sorted (registry order for a box, nearest first for a circle). Above that, sorting every match would cost
    hundreds of milliseconds on a million rows, so matches come in registry order by a walk of the primary key
    (meta.sort = id), as the list does with more than 5,000 matches."""
    mode = "near" if isinstance(area, Near) else "bbox"
    box = area.bbox() if isinstance(area, Near) else area
    term = haversine_term(area) if isinstance(area, Near) else None
    circle = [term <= radius_term(area.radius_km)] if isinstance(area, Near) else []
    inner = sa.select(Enterprise.id).where(box_condition(box), *circle).limit(TOTAL_CAP + 1).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0
    capped = n > TOTAL_CAP
    sort = "distance" if term is not None and not capped else "id"
    keys: list[sa.ColumnElement[Any]] = [term, Enterprise.id] if sort == "distance" else [Enterprise.id]
    forward, key = _decode(cursor, mode, sort) if cursor else (True, None)
    # Keys first (an index-only scan of (longitude, latitude, id) when not capped), then the page's rows by id.
    stmt = sa.select(*keys).where(_walk_condition(box) if capped else box_condition(box), *circle)
    if key is not None:
        # Not capped: `id + 0`, so that SQLite keeps to the (longitude, latitude, id) index instead of scanning the
        # rest of the table from the cursor's rowid (800 ms for the second page of a small box at 1M rows).
        id_key = Enterprise.id if capped else Enterprise.id + 0
        left, right = (sa.tuple_(keys[0], id_key), sa.tuple_(*[sa.literal(v) for v in key])) if len(keys) == 2 else (
            id_key, key[0])
        stmt = stmt.where(left > right if forward else left < right)
    stmt = stmt.order_by(*(keys if forward else [k.desc() for k in keys])).limit(per_page + 1)
    found = [list(row) for row in _execute(stmt, walk=capped)]
    loaded = {e.id: e for e in db.session.scalars(sa.select(Enterprise).where(
        Enterprise.id.in_([k[-1] for k in found])))} if found else {}
    rows = [(loaded[k[-1]], k) for k in found if k[-1] in loaded]
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forward:
        rows.reverse()
    result = AreaResult(items=[e for e, _k in rows], mode=mode, sort=sort, total=min(n, TOTAL_CAP),
                        total_is_capped=capped)
    if rows:
        if (more if forward else True):
            result.next_cursor = _encode(mode, sort, True, rows[-1][1])
        if ((cursor != "") if forward else more):
            result.prev_cursor = _encode(mode, sort, False, rows[0][1])
    if isinstance(area, Near):
        result.distances = {e.id: round(haversine_km(area.lat, area.lon, float(e.latitude), float(e.longitude)), 3)
                            for e in result.items}
    result.grades = facet_rules.grades_for([e.id for e in result.items])
    return result


def _execute(stmt: sa.Select, walk: bool) -> list:
    if db.engine.dialect.name != "postgresql":
        return list(db.session.execute(stmt))
    # The planner cannot estimate the float casts of a walk nor the haversine term, so it over-prices these small
    # reads and JIT-compiles them or starts parallel workers (100+ ms of set-up for under 1 ms of work, measured at
    # 1M rows). A walk must also take the primary key: the planner cannot know that a page is found after a short
    # walk (see the search's _walk_primary_key). SET LOCAL lasts to the end of the transaction, so the settings are
    # put back right after the query.
    settings = {"jit": "off", "max_parallel_workers_per_gather": "0"}
    if walk:
        settings.update({"enable_bitmapscan": "off", "enable_seqscan": "off", "enable_sort": "off"})
    previous = pgcount.set_locals(settings)
    try:
        return list(db.session.execute(stmt))
    finally:
        pgcount.set_locals(previous)
