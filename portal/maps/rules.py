"""Pure rules of the maps: parameter parsing with field-named errors, distances and reduced precision."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.errors import DomainError

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
MAX_RADIUS_KM = 50.0
PUBLIC_DECIMALS = 3  # complaint locations shown to the public: 0.001 degree, about 100 m
DENSITY_DECIMALS = 2  # complaint density cells: 0.01 degree, about 1 km


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float

    def bbox(self) -> BBox:
        return bbox_around(self.lat, self.lon, self.radius_km)


def _numbers(raw: str, count: int, field: str, example: str) -> list[float]:
    parts = [p.strip() for p in (raw or "").split(",")]
    if len(parts) != count:
        raise DomainError(_("give %(n)d numbers separated by commas, e.g. %(example)s.", n=count, example=example),
                          field=field)
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise DomainError(_("“%(value)s” is not a number; give decimal degrees, e.g. %(example)s.",
                                value=part[:20], example=example), field=field) from None
        if not math.isfinite(value):
            raise DomainError(_("give finite decimal degrees, e.g. %(example)s.", example=example), field=field)
        values.append(value)
    return values


def _check_lat(value: float, field: str) -> None:
    if not -90 <= value <= 90:
        raise DomainError(_("latitude must be between -90 and 90."), field=field)


def _check_lon(value: float, field: str) -> None:
    if not -180 <= value <= 180:
        raise DomainError(_("longitude must be between -180 and 180."), field=field)


def parse_bbox(raw: str) -> BBox:
    """`minLon,minLat,maxLon,maxLat` in WGS-84 decimal degrees, edges included."""
    min_lon, min_lat, max_lon, max_lat = _numbers(raw, 4, "bbox", "118.9,33.5,119.3,33.9")
    for lon in (min_lon, max_lon):
        _check_lon(lon, "bbox")
    for lat in (min_lat, max_lat):
        _check_lat(lat, "bbox")
    if min_lon > max_lon or min_lat > max_lat:
        raise DomainError(_("the minimum longitude and latitude come first: minLon,minLat,maxLon,maxLat."),
                          field="bbox")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def parse_near(raw: str, radius_raw: str) -> Near:
    """`near=lat,lon` with `radius_km` (more than 0, at most MAX_RADIUS_KM)."""
    lat, lon = _numbers(raw, 2, "near", "33.78,119.26")
    _check_lat(lat, "near")
    _check_lon(lon, "near")
    if not (radius_raw or "").strip():
        raise DomainError(_("give the radius in kilometres with near, e.g. radius_km=5."), field="radius_km")
    try:
        radius = float(radius_raw)
    except ValueError:
        radius = float("nan")
    if not (math.isfinite(radius) and 0 < radius <= MAX_RADIUS_KM):
        raise DomainError(_("must be a number of kilometres above 0 and at most %(n)d.", n=int(MAX_RADIUS_KM)),
                          field="radius_km")
    return Near(lat, lon, radius)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bbox_around(lat: float, lon: float, radius_km: float) -> BBox:
    """The smallest latitude/longitude box holding every point within radius_km (a prefilter for haversine)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = math.cos(math.radians(min(89.9, abs(lat) + dlat)))
    dlon = 180.0 if cos_lat <= 0 else min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)))
    return BBox(max(-180.0, lon - dlon), max(-90.0, lat - dlat), min(180.0, lon + dlon), min(90.0, lat + dlat))


def reduced(value: float | None, decimals: int = PUBLIC_DECIMALS) -> float | None:
    """A coordinate at reduced precision for public display (never more than PUBLIC_DECIMALS)."""
    if value is None:
        return None
    return round(float(value), min(decimals, PUBLIC_DECIMALS))


def point_in_rings(lon: float, lat: float, rings: list[list[list[float]]]) -> bool:
    """Even-odd rule over every ring of a polygon (outer ring and holes)."""
    inside = False
    for ring in rings:
        j = len(ring) - 1
        for i in range(len(ring)):
            xi, yi = ring[i]
            xj, yj = ring[j]
            if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
    return inside
