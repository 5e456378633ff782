"""Manual (lab) monitoring results: one by form or many from a CSV/XLSX file, checked, previewed, committed
all or nothing. Publication is due 5 working days after the monitoring is completed (DOMAIN §5.3)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.core.clock import china_now, china_today, china_tz
from portal.core.storage import Store, files
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.enterprises.models import Enterprise, Outlet
from portal.enterprises.rules import MEDIUM_LABELS
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.monitoring import conditions, episodes, ingest, importers, services
from portal.monitoring.impact import Collector, Impact
from portal.monitoring.importers import ManualRow, RowError
from portal.monitoring.models import ManualSubmission
from portal.reference.models import Pollutant
from portal.workdays.services import add_working_days

MAX_ERRORS = 200
PREVIEW_ROWS = 20
CHUNK = 2000


@dataclass
class UploadCheck:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    preview: list[ManualRow] = field(default_factory=list)
    groups: dict[tuple[date, str, str], int] = field(default_factory=dict)
    impact: Impact = field(default_factory=Impact)


@dataclass
class CommitResult:
    inserted: int = 0
    duplicates: int = 0
    submissions: list[ManualSubmission] = field(default_factory=list)
    incidents: int = 0


class _Context:
    """The enterprise's outlets and known pollutant codes, loaded once per file."""

    def __init__(self, enterprise: Enterprise):
        self.enterprise = enterprise
        self.outlets = dict(db.session.execute(sa.select(Outlet.code, Outlet.id)
                                               .where(Outlet.enterprise_id == enterprise.id)).all())
        self.pollutants = dict(db.session.execute(sa.select(Pollutant.code, Pollutant.medium)).all())
        self.now = china_now().replace(tzinfo=None)
        self.conditions: dict[tuple[str, datetime], tuple[Any, str | None, int]] = {}  # 工况 per sample in the file

    def check(self, row: ManualRow) -> list[RowError]:
        errors = []
        if row.outlet not in self.outlets:
            errors.append(RowError(row.line, importers.COLUMNS["outlet"][0],
                                   _("this enterprise has no outlet %(code)s.", code=row.outlet)))
        medium = self.pollutants.get(row.pollutant)
        if medium is None:
            errors.append(RowError(row.line, importers.COLUMNS["pollutant"][0],
                                   _("%(code)s is not an HJ 212 pollutant code known to the portal.",
                                     code=row.pollutant)))
        elif row.outlet in self.outlets and medium in ("gas", "water") and medium != episodes.medium_of(row.outlet):
            # the same rule as the registry's limits (enterprises.rules.limit_fit_problems)
            errors.append(RowError(row.line, importers.COLUMNS["pollutant"][0],
                                   _("%(code)s is measured in %(pm)s and does not fit outlet %(outlet)s; use a "
                                     "pollutant of the outlet's medium or the right outlet.", code=row.pollutant,
                                     pm=MEDIUM_LABELS.get(medium, medium), outlet=row.outlet)))
        if row.sampled_at > self.now:
            errors.append(RowError(row.line, importers.COLUMNS["sampled_at"][0], _("is in the future.")))
        if row.completed_on > self.now.date():
            errors.append(RowError(row.line, importers.COLUMNS["completed_on"][0], _("is in the future.")))
        if row.production_load is not None:
            key = (row.outlet, row.sampled_at)
            first = self.conditions.setdefault(key, (row.production_load, row.facility_status, row.line))
            if first[:2] != (row.production_load, row.facility_status):
                errors.append(RowError(row.line, importers.COLUMNS["production_load"][0],
                                       _("the same sample (outlet and sampling time) has other operating conditions "
                                         "on line %(line)d; one sample has one production load and facility "
                                         "status.", line=first[2])))
        return errors


def _checked_rows(ctx: _Context, rows: Iterator[ManualRow | list[RowError]]) -> Iterator[ManualRow | list]:
    for item in rows:
        if isinstance(item, list):
            yield item
            continue
        problems = ctx.check(item)
        yield problems or item


def check_upload(enterprise: Enterprise, path: Path, progress: Callable[[int], None] | None = None,
                 every: int = 5000) -> UploadCheck:
    """Read the whole file once (streaming, memory independent of its size), collecting row errors, a preview and
    the publication groups. A sample already on record (same outlet, pollutant and sampling time, also a line
    repeated in the file) is skipped at commit and counted, never stored twice."""
    ctx = _Context(enterprise)
    result = UploadCheck()
    collector = Collector(ctx.outlets)
    for item in _checked_rows(ctx, importers.read_rows(path)):
        result.rows += 1
        if progress is not None and result.rows % every == 0:
            progress(result.rows)
        if isinstance(item, list):
            result.error_count += len(item)
            result.errors.extend(item[:max(0, MAX_ERRORS - len(result.errors))])
            continue
        if len(result.preview) < PREVIEW_ROWS:
            result.preview.append(item)
        group = (item.completed_on, item.lab, item.method)
        result.groups[group] = result.groups.get(group, 0) + 1
        collector.row(item)
    if result.rows == 0:
        raise importers.ImportFailed(_("The file has a header but no data rows."))
    if not result.error_count:
        result.impact = collector.finish(result.groups, china_today())
    return result


def _submission(actor: Any, enterprise: Enterprise, group: tuple[date, str, str], filename: str,
                today: date) -> ManualSubmission:
    completed_on, lab, method = group
    due_on = add_working_days(completed_on, 5)
    submission = ManualSubmission(enterprise_id=enterprise.id, submitted_by_id=getattr(actor, "id", None),
                                  completed_on=completed_on, due_on=due_on, published_on=today,
                                  is_late=today > due_on, lab_name=lab, method=method, filename=filename[:200])
    db.session.add(submission)
    db.session.flush()
    return submission


def _late_finding(late: list[ManualSubmission], rows: int, actor: Any) -> None:
    """One publication act (an upload, or one result entered in the form) that publishes results after their
    deadline is ONE late-publication finding, however many results, groups and months it covers (DOMAIN §2.6.3:
    one finding per behaviour episode, not per value). It scores only once two regulators confirm it."""
    first = min(late, key=lambda s: (s.completed_on, s.id))
    last = max(late, key=lambda s: s.completed_on)
    published = first.published_on
    add_evidence(enterprise_id=first.enterprise_id, kind=EvidenceKind.MONITORING_LATE,
                 source=EvidenceSource.MONITORING, source_ref=f"manual-late:{first.id}",
                 occurred_on=published, verified=False, finding=True, actor=actor,
                 message=("monitoring.manual_late", {"a": first.completed_on.isoformat(),
                                                     "b": last.completed_on.isoformat(), "p": published.isoformat(),
                                                     "d": min(s.due_on for s in late).isoformat()}),
                 details={"completed_on": first.completed_on.isoformat(),
                          "completed_until": last.completed_on.isoformat(),
                          "due_on": min(s.due_on for s in late).isoformat(), "published_on": published.isoformat(),
                          "late_groups": len(late), "rows": rows, "submission_ids": sorted(s.id for s in late)[:500]})


def commit_rows(actor: Any, enterprise: Enterprise, rows: Iterator[ManualRow | list[RowError]],
                groups: dict[tuple[date, str, str], int], filename: str = "",
                progress: Callable[[int], None] | None = None) -> CommitResult:
    """Insert every row or none: the first bad row raises ValidationFailed and the caller rolls back.
    `progress` is called with the number of rows written so far after each chunk."""
    ctx = _Context(enterprise)
    today = china_today()
    tz = china_tz()
    submissions = {g: _submission(actor, enterprise, g, filename, today) for g in sorted(groups)}
    specs = services.limit_specs(set(ctx.outlets.values()))
    result = CommitResult(submissions=list(submissions.values()))
    chunk: list[dict[str, Any]] = []
    sample_conditions: dict[tuple[int, datetime], tuple[int, Any, str, int]] = {}
    done = 0
    for item in _checked_rows(ctx, rows):
        if isinstance(item, list):
            first = item[0]
            raise ValidationFailed({"file": _("Line %(line)d, column %(col)s: %(msg)s", line=first.line,
                                              col=first.column, msg=first.message)})
        group = (item.completed_on, item.lab, item.method)
        if group not in submissions:
            raise ValidationFailed({"file": _("The file changed since it was checked. Upload it again.")})
        chunk.append({"enterprise_id": enterprise.id, "outlet_id": ctx.outlets[item.outlet],
                      "pollutant_code": item.pollutant, "period": "manual",
                      "measured_at": item.sampled_at.replace(tzinfo=tz).astimezone(timezone.utc),
                      "value": item.value, "value_min": None, "value_max": None, "value_converted": None,
                      "flag": item.flag, "source": "manual", "packet_id": None,
                      "submission_id": submissions[group].id})
        if item.production_load is not None:
            sample_conditions.setdefault((ctx.outlets[item.outlet], chunk[-1]["measured_at"]),
                                         (item.line, item.production_load, item.facility_status,
                                          submissions[group].id))
        if len(chunk) >= CHUNK:
            _flush_chunk(chunk, specs, result)
            done += len(chunk)
            chunk = []
            if progress is not None:
                progress(done)
    if chunk:
        _flush_chunk(chunk, specs, result)
    _store_conditions(enterprise.id, sample_conditions)
    late = []
    for group, submission in submissions.items():
        submission.row_count = groups[group]
        if submission.is_late:
            late.append(submission)
        record(actor, "monitoring.manual.publish", submission)
    if late:
        _late_finding(late, sum(s.row_count for s in late), actor)
    result.duplicates = sum(groups.values()) - result.inserted
    return result


def _store_conditions(enterprise_id: int, pending: dict[tuple[int, datetime], tuple[int, Any, str, int]]) -> None:
    """Record the 工况 of each new sample (Art. 24); a sample already on record keeps its conditions, and a file
    that states other conditions for it is refused (naming the line)."""
    items = list(pending.items())
    for start in range(0, len(items), 500):
        part = items[start:start + 500]
        known = conditions.existing([key for key, _v in part])
        for (outlet_id, sampled_at), (line, load, facility, submission_id) in part:
            stored = known.get((outlet_id, sampled_at))
            if stored is not None:
                if (stored.production_load, stored.facility_status) != (load, facility):
                    raise ValidationFailed({"production_load": _(
                        "Line %(line)d: this sample is already on record with a production load of %(load)s %% and "
                        "facility status “%(status)s”; a sample keeps the conditions it was recorded with.",
                        line=line, load=stored.production_load,
                        status=conditions.FACILITY_LABELS.get(stored.facility_status, ""))})
                continue
            db.session.add(conditions.SamplingCondition(enterprise_id=enterprise_id, outlet_id=outlet_id,
                                                        sampled_at=sampled_at, production_load=load,
                                                        facility_status=facility, submission_id=submission_id))
        db.session.flush()


def _flush_chunk(chunk: list[dict[str, Any]], specs, result: CommitResult) -> None:
    batch = ingest.ingest_values(chunk, china_tz())
    result.inserted += len(batch.inserted)
    result.incidents += len(services.detect_exceedances(batch, specs, china_tz(),
                                                        datetime.now(timezone.utc)))


def commit_upload(actor: Any, enterprise: Enterprise, path: Path, filename: str) -> CommitResult:
    check = check_upload(enterprise, path)
    if check.error_count:
        first = check.errors[0]
        raise ValidationFailed({"file": _("Line %(line)d, column %(col)s: %(msg)s", line=first.line,
                                          col=first.column, msg=first.message)})
    return commit_rows(actor, enterprise, importers.read_rows(path), check.groups, filename)


def _check_one(enterprise: Enterprise, row: ManualRow) -> _Context:
    """One result entered by hand: the 工况 at sampling is required (生态环境监测条例 Art. 24)."""
    ctx = _Context(enterprise)
    names = {v[0]: k for k, v in importers.COLUMNS.items()}
    errors = {names.get(p.column, p.column): p.message for p in ctx.check(row)}
    if row.production_load is None:
        errors["production_load"] = _("Enter the production load at sampling, in per cent of capacity (0 to 150).")
    if row.facility_status not in conditions.FACILITY_STATES:
        errors["facility_status"] = _("Choose the state of the treatment facilities at sampling.")
    if errors:
        raise ValidationFailed(errors)
    return ctx


def preview_one(enterprise: Enterprise, row: ManualRow) -> Impact:
    """What publishing this one result would create (shown before the user confirms it)."""
    collector = Collector(_check_one(enterprise, row).outlets)
    collector.row(row)
    return collector.finish({(row.completed_on, row.lab, row.method): 1}, china_today())


def submit_one(actor: Any, enterprise: Enterprise, row: ManualRow) -> CommitResult:
    """A single result entered in the form (same checks and deadline as an upload)."""
    _check_one(enterprise, row)
    return commit_rows(actor, enterprise, iter([row]), {(row.completed_on, row.lab, row.method): 1})


def upload_store() -> Store:
    """Where uploads wait for confirmation, keyed by their random token: the "monitoring-uploads" storage area
    (MONITORING_UPLOAD_DIR, else instance/uploads/monitoring, on the filesystem backend)."""
    return files("monitoring-uploads")


def recent_submissions(enterprise_id: int, limit: int = 50) -> list[ManualSubmission]:
    stmt = (sa.select(ManualSubmission).where(ManualSubmission.enterprise_id == enterprise_id)
            .order_by(ManualSubmission.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))
