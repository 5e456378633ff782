"""Disclosure use cases: pre-filled annual drafts, section saves, temporary and CHANGE reports, signing (freeze,
hash, publish), the copy-of-record PDF and public verification. Services flush; views commit."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth import factors
from portal.auth.models import Role, User
from portal.auth.services import verify_password
from portal.core.clock import china_tz
from portal.db import utcnow
from portal.disclosures import deadlines, prefill, rules
from portal.disclosures.changes import corrected_original, original_fields, original_tables, save_change  # noqa: F401
from portal.disclosures.models import (AnnualReport, Obligation, ObligationKind, ReportStatus, TemporaryReport,
                                       Trigger)
from portal.enterprises.models import Enterprise
from portal.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.workdays import services as workdays

Report = AnnualReport | TemporaryReport


def enterprise_flags(ent: Enterprise) -> dict[str, bool]:
    return {"financing": bool(ent.is_listed or ent.is_bond_issuer)}


def annual_due(ent: Enterprise, year: int) -> date:
    return deadlines.annual_due(ent.region_code, year)  # the jurisdiction's deadline page, else the config default


def ensure_annual_obligation(ent: Enterprise, year: int) -> Obligation:
    """One obligation row per enterprise and report year, however often it is asked for."""
    ref = f"annual:{ent.id}:{year}"
    existing = db.session.scalar(sa.select(Obligation).where(Obligation.ref == ref))
    if existing is not None:
        return existing
    ob = Obligation(ref=ref, enterprise_id=ent.id, kind=ObligationKind.ANNUAL, year=year, due_on=annual_due(ent, year))
    db.session.add(ob)
    db.session.flush()
    record("system", "disclosure_obligation.create", ob)
    return ob


# --- annual drafts ------------------------------------------------------------------------------------------------

def create_annual_draft(actor: User, ent: Enterprise, year: int) -> AnnualReport:
    """This year's draft, pre-filled; asking twice returns the same report (one per enterprise and year)."""
    existing = db.session.scalar(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id,
                                                               AnnualReport.year == year))
    if existing is not None:
        return existing
    report = AnnualReport(enterprise_id=ent.id, year=year, sections=prefill.prefill_sections(ent, year),
                          created_by_id=actor.id, acknowledged_warnings=[])
    db.session.add(report)
    db.session.flush()
    ensure_annual_obligation(ent, year)
    record(actor, "annual_report.create", report, after={"year": year, "status": report.status.value})
    return report


def _clean(value: Any) -> Any:
    if isinstance(value, list):
        return [{k: str(v).strip() for k, v in row.items()} for row in value
                if any(str(v).strip() for v in row.values())]
    return str(value if value is not None else "").strip()


def save_section(actor: User, report: AnnualReport, code: str, state: str, reason: str, data: Mapping[str, Any],
                 reasons: Mapping[str, str]) -> dict:
    """Save one section of a draft as typed (checks run in the dry run and at signing, not here: drafts may be
    incomplete). Changing a pre-filled value records an override with its reason and source."""
    rules.transition(report.status, "edit")
    section = rules.SECTION_BY_CODE.get(code)
    if section is None or state not in ("empty", "filled", "not_applicable"):
        raise ValidationFailed({"state": _("Choose whether the section is filled or not applicable.")})
    sections = json.loads(json.dumps(report.sections or {}))
    entry = sections.get(code) or rules.empty_section()
    before = {"section": code, "value": entry}
    names = [f.name for f in section.fields] + [t.name for t in section.tables]
    entry["data"] = {name: _clean(data.get(name, [] if name in {t.name for t in section.tables} else ""))
                     for name in names}
    entry["state"], entry["reason"] = state, (reason or "").strip()
    entry["overrides"] = {}
    for name, prefilled in (entry.get("prefill") or {}).items():
        if rules.prefill_changed(prefilled["value"], entry["data"].get(name)):
            entry["overrides"][name] = {"value": entry["data"].get(name), "reason": (reasons.get(name) or "").strip(),
                                        "source": prefilled["source"]}
    sections[code] = entry
    report.sections = sections
    report.acknowledged_warnings = []  # warnings are acknowledged for the content as signed
    record(actor, "annual_report.save_section", report, before=before, after={"section": code, "value": entry})
    return entry


def check_annual(report: AnnualReport) -> rules.Check:
    """The dry run: the same checks as signing, with no legal effect."""
    return rules.validate_report(report.sections or {}, enterprise_flags(report.enterprise), report.enterprise.uscc,
                                 prefill.monitoring_summary(report.enterprise_id, report.year))


# --- temporary and CHANGE reports -----------------------------------------------------------------------------------

def _trigger_data(trigger: Trigger, data: Mapping[str, Any], uscc: str) -> dict[str, str]:
    fields = rules.TRIGGER_FIELDS[trigger]
    clean = {f.name: str(data.get(f.name, "") or "").strip() for f in fields}
    errors = {i.field: i.message for i in rules.check_fields("temporary", fields, clean, uscc)}
    if errors:
        raise ValidationFailed(errors)
    return clean


def _legal_doc(trigger: Trigger, doc_no: str, received_raw: Any) -> tuple[str, date | None]:
    if trigger == Trigger.CHANGE:
        return "", None
    errors = {}
    doc_no = (doc_no or "").strip()
    if not doc_no:
        errors["legal_doc_no"] = _("Enter the number of the legal document (e.g. 淮环罚〔2026〕3号).")
    elif len(doc_no) > 100:
        errors["legal_doc_no"] = _("The document number has %(n)d characters; at most 100 are allowed.", n=len(doc_no))
    received = received_raw if isinstance(received_raw, date) else None
    if received is None:
        errors["legal_doc_received_on"] = _("Enter the date the legal document was received (YYYY-MM-DD).")
    elif received > datetime.now(china_tz()).date():
        errors["legal_doc_received_on"] = _("The receipt date cannot be in the future.")
    if errors:
        raise ValidationFailed(errors)
    return doc_no, received


def _ensure_temporary_obligation(report: TemporaryReport) -> None:
    if report.due_on is None:
        return
    ref = f"temporary:{report.id}"
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == ref))
    if ob is None:
        ob = Obligation(ref=ref, enterprise_id=report.enterprise_id, kind=ObligationKind.TEMPORARY,
                        year=report.legal_doc_received_on.year, temporary_report_id=report.id, due_on=report.due_on)
        db.session.add(ob)
        db.session.flush()
        record("system", "disclosure_obligation.create", ob)
    elif ob.due_on != report.due_on:
        before = snapshot(ob)
        ob.due_on = report.due_on
        record("system", "disclosure_obligation.due_change", ob, before=before)


def _same_document(enterprise_id: int, trigger: Trigger, doc_no: str) -> TemporaryReport | None:
    """A repeated "new report" for the same legal document returns the existing draft; if that document is already
    disclosed, a second report would duplicate it (corrections go through a change report)."""
    existing = db.session.scalar(sa.select(TemporaryReport).where(
        TemporaryReport.enterprise_id == enterprise_id, TemporaryReport.trigger == trigger,
        TemporaryReport.legal_doc_no == doc_no).order_by(TemporaryReport.id))
    if existing is not None and existing.status != ReportStatus.DRAFT:
        raise Conflict(_("A report on legal document %(no)s is already published; to correct it, file a change "
                         "report.", no=doc_no))
    return existing


def save_temporary(actor: User, ent: Enterprise, trigger: Trigger, doc_no: str, received: Any,
                   data: Mapping[str, Any], report: TemporaryReport | None = None) -> TemporaryReport:
    """Create or update a temporary-report draft; the due date follows the working-day calendar (Art. 17)."""
    if report is not None:
        rules.transition(report.status, "edit")
    doc_no, received_on = _legal_doc(trigger, doc_no, received)
    clean = _trigger_data(trigger, data, ent.uscc)
    due = rules.temporary_due_date(received_on, trigger, workdays.is_workday) if received_on else None
    if due is not None:
        from portal.disclosures.lists import list_published_on
        due = rules.pre_list_due_date(received_on, list_published_on(ent.id, received_on.year), due,
                                      workdays.is_workday)
    if report is None:
        report = _same_document(ent.id, trigger, doc_no)
    before = snapshot(report) if report is not None else None
    if report is None:
        report = TemporaryReport(enterprise_id=ent.id, trigger=trigger, created_by_id=actor.id, changes=[])
        db.session.add(report)
    report.legal_doc_no, report.legal_doc_received_on, report.due_on, report.data = doc_no, received_on, due, clean
    db.session.flush()
    _ensure_temporary_obligation(report)
    record(actor, "temporary_report.save", report, before=before)
    return report


# --- signing ------------------------------------------------------------------------------------------------------

def _check_signer(actor: User, report: Report, password: str, code: str) -> str:
    """The signatory proves it is them at the moment of signing with the password AND the second factor (as
    NetDMR/CROMERR ask); returns the factor used, which the frozen content and its digest then carry."""
    if actor.role != Role.ENTERPRISE_SIGNATORY or actor.enterprise_id != report.enterprise_id:
        raise NotAllowed(_("Only a signatory of this enterprise can sign and submit the report."))
    if not verify_password(actor.password_hash, password or ""):
        raise ValidationFailed({"password": _("The password is not correct; enter your login password to sign.")})
    if not factors.has_factor(actor):
        raise ValidationFailed({"code": _("Signing needs a second factor. Set one up under Your account → Second "
                                          "factor, then sign.")})
    factor = factors.verify(actor, code or "")
    if factor is None:
        raise ValidationFailed({"code": _("The code is not correct. Enter the 6 digits your authenticator app shows "
                                          "now (each code signs once), or one of your recovery codes.")})
    return factor


def _lock(report: Report) -> Report:
    """Re-read the report under a write lock so two submits in a race publish it once.

    SELECT ... FOR UPDATE alone does nothing on SQLite, so the lock is taken by a write that changes nothing
    (status = status on the row, only while it is a draft): PostgreSQL locks the row, SQLite takes its database
    write lock, and the racing request waits there until the first one commits, then re-reads the row as
    published (or gone, if it was discarded) and stops with a clear message."""
    model = type(report)
    db.session.flush()
    db.session.execute(sa.update(model).where(model.id == report.id, model.status == ReportStatus.DRAFT)
                       .values(status=model.status).execution_options(synchronize_session=False))
    db.session.expire(report)
    fresh = db.session.execute(sa.select(model).where(model.id == report.id).with_for_update()).scalar_one_or_none()
    if fresh is None:
        raise NotFound(_("This report no longer exists; it was discarded."))
    return fresh


def _identity(ent: Enterprise) -> dict[str, str]:
    return {"uscc": ent.uscc, "name": ent.name, "region_code": ent.region_code}


def _freeze(actor: User, report: Report, content: dict, now: datetime, factor: str,
            commitment: str = rules.COMMITMENT) -> None:
    """Signer, time, the second factor used and the commitment text go into the canonical content, so its SHA-256
    binds them all."""
    content.update({"signer": {"name": actor.display_name, "user_id": actor.id, "factor": factor},
                    "submitted_at": now.isoformat(),
                    "commitment": commitment})
    report.content_json = rules.canonical_json(content)
    report.sha256 = rules.sha256_hex(report.content_json)
    report.status = rules.transition(report.status, "submit")
    report.submitted_at, report.signer_id = now, actor.id


def submit_annual(actor: User, report: AnnualReport, password: str, acknowledged: list[str],
                  now: datetime | None = None, *, code: str = "") -> AnnualReport:
    """Sign: checks pass, every warning acknowledged, the password and a second-factor code entered; then freeze,
    hash, publish and settle the obligation. A second submit finds the report published and changes nothing."""
    factor = _check_signer(actor, report, password, code)
    report = _lock(report)
    rules.transition(report.status, "submit")
    check = check_annual(report)
    if not check.ok:
        raise ValidationFailed({"report": _("The report has %(n)d error(s); run the check and correct them.",
                                            n=len(check.errors))})
    missing = check.unacknowledged(acknowledged)
    if missing:
        raise ValidationFailed({"warnings": _("Acknowledge each warning before signing (%(n)d left).",
                                              n=len(missing))})
    now = now or utcnow()
    report.acknowledged_warnings = sorted(w.code for w in check.warnings)
    content = {"kind": "annual", "year": report.year, "enterprise": _identity(report.enterprise),
               "sections": _public_sections(report), "acknowledged_warnings": report.acknowledged_warnings}
    before = snapshot(report, exclude=("pdf_bytes", "created_at", "updated_at"))
    _freeze(actor, report, content, now, factor)
    record(actor, "annual_report.submit", report, before=before, after=_published_snapshot(report))
    from portal.disclosures.supervision import settle_obligation
    settle_obligation(ensure_annual_obligation(report.enterprise, report.year), now)
    return report


def _public_sections(report: AnnualReport) -> dict:
    flags = enterprise_flags(report.enterprise)
    out = {}
    for s in rules.applicable_sections(flags):
        entry = (report.sections or {}).get(s.code) or rules.empty_section()
        out[s.code] = {"state": entry["state"], "reason": entry.get("reason", ""),
                       "data": entry.get("data", {}) if entry["state"] == "filled" else {},
                       "sources": {k: v["source"] for k, v in (entry.get("prefill") or {}).items()},
                       "overrides": entry.get("overrides", {}) if entry["state"] == "filled" else {}}
        refs = {k: {r: v[r] for r in ("as_of", "run_id") if v.get(r)}
                for k, v in (entry.get("prefill") or {}).items() if v.get("as_of") or v.get("run_id")}
        if refs:  # where exactly a pre-filled value was read (e.g. the credit evaluation run and its final date)
            out[s.code]["source_refs"] = refs
    return out


def _published_snapshot(report: Report) -> dict:
    return {"status": report.status.value, "sha256": report.sha256, "submitted_at": report.submitted_at.isoformat(),
            "signer_id": report.signer_id, "factor": json.loads(report.content_json)["signer"].get("factor")}


def submit_temporary(actor: User, report: TemporaryReport, password: str, now: datetime | None = None, *,
                     code: str = "") -> TemporaryReport:
    """Sign a temporary report (password and second factor); a CHANGE report also marks its original CORRECTED
    (never edited)."""
    factor = _check_signer(actor, report, password, code)
    report = _lock(report)
    rules.transition(report.status, "submit")
    original = corrected_original(report)
    if report.trigger == Trigger.CHANGE and original is None:
        raise Conflict(_("The corrected report no longer exists."))
    now = now or utcnow()
    content = {"kind": "temporary", "trigger": report.trigger.value, "enterprise": _identity(report.enterprise),
               "legal_doc_no": report.legal_doc_no,
               "legal_doc_received_on": report.legal_doc_received_on.isoformat() if report.legal_doc_received_on
               else None, "due_on": report.due_on.isoformat() if report.due_on else None, "data": report.data,
               "corrects": {"kind": original.kind, "sha256": original.sha256} if original else None,
               "changes": report.changes or []}
    before = snapshot(report, exclude=("pdf_bytes", "created_at", "updated_at"))
    _freeze(actor, report, content, now, factor, rules.commitment_for(original))
    record(actor, "temporary_report.submit", report, before=before, after=_published_snapshot(report))
    if original is not None:
        before_original = {"status": original.status.value}
        original.status = rules.transition(original.status, "correct")
        record(actor, f"{original.kind}_report.corrected", original, before=before_original,
               after={"status": original.status.value, "corrected_by": report.sha256})
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == f"temporary:{report.id}"))
    if ob is not None:
        from portal.disclosures.supervision import settle_obligation
        settle_obligation(ob, now)
    return report


# --- public access, PDF and verification ----------------------------------------------------------------------------

def find_published(digest: str) -> Report | None:
    for model in (AnnualReport, TemporaryReport):
        found = db.session.scalar(sa.select(model).where(model.sha256 == digest, model.status != ReportStatus.DRAFT))
        if found is not None:
            return found
    return None


def find_by_pdf(pdf_digest: str) -> Report | None:
    for model in (AnnualReport, TemporaryReport):
        found = db.session.scalar(sa.select(model).where(model.pdf_sha256 == pdf_digest))
        if found is not None:
            return found
    return None


def content(report: Report) -> dict:
    return json.loads(report.content_json or "{}")


def corrections_of(report: Report) -> list[TemporaryReport]:
    stmt = (sa.select(TemporaryReport).where(TemporaryReport.corrects_kind == report.kind,
                                             TemporaryReport.corrects_id == report.id,
                                             TemporaryReport.status != ReportStatus.DRAFT)
            .order_by(TemporaryReport.submitted_at))
    return list(db.session.scalars(stmt))


def copy_of_record(report: Report, render) -> bytes:
    """The copy-of-record PDF, rendered once (off the signing request) and kept byte for byte, so that the SHA-256
    of a downloaded copy identifies it and any altered copy does not match."""
    if report.status == ReportStatus.DRAFT:
        raise InvalidTransition(_("A draft has no copy of record."))
    if report.pdf_sha256:
        return report.pdf_bytes
    pdf = render(report)
    digest = rules.sha256_hex(pdf)
    model = type(report)
    db.session.execute(sa.update(model).where(model.id == report.id, model.pdf_sha256.is_(None))
                       .values(pdf_bytes=pdf, pdf_sha256=digest))
    db.session.flush()
    db.session.refresh(report)
    return report.pdf_bytes


def enterprise_disclosures(enterprise_id: int) -> dict[int, list[Report]]:
    """Published reports by year (newest first), annual and temporary, with corrected versions kept."""
    annual = db.session.scalars(sa.select(AnnualReport).where(AnnualReport.enterprise_id == enterprise_id,
                                                              AnnualReport.status != ReportStatus.DRAFT))
    temporary = db.session.scalars(sa.select(TemporaryReport).where(TemporaryReport.enterprise_id == enterprise_id,
                                                                    TemporaryReport.status != ReportStatus.DRAFT))
    tz = china_tz()
    years: dict[int, list[Report]] = {}
    for r in annual:
        years.setdefault(r.year, []).append(r)
    for r in temporary:
        years.setdefault(r.submitted_at.astimezone(tz).year, []).append(r)
    return {y: sorted(v, key=lambda r: r.submitted_at) for y, v in sorted(years.items(), reverse=True)}
