"""Bulk CSV export (PRODUCT §2.7): one UTF-8-with-BOM file per data set in the "opendata" storage area
(portal/core/storage.py: OPENDATA_DIR, default instance/opendata, or the object store), rebuilt by the
`opendata-export` job and streamed by the views.

Every file is written by a streaming query (yield_per), row by row, into a local temporary file that is moved into
the store only when complete, so a download never sees half a file and memory stays flat at a million enterprises. The
manifest (manifest.json) records rows, bytes, SHA-256 and build time of each file; the views use the digest as the
ETag. Complaint statistics hold counts only (DOMAIN §6.5: nothing about reporters).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import sqlalchemy as sa

from portal.complaints.models import Complaint, Findings
from portal.core.clock import china_tz
from portal.core.csvsafe import safe_cell
from portal.core.links import public_url
from portal.core.storage import Store, files
from portal.credit.models import (CreditListEntry, CreditScheme, CreditSchemeVersion, CreditStanding, EvaluationResult,
                                  EvaluationRun, ListStatus)
from portal.disclosures.models import AnnualReport, ReportStatus, TemporaryReport
from portal.enterprises.models import Enterprise, Outlet
from portal.extensions import db
from portal.monitoring.models import MonitoringRollup, Resolution
from portal.opendata.catalog import BY_NAME, FILES
from portal.reference.models import Industry, Pollutant, Region

BATCH = 2000
MANIFEST = "manifest.json"
PUBLIC_STATUSES = (ReportStatus.PUBLISHED, ReportStatus.CORRECTED)


def export_store() -> Store:
    return files("opendata")


def _stream(stmt: sa.Select) -> Iterator[sa.Row]:
    yield from db.session.execute(stmt.execution_options(yield_per=BATCH))


def cell(value: Any) -> Any:
    """CSV text for one value: ISO dates, true/false, enum values, floats without binary noise; text that a
    spreadsheet would run as a formula is neutralised (portal/core/csvsafe.py)."""
    kind = type(value)
    if kind is int:  # most cells: the fast paths keep a million-row file to seconds
        return value
    if kind is str:
        return safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 4))
    return getattr(value, "value", value)


# --- rows, one generator per file, columns in catalog order -----------------------------------------------------

def enterprise_rows() -> Iterator[tuple]:
    stmt = (sa.select(Enterprise.uscc, Enterprise.name, Enterprise.former_names, Enterprise.region_code, Region.name,
                      Enterprise.industry_code, Industry.name, Enterprise.legal_rep, Enterprise.address,
                      Enterprise.production_address, Enterprise.latitude, Enterprise.longitude, Enterprise.is_listed,
                      Enterprise.stock_code, Enterprise.is_bond_issuer, Enterprise.updated_at)
            .join(Region, Region.code == Enterprise.region_code, isouter=True)
            .join(Industry, Industry.code == Enterprise.industry_code, isouter=True)
            .order_by(Enterprise.uscc))
    for row in _stream(stmt):
        values = list(row)
        values[2] = "|".join(values[2] or [])
        yield tuple(values)


def grade_rows() -> Iterator[tuple]:
    """Every evaluated enterprise's stored current standing (credit.standing); a never-evaluated one has no row."""
    stmt = (sa.select(Enterprise.uscc, Enterprise.name, Enterprise.region_code, CreditScheme.code,
                      CreditSchemeVersion.number, CreditStanding.grade, CreditStanding.score,
                      CreditStanding.is_vetoed, CreditStanding.as_of, CreditStanding.basis,
                      sa.func.coalesce(CreditStanding.since, CreditStanding.as_of), EvaluationRun.year)
            .join(Enterprise, Enterprise.id == CreditStanding.enterprise_id)
            .join(CreditSchemeVersion, CreditSchemeVersion.id == CreditStanding.scheme_version_id)
            .join(CreditScheme, CreditScheme.id == CreditSchemeVersion.scheme_id)
            .outerjoin(EvaluationResult, EvaluationResult.id == CreditStanding.result_id)
            .outerjoin(EvaluationRun, EvaluationRun.id == EvaluationResult.run_id)
            .order_by(Enterprise.uscc))
    return (tuple(r) for r in _stream(stmt))


def list_rows() -> Iterator[tuple]:
    stmt = (sa.select(CreditListEntry.kind, Enterprise.uscc, Enterprise.name, CreditListEntry.reason,
                      CreditListEntry.decision_note, CreditListEntry.listed_on, CreditListEntry.min_until,
                      CreditListEntry.max_until)
            .join(Enterprise, Enterprise.id == CreditListEntry.enterprise_id)
            .where(CreditListEntry.status == ListStatus.LISTED)
            .order_by(CreditListEntry.kind, CreditListEntry.listed_on.desc(), CreditListEntry.id.desc()))
    return (tuple(r) for r in _stream(stmt))


def disclosure_rows() -> Iterator[tuple]:
    template = public_url("disclosures.report", digest="0" * 64)
    for kind, model in (("annual", AnnualReport), ("temporary", TemporaryReport)):
        year = model.year if model is AnnualReport else sa.null()
        trigger = model.trigger if model is TemporaryReport else sa.null()
        stmt = (sa.select(Enterprise.uscc, Enterprise.name, year, trigger, model.status, model.submitted_at,
                          model.sha256)
                .join(Enterprise, Enterprise.id == model.enterprise_id)
                .where(model.status.in_(PUBLIC_STATUSES), model.sha256.is_not(None))
                .order_by(model.submitted_at, model.id))
        for uscc, name, yr, trig, status, at, digest in _stream(stmt):
            yield (kind, uscc, name, yr, trig, status, at, digest, template.replace("0" * 64, digest))


def monitoring_rows() -> Iterator[tuple]:
    tz = china_tz()
    stmt = (sa.select(Enterprise.uscc, Enterprise.name, Outlet.code, MonitoringRollup.pollutant_code, Pollutant.name,
                      MonitoringRollup.period_start, MonitoringRollup.n_all, MonitoringRollup.n_valid,
                      MonitoringRollup.sum_valid, MonitoringRollup.min_valid, MonitoringRollup.max_valid,
                      MonitoringRollup.n_conv, MonitoringRollup.sum_conv, Pollutant.unit)
            .join(Outlet, Outlet.id == MonitoringRollup.outlet_id)
            .join(Enterprise, Enterprise.id == Outlet.enterprise_id)
            .join(Pollutant, Pollutant.code == MonitoringRollup.pollutant_code, isouter=True)
            .where(MonitoringRollup.resolution == Resolution.MONTH)
            .order_by(MonitoringRollup.outlet_id, MonitoringRollup.pollutant_code, MonitoringRollup.period_start))
    for (uscc, name, outlet, code, pname, start, n_all, n_valid, s_valid, lo, hi, n_conv, s_conv, unit) in _stream(stmt):
        yield (uscc, name, outlet, code, pname or "", start.astimezone(tz).strftime("%Y-%m"), n_all, n_valid,
               s_valid / n_valid if n_valid else None, lo, hi, s_conv / n_conv if n_conv else None, unit or "")


def complaint_rows() -> Iterator[tuple]:
    """Counts per (month, district, category), summed while streaming: memory grows with the number of groups,
    not of complaints."""
    tz = china_tz()
    received: Counter = Counter()
    accepted: Counter = Counter()
    substantiated: Counter = Counter()
    stmt = (sa.select(Complaint.received_at, Complaint.region_code, Complaint.category,
                      Complaint.accepted_at.is_not(None), Complaint.findings)
            .where(Complaint.merged_into_id.is_(None)))
    for at, region, category, was_accepted, findings in _stream(stmt):
        key = (at.astimezone(tz).strftime("%Y-%m"), region, getattr(category, "value", category))
        received[key] += 1
        accepted[key] += bool(was_accepted)
        substantiated[key] += findings == Findings.SUBSTANTIATED
    names = dict(db.session.execute(sa.select(Region.code, Region.name)
                                    .where(Region.code.in_({k[1] for k in received}))).all()) if received else {}
    for key in sorted(received):
        month, region, category = key
        yield (month, region, names.get(region, ""), category, received[key], accepted[key], substantiated[key])


ROWS: dict[str, Callable[[], Iterable[tuple]]] = {
    "enterprises": enterprise_rows, "grades": grade_rows, "lists": list_rows, "disclosures": disclosure_rows,
    "monitoring_monthly": monitoring_rows, "complaints_monthly": complaint_rows,
}


# --- writing ----------------------------------------------------------------------------------------------------

def write_file(name: str, store: Store) -> dict[str, Any]:
    """Write one file atomically; returns its manifest entry."""
    spec = BY_NAME[name]
    rows = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f"portal-{name}-", suffix=".csv")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(spec.header)
            for row in ROWS[name]():
                writer.writerow([cell(v) for v in row])
                rows += 1
        digest = hashlib.sha256()
        with tmp.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        size = tmp.stat().st_size
        store.put_file(spec.filename, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    return {"file": spec.filename, "rows": rows, "bytes": size, "sha256": digest.hexdigest(),
            "built_at": cell(datetime.now(timezone.utc))}


def read_manifest(store: Store | None = None) -> dict[str, Any]:
    try:
        data = (store or export_store()).get(MANIFEST)
        return json.loads(data) if data is not None else {"files": {}}
    except (OSError, ValueError):
        return {"files": {}}


def build_all(names: Iterable[str] | None = None) -> str:
    """The `opendata-export` job: rebuild the files (all, or the named ones) and the manifest. Idempotent; reads
    only, so the job's commit has nothing to write."""
    store = export_store()
    manifest = read_manifest(store)
    files_ = manifest.setdefault("files", {})
    for spec in FILES:
        if names is None or spec.name in names:
            files_[spec.name] = write_file(spec.name, store)
    manifest["built_at"] = cell(datetime.now(timezone.utc))
    store.put(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return "; ".join(f"{name}: {files_[name]['rows']} rows" for name in files_)
