"""CHANGE temporary reports (Art. 18, DOMAIN §1.8): corrections of a published report's fields and table cells,
added and removed rows, each with the old and new value and the reason. The original is never edited; it is marked
corrected when the change is signed (services.submit_temporary). Services flush; views commit."""
from __future__ import annotations

import json
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import User
from portal.disclosures import corrections, rules
from portal.disclosures.models import AnnualReport, ReportStatus, TemporaryReport, Trigger
from portal.enterprises.models import Enterprise
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db

Report = AnnualReport | TemporaryReport


def save_change(actor: User, ent: Enterprise, original: Report, proposed: Mapping[str, str],
                reasons: Mapping[str, str], basis: str, report: TemporaryReport | None = None,
                tables: Mapping[str, corrections.TableEdit] | None = None) -> TemporaryReport:
    """A CHANGE report (Art. 18): the changed fields of a published report, each with old value, new value and
    reason, and the changed cells, added and removed rows of its tables (`tables`: {"section.table": TableEdit},
    annual reports only). The original is untouched until the change is signed."""
    if original.enterprise_id != ent.id or original.status == ReportStatus.DRAFT:
        raise NotAllowed(_("Only this enterprise's published reports can be corrected."))
    changes, errors = rules.diff_changes(original_fields(original), proposed, reasons)
    if tables:
        table_changes, table_errors = corrections.table_changes(original_tables(original), tables, ent.uscc)
        changes, errors = changes + table_changes, {**errors, **table_errors}
    if not changes:
        errors["changes"] = _("Change at least one value.")
    if not (basis or "").strip():
        errors["basis"] = _("Give the main basis for the change.")
    if errors:
        raise ValidationFailed(errors)
    if report is None:  # a repeated "new change" for the same original continues the open draft
        report = db.session.scalar(sa.select(TemporaryReport).where(
            TemporaryReport.enterprise_id == ent.id, TemporaryReport.trigger == Trigger.CHANGE,
            TemporaryReport.corrects_kind == original.kind, TemporaryReport.corrects_id == original.id,
            TemporaryReport.status == ReportStatus.DRAFT))
    if report is not None:
        rules.transition(report.status, "edit")
    before = snapshot(report) if report is not None else None
    if report is None:
        report = TemporaryReport(enterprise_id=ent.id, trigger=Trigger.CHANGE, created_by_id=actor.id)
        db.session.add(report)
    report.corrects_kind, report.corrects_id = original.kind, original.id
    report.changes, report.data = changes, {"basis": basis.strip()}
    db.session.flush()
    record(actor, "temporary_report.save", report, before=before)
    return report


def original_fields(report: Report) -> dict[str, Any]:
    """The correctable values of a published report, keyed "section.field" (annual) or "data.field" (temporary)."""
    content = json.loads(report.content_json or "{}")
    if report.kind == "annual":
        return rules.flat_fields(content.get("sections") or {})
    return {f"data.{k}": v for k, v in (content.get("data") or {}).items()}


def original_tables(report: Report) -> dict[str, list[dict]]:
    """The correctable tables of a published annual report as published: {"section.table": rows}."""
    if report.kind != "annual":
        return {}
    return corrections.original_tables(json.loads(report.content_json or "{}").get("sections") or {})


def corrected_original(report: TemporaryReport) -> Report | None:
    if report.corrects_kind is None:
        return None
    model = AnnualReport if report.corrects_kind == "annual" else TemporaryReport
    return db.session.get(model, report.corrects_id)
