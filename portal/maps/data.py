"""What the maps show. Public layer: enterprises of a province coloured by their current standing (credit.standing,
the one answer every page gives), their open exceedance incidents, and complaint density (complaint locations
counted in cells of 0.01 degree: no case, text or identity leaves the server). Regulator layer: the open cases of
the user's own jurisdiction (the console queue's own filter), at full precision, with links to the case pages."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.complaints.models import Complaint, Status
from portal.core.links import public_url
from portal.credit.standing import current_standings
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.maps import boundaries
from portal.maps.rules import DENSITY_DECIMALS, reduced
from portal.monitoring.models import ExceedanceIncident, IncidentState
from portal.reference.models import Region

MAX_POINTS = 3000  # enterprises drawn per province (the list API's bbox search pages through all of them)
DENSITY_DAYS = 365
NOT_EVALUATED_COLOUR = "#757575"


def english() -> bool:
    return str(get_locale() or "zh_CN").startswith("en")


def region_name(region: Region | None) -> str:
    if region is None:
        return ""
    return region.name_en if english() and region.name_en else region.name


@dataclass
class Province:
    code: str  # 2 digits
    name: str


def map_provinces() -> list[Province]:
    """Vendored provinces that the registry knows, in code order."""
    codes = boundaries.provinces()
    regions = {r.code: r for r in db.session.scalars(sa.select(Region).where(
        Region.code.in_([c + "0000" for c in codes])))}
    return [Province(c, region_name(regions[c + "0000"])) for c in codes if c + "0000" in regions]


def choose_province(raw: str | None, fallback: str) -> Province | None:
    provinces = map_provinces()
    by_code = {p.code: p for p in provinces}
    return by_code.get((raw or "")[:2]) or by_code.get(fallback[:2]) or (provinces[0] if provinces else None)


def _in_province(column, province: str):
    return sa.and_(column >= province, column < province[:-1] + chr(ord(province[-1]) + 1))


def enterprise_points(province: str, limit: int = MAX_POINTS) -> tuple[list[dict], int]:
    """Enterprises with coordinates in the province (registry order, at most `limit`) and how many there are."""
    where = [_in_province(Enterprise.region_code, province), Enterprise.latitude.is_not(None),
             Enterprise.longitude.is_not(None)]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise).where(*where)) or 0
    rows = db.session.execute(sa.select(Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.latitude,
                                        Enterprise.longitude, Enterprise.region_code)
                              .where(*where).order_by(Enterprise.id).limit(limit)).all()
    ids = [r.id for r in rows]
    standings = current_standings(ids)
    incidents: Counter[int] = Counter()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        incidents.update(dict(db.session.execute(
            sa.select(ExceedanceIncident.enterprise_id, sa.func.count())
            .where(ExceedanceIncident.enterprise_id.in_(chunk), ExceedanceIncident.state == IncidentState.OPEN)
            .group_by(ExceedanceIncident.enterprise_id)).all()))
    en = english()
    template = public_url("enterprises.public", uscc="0" * 18)
    points = []
    for r in rows:
        grade = standings[r.id].grade_json(en) if r.id in standings else None
        points.append({"name": r.name, "lat": float(r.latitude), "lon": float(r.longitude),
                       "url": template.replace("0" * 18, r.uscc),
                       "grade": grade["code"] if grade else None,
                       "grade_label": grade["label"] if grade else _("Not evaluated"),
                       "colour": grade["colour"] if grade else NOT_EVALUATED_COLOUR,
                       "open_incidents": incidents.get(r.id, 0)})
    return points, total


def legend(points: list[dict]) -> list[dict]:
    """The standings present on the map, best first as the scheme lists them, then "not evaluated"."""
    seen: dict[str, dict] = {}
    for p in points:
        key = p["grade"] or ""
        if key not in seen:
            seen[key] = {"code": key, "label": p["grade_label"], "colour": p["colour"], "count": 0}
        seen[key]["count"] += 1
    order = ["green", "blue", "yellow", "red", "black", ""]
    return sorted(seen.values(), key=lambda g: (order.index(g["code"]) if g["code"] in order else 5, g["code"]))


def complaint_density(province: str, days: int = DENSITY_DAYS) -> list[list[float]]:
    """[[lon, lat, count], ...] per cell of 0.01 degree (about 1 km): complaints received in the last `days` days
    with a location, merged duplicates left out. Only rounded cells and counts: no case, text or identity."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(sa.select(Complaint.latitude, Complaint.longitude).where(
        _in_province(Complaint.region_code, province), Complaint.latitude.is_not(None),
        Complaint.longitude.is_not(None), Complaint.status != Status.MERGED, Complaint.received_at >= since)
        .limit(50000))
    cells = Counter((reduced(lon, DENSITY_DECIMALS), reduced(lat, DENSITY_DECIMALS)) for lat, lon in rows)
    return [[lon, lat, n] for (lon, lat), n in sorted(cells.items())]


def complaints_by_county(province: str, days: int = DENSITY_DAYS) -> list[tuple[str, int]]:
    """The list fallback of the density layer: complaints per county, most first."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(sa.select(Complaint.region_code, sa.func.count()).where(
        _in_province(Complaint.region_code, province), Complaint.status != Status.MERGED,
        Complaint.received_at >= since).group_by(Complaint.region_code)).all()
    regions = {r.code: r for r in db.session.scalars(sa.select(Region).where(Region.code.in_([c for c, _n in rows])))}
    return sorted(((region_name(regions.get(code)) or code, n) for code, n in rows), key=lambda x: (-x[1], x[0]))


def public_layer(province: str) -> dict:
    points, total = enterprise_points(province)
    return {"province": province, "enterprises": points, "total": total, "truncated": total > len(points),
            "legend": legend(points), "density": complaint_density(province)}


def regulator_cases(user, status_labels: dict[str, str], category_labels: dict[str, str]) -> list[dict]:
    """Open cases of the user's jurisdiction that have a location (the console queue, so the same check)."""
    from portal.complaints import services

    out = []
    for c in services.queue(user, limit=500):
        if c.latitude is None or c.longitude is None or not services.can_view(user, c):
            continue
        out.append({"case_no": c.case_no, "lat": c.latitude, "lon": c.longitude,
                    "status": status_labels.get(c.status.value, ""),
                    "category": category_labels.get(c.category.value, ""),
                    "place": c.reported_address, "due": (services.due_of(c) or "") and services.due_of(c).isoformat(),
                    "url": url_for("complaints_console.detail", complaint_id=c.id)})
    return out
