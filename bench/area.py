"""Search by area (PRODUCT §4, "area search (map) 1,000,000 enterprises p95 ≤ 50 ms"): the bbox and near forms of
/api/v1/enterprises (portal/maps/area.py) timed in process, first pages and a second page through the cursor, on
the databases bench/run.py seeds (the demo generator places every enterprise inside its county, so 40 % of them are
in 淮安's seven counties: the dense case)."""
from __future__ import annotations

import statistics
import time

# Boxes from a street view to a whole province, circles from 1 to 20 km; 淮安 (dense), 沈阳 and 通辽 (sparser).
AREA_MIX = [
    {"label": "bbox street 2 km", "bbox": (119.25, 33.77, 119.27, 33.79)},
    {"label": "bbox county", "bbox": (119.0, 33.6, 119.5, 34.0)},
    {"label": "bbox city 淮安", "bbox": (118.2, 32.7, 119.6, 34.2)},
    {"label": "bbox province 辽宁", "bbox": (118.8, 38.7, 125.8, 43.5)},
    {"label": "bbox empty sea", "bbox": (124.0, 30.0, 125.0, 31.0)},
    {"label": "near 1 km 涟水", "near": (33.78, 119.26, 1.0)},
    {"label": "near 5 km 涟水", "near": (33.78, 119.26, 5.0)},
    {"label": "near 10 km 淮安", "near": (33.55, 119.03, 10.0)},
    {"label": "near 20 km 沈阳", "near": (41.80, 123.43, 20.0)},
    {"label": "near 5 km 通辽", "near": (43.65, 122.24, 5.0)},
]


def _area(item):
    from portal.maps.rules import BBox, Near

    return BBox(*item["bbox"]) if "bbox" in item else Near(*item["near"])


def bench_area(app, repeat: int, percentile) -> dict:
    from portal.extensions import db
    from portal.maps.area import search_area

    rows, everything = [], []
    with app.app_context():
        for item in AREA_MIX:
            area = _area(item)
            for _ in range(3):  # warm caches
                first = search_area(area, 20)
                db.session.rollback()
            samples, second = [], []
            for _ in range(repeat):
                t0 = time.perf_counter()
                result = search_area(area, 20)
                _ = [e.uscc for e in result.items]
                samples.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
                if result.next_cursor:
                    t0 = time.perf_counter()
                    page2 = search_area(area, 20, result.next_cursor)
                    _ = [e.uscc for e in page2.items]
                    second.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
            everything += samples + second
            rows.append({"label": item["label"], "total": first.total, "capped": first.total_is_capped,
                         "p50_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 95), 2),
                         "page2_p95_ms": round(percentile(second, 95), 2) if second else None})
    return {"queries": rows, "p50_ms": round(statistics.median(everything), 2),
            "p95_ms": round(percentile(everything, 95), 2), "samples": len(everything)}


def print_area(runs: list[dict], goal_ms: float) -> None:
    print()
    print(f"{'db':<11}{'enterprises':>12}  {'area query':<22}{'hits':>8}  {'p50 ms':>7} {'p95 ms':>7} {'page 2 p95':>10}")
    for run in runs:
        for row in run["area"]["queries"]:
            hits = f"{row['total']:,}{'+' if row['capped'] else ''}"
            page2 = f"{row['page2_p95_ms']:>10.2f}" if row["page2_p95_ms"] is not None else f"{'-':>10}"
            print(f"{run['db']:<11}{run['size']:>12,}  {row['label']:<22}{hits:>8}  {row['p50_ms']:>7.2f} "
                  f"{row['p95_ms']:>7.2f} {page2}")
    for run in runs:
        a = run["area"]
        print(f"{run['db']:<11}{run['size']:>12,}  area search p50 {a['p50_ms']:.2f} ms, p95 {a['p95_ms']:.2f} ms "
              f"over {a['samples']} runs: {'p95 OK' if a['p95_ms'] <= goal_ms else 'p95 MISSED'} (goal <= {goal_ms:.0f} ms)")
