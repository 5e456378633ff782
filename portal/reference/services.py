"""Reference data (GB/T 2260 regions, GB/T 4754-2017 industries, HJ 212 pollutant codes) kept as CSV in git.

Loading is an upsert by code, so it can run on every start and after every edit of the CSV files: new codes are
inserted, changed names are updated, nothing is deleted (enterprises may still point at a retired code).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from portal.extensions import db
from portal.reference.models import Industry, Pollutant, Region

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.inserted} inserted, {self.updated} updated, {self.unchanged} unchanged"


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of one reference file, every value a string (codes keep their leading zeros)."""
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def region_rows() -> list[dict]:
    return [{"code": r["code"], "name": r["name"], "name_en": r["name_en"], "level": int(r["level"]),
             "parent_code": r["parent_code"] or None} for r in read_csv("regions.csv")]


def industry_rows() -> list[dict]:
    return [{"code": r["code"], "name": r["name"], "name_en": r["name_en"]} for r in read_csv("industries.csv")]


def pollutant_rows() -> list[dict]:
    return [{"code": r["code"], "name": r["name"], "name_en": r["name_en"], "unit": r["unit"], "medium": r["medium"]}
            for r in read_csv("pollutants.csv")]


def _upsert(model: type, rows: list[dict]) -> LoadResult:
    result = LoadResult()
    existing = {obj.code: obj for obj in db.session.scalars(sa.select(model))}
    for row in rows:
        obj = existing.get(row["code"])
        if obj is None:
            db.session.add(model(**row))
            result.inserted += 1
            continue
        changed = {k: v for k, v in row.items() if getattr(obj, k) != v}
        for key, value in changed.items():
            setattr(obj, key, value)
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.flush()
    return result


def load_reference() -> dict[str, LoadResult]:
    """Upsert all three tables from the CSV files (flushes; the caller commits)."""
    return {
        "regions": _upsert(Region, region_rows()),
        "industries": _upsert(Industry, industry_rows()),
        "pollutants": _upsert(Pollutant, pollutant_rows()),
    }
