"""Laboratory report PDFs attached to manual results (DOMAIN §5.9 REPORTED): the type is sniffed from the content
(never the name or the browser's content type), the size is capped (MONITORING_LAB_REPORT_MAX_BYTES, default
10 MB), the file is stored under instance/ by its SHA-256, every attachment is audited. The enterprise and the
regulators of its jurisdiction may always open a report; anyone may once the results are published."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth import rules as auth_rules
from portal.core.clock import china_today
from portal.core.storage import Store, files
from portal.extensions import db
from portal.monitoring.models import LabReport, ManualSubmission

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
HEADER_WINDOW = 1024  # readers accept the header within the first 1024 bytes
TRAILER_WINDOW = 2048


class ReportRejected(ValueError):
    """The message is translated and names the file."""


@dataclass(frozen=True)
class PreparedReport:
    data: bytes
    sha256: str
    filename: str


def max_bytes() -> int:
    return int(current_app.config.get("MONITORING_LAB_REPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff_pdf(data: bytes) -> bool:
    """A PDF has the %PDF- header near its start and an %%EOF marker near its end (a truncated upload has none)."""
    return data.find(PDF_MAGIC, 0, HEADER_WINDOW) >= 0 and b"%%EOF" in data[-TRAILER_WINDOW:]


def prepare(filename: str, stream: BinaryIO, limit: int) -> PreparedReport:
    """Read at most limit + 1 bytes, then check size, emptiness, content type and the name's extension."""
    name = os.path.basename(filename or "") or _("the file")
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ReportRejected(_("%(name)s is larger than %(mb)s MB.", name=name, mb=max(1, limit // (1024 * 1024))))
    if not data:
        raise ReportRejected(_("%(name)s is empty.", name=name))
    if not sniff_pdf(data):
        raise ReportRejected(_("%(name)s is not a PDF document (or it is incomplete). Upload the laboratory's "
                               "report as a PDF.", name=name))
    if not name.lower().endswith(".pdf"):
        raise ReportRejected(_("%(name)s is a PDF but its name does not end in .pdf; rename it.", name=name))
    return PreparedReport(data, hashlib.sha256(data).hexdigest(), name[:200])


def report_store() -> Store:
    """The "monitoring-reports" storage area (on the filesystem backend MONITORING_REPORT_DIR, else beside
    MONITORING_UPLOAD_DIR, else instance/uploads/monitoring-reports)."""
    return files("monitoring-reports")


def _store(prepared: PreparedReport) -> str:
    key = f"{prepared.sha256[:2]}/{prepared.sha256}.pdf"
    report_store().put_new(key, prepared.data)  # content-addressed: the same bytes are stored once
    return key


def attach(actor: Any, submission: ManualSubmission, filename: str, stream: BinaryIO) -> LabReport:
    prepared = prepare(filename, stream, max_bytes())
    report = LabReport(submission_id=submission.id, enterprise_id=submission.enterprise_id,
                       filename=prepared.filename, stored_path=_store(prepared), size=len(prepared.data),
                       sha256=prepared.sha256, uploaded_by_id=getattr(actor, "id", None))
    db.session.add(report)
    db.session.flush()
    record(actor, "monitoring.lab_report.attach", report, enterprise_id=submission.enterprise_id)
    return report


def is_published(submission: ManualSubmission) -> bool:
    return submission.published_on is not None and submission.published_on <= china_today() \
        and submission.row_count > 0


def can_view(user: Any, report: LabReport) -> bool:
    if is_published(report.submission):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "enterprise_id", None) == report.enterprise_id:
        return True
    role = getattr(user, "role", None)
    return bool(role is not None and role.is_regulator and
                auth_rules.in_jurisdiction(user.jurisdiction_code, report.submission.enterprise.region_code))


def reports_by_submission(submission_ids: list[int]) -> dict[int, LabReport]:
    """The latest report of each submission."""
    if not submission_ids:
        return {}
    stmt = sa.select(LabReport).where(LabReport.submission_id.in_(submission_ids)).order_by(LabReport.id)
    return {r.submission_id: r for r in db.session.scalars(stmt)}


def public_reports(enterprise_id: int, limit: int = 10) -> list[LabReport]:
    stmt = (sa.select(LabReport).join(ManualSubmission, LabReport.submission_id == ManualSubmission.id)
            .where(LabReport.enterprise_id == enterprise_id, ManualSubmission.published_on <= china_today(),
                   ManualSubmission.row_count > 0)
            .order_by(ManualSubmission.completed_on.desc(), LabReport.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))
