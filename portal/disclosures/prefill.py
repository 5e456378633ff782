"""Pre-filling the annual report from what the portal already knows (填一次、多处用): registry, permits, outlets and
limits, key-unit list, penalty evidence, the latest final credit grade, self-monitoring roll-ups and exceedances,
this year's temporary reports. Every pre-filled value keeps its source."""
from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.clock import china_tz
from portal.credit import evaluation
from portal.credit import services as credit
from portal.credit.models import EvaluationResult, Evidence, EvidenceKind, RunStatus
from portal.disclosures import rules
from portal.disclosures.models import ReportStatus, TemporaryReport, Trigger
from portal.enterprises.models import Enterprise, Outlet
from portal.extensions import db
from portal.reference.models import Region
from portal.monitoring.models import ExceedanceIncident, MonitoringRollup, Resolution

# Where a pre-filled value came from (shown next to the value; the labels are translated in the templates).
SOURCE_REGISTRY, SOURCE_PERMITS, SOURCE_OUTLETS = "registry", "permits", "outlets"
SOURCE_KEY_UNITS, SOURCE_TEMPORARY, SOURCE_PENALTIES = "key_units", "temporary_reports", "penalties"
SOURCE_MONITORING = "outlets_monitoring"
SOURCE_CREDIT, SOURCE_NO_CREDIT = "credit_evaluation", "credit_none"
PENALTY_KINDS = (EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY, EvidenceKind.PRODUCTION_LIMIT,
                 EvidenceKind.PRODUCTION_STOP, EvidenceKind.PERMIT_REVOKED)



def _prefilled(entry: dict, name: str, value: Any, source: str, **ref: Any) -> None:
    """`ref` (optional): where exactly the value was read, e.g. {"as_of": "2026-02-10", "run_id": 3}."""
    entry["data"][name] = value
    entry["prefill"][name] = {"value": value, "source": source, **ref}


def prefill_sections(ent: Enterprise, year: int) -> dict[str, dict]:
    """填一次、多处用: what the registry already knows, each value with its source."""
    sections = {s.code: rules.empty_section() for s in rules.SECTIONS}
    basic = sections["basic"]
    for name, value in (("name", ent.name), ("uscc", ent.uscc), ("legal_rep", ent.legal_rep),
                        ("production_address", ent.production_address or ent.address),
                        ("contact_phone", ent.contact_phone),
                        ("industry", f"{ent.industry_code} {ent.industry.name if ent.industry else ''}".strip())):
        _prefilled(basic, name, value, SOURCE_REGISTRY)
    key_units = "、".join(rules.KEY_UNIT_NAMES.get(t.value, t.value) for t in ent.key_unit_types(year))
    _prefilled(basic, "key_unit_types", key_units, SOURCE_KEY_UNITS)
    permits = [{"permit_no": p.permit_no, "management_class": p.management_class.value,
                "valid_from": p.valid_from.isoformat(), "valid_to": p.valid_to.isoformat()} for p in ent.permits]
    _prefilled(sections["management"], "permits", permits, SOURCE_PERMITS)
    _prefill_credit(sections["management"], ent, year)
    monitoring = monitoring_summary(ent.id, year)
    emissions = []
    for o in ent.outlets:
        for lim in o.limits:
            is_range = lim.limit_value is None and lim.limit_min is not None and lim.limit_max is not None
            row = {"outlet_code": o.code, "pollutant": f"{lim.pollutant.name if lim.pollutant else ''} "
                                                       f"({lim.pollutant_code})", "unit": lim.unit,
                   "standard": lim.standard_code,
                   "limit": rules.format_range(_plain(lim.limit_min), _plain(lim.limit_max)) if is_range
                   else _plain(lim.limit_value if lim.limit_value is not None else lim.limit_max)}
            seen = monitoring.get((o.code, lim.pollutant_code))
            if seen:
                # A range limit (pH) is never averaged: the year's observed range stands where the mean would.
                middle = (rules.format_range(_figure(seen["min"]), _figure(seen["max"]))
                          if is_range and seen.get("min") is not None and seen["max"] is not None
                          else "" if is_range else _figure(seen["mean"]))
                row.update(avg_conc=middle, max_conc=_figure(seen["max"]), exceedances=str(seen["exceedances"]))
            emissions.append(row)
    _prefilled(sections["pollution"], "emissions", emissions,
               SOURCE_MONITORING if any(len(r) > 5 for r in emissions) else SOURCE_OUTLETS)
    penalties = [{"decision_no": e.document_no, "decided_on": e.occurred_on.isoformat(), "authority": e.authority,
                  "facts": e.title, "amount_yuan": "" if e.amount_yuan is None else str(e.amount_yuan),
                  "rectified": ""} for e in _penalty_evidence(ent.id, year)]
    _prefilled(sections["violations"], "penalties", penalties, SOURCE_PENALTIES)
    temporary = published_temporary(ent.id, year)
    criminal = [{"case_no": (t.data or {}).get("case_no") or t.legal_doc_no, "court": (t.data or {}).get("court", ""),
                 "judgment": (t.data or {}).get("judgment", ""), "decided_on": ""}
                for t in temporary if t.trigger == Trigger.CRIMINAL]
    detentions = [{"position": (t.data or {}).get("position", ""), "case": (t.data or {}).get("case", ""),
                   "decided_on": (t.data or {}).get("decided_on", "")}
                  for t in temporary if t.trigger == Trigger.DETENTION]
    _prefilled(sections["violations"], "criminal", criminal, SOURCE_TEMPORARY)
    _prefilled(sections["violations"], "detentions", detentions, SOURCE_TEMPORARY)
    reports = [{"trigger": t.trigger.value, "legal_doc_no": t.legal_doc_no,
                "published_on": t.submitted_at.astimezone(china_tz()).date().isoformat()}
               for t in temporary]
    _prefilled(sections["temporary"], "reports", reports, SOURCE_TEMPORARY)
    return sections


def latest_final_credit(enterprise_id: int, year: int) -> EvaluationResult | None:
    """The enterprise's most recent final (审定) environmental credit evaluation result for a period up to the report
    year, or None: a grade of a later period was not the one held during the report year."""
    return next((r for r in evaluation.results_of(enterprise_id)
                 if r.run.status == RunStatus.FINAL and r.run.year <= year), None)


def _prefill_credit(entry: dict, ent: Enterprise, year: int) -> None:
    """环保信用评价: the grade received (label as the scheme names it), the evaluating authority and period. Without
    a final evaluation both stay empty and say so (source "no evaluation yet")."""
    result = latest_final_credit(ent.id, year)
    if result is None:
        for name in ("credit_grade", "credit_authority"):
            _prefilled(entry, name, "", SOURCE_NO_CREDIT)
        return
    run = result.run
    scheme = credit.parsed(result.scheme_version)
    label = scheme.grade(result.grade).label if result.grade in scheme.grade_codes else result.grade
    final_on = run.finalised_at.astimezone(china_tz()).date().isoformat() if run.finalised_at else None
    ref = {"run_id": run.id, "as_of": final_on}
    _prefilled(entry, "credit_grade", label, SOURCE_CREDIT, **ref)
    _prefilled(entry, "credit_authority", f"{_authority(run.jurisdiction_prefix)}，{run.year}年度评价".lstrip("，"),
               SOURCE_CREDIT, **ref)


def _authority(prefix: str) -> str:
    """The evaluating bureau as the report names it: 省生态环境厅 for a province, 市生态环境局 below."""
    if not prefix:
        return ""
    region = db.session.get(Region, prefix.ljust(6, "0"))
    if region is None:
        return ""
    return f"{region.name}{'生态环境厅' if region.level == 1 else '生态环境局'}"


def _penalty_evidence(enterprise_id: int, year: int) -> list[Evidence]:
    """Verified, public penalty decisions of the year that the portal already holds (credit evidence)."""
    stmt = (sa.select(Evidence).where(Evidence.enterprise_id == enterprise_id, Evidence.kind.in_(PENALTY_KINDS),
                                      Evidence.is_verified.is_(True), Evidence.is_public.is_(True),
                                      Evidence.withdrawn_at.is_(None),
                                      Evidence.occurred_on.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(Evidence.occurred_on, Evidence.id))
    return list(db.session.scalars(stmt))


def _plain(value) -> str:
    return "" if value is None else format(value.normalize(), "f")


def published_temporary(enterprise_id: int, year: int) -> list[TemporaryReport]:
    stmt = (sa.select(TemporaryReport).where(TemporaryReport.enterprise_id == enterprise_id,
                                             TemporaryReport.status != ReportStatus.DRAFT)
            .order_by(TemporaryReport.submitted_at))
    tz = china_tz()
    return [t for t in db.session.scalars(stmt) if t.submitted_at.astimezone(tz).year == year]


def _figure(value: float | None) -> str:
    return "" if value is None else format(Decimal(str(round(value, 3))).normalize(), "f")


def monitoring_summary(enterprise_id: int, year: int) -> dict[tuple[str, str], dict]:
    """The year's valid-data mean and maximum per outlet and pollutant (monthly roll-ups) and the number of
    exceedance incidents, from the portal's own self-monitoring data."""
    tz = china_tz()
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    rollups = db.session.execute(
        sa.select(Outlet.code, MonitoringRollup.pollutant_code, sa.func.sum(MonitoringRollup.sum_valid),
                  sa.func.sum(MonitoringRollup.n_valid), sa.func.max(MonitoringRollup.max_valid),
                  sa.func.min(MonitoringRollup.min_valid))
        .join(Outlet, Outlet.id == MonitoringRollup.outlet_id)
        .where(Outlet.enterprise_id == enterprise_id, MonitoringRollup.resolution == Resolution.MONTH,
               MonitoringRollup.period_start >= start, MonitoringRollup.period_start < end)
        .group_by(Outlet.code, MonitoringRollup.pollutant_code))
    summary = {(code, pollutant): {"mean": total / n if n else None, "max": peak, "min": low, "exceedances": 0}
               for code, pollutant, total, n, peak, low in rollups}
    incidents = db.session.execute(
        sa.select(Outlet.code, ExceedanceIncident.pollutant_code, sa.func.count())
        .join(Outlet, Outlet.id == ExceedanceIncident.outlet_id)
        .where(ExceedanceIncident.enterprise_id == enterprise_id, ExceedanceIncident.period_start >= start,
               ExceedanceIncident.period_start < end)
        .group_by(Outlet.code, ExceedanceIncident.pollutant_code))
    for code, pollutant, count in incidents:
        summary.setdefault((code, pollutant), {"mean": None, "max": None, "min": None,
                                               "exceedances": 0})["exceedances"] = count
    return summary


# --- refreshing the pre-fill of a draft from newer portal data ------------------------------------------------------

def _shown(value: Any) -> str:
    """A pre-filled value as the preview shows it: tables by their rows' first cells."""
    if isinstance(value, list):
        firsts = [str(next(iter(r.values()), "")) for r in value if isinstance(r, dict)]
        return f"{len(value)}: " + "、".join(f for f in firsts if f) if value else "0"
    return "" if value is None else str(value)


def refresh_preview(report) -> list[dict]:
    """What refreshing the draft's pre-fill from today's portal data would change, per pre-filled field: the value
    pre-filled before, the new one, and whether the draft's value follows it ("update") or stays because the
    enterprise changed it or declared the section not applicable ("keep")."""
    fresh = prefill_sections(report.enterprise, report.year)
    out = []
    for s in rules.SECTIONS:
        entry = (report.sections or {}).get(s.code) or rules.empty_section()
        new_prefill = fresh[s.code]["prefill"]
        for name, new in new_prefill.items():
            old = (entry.get("prefill") or {}).get(name, {})
            if old.get("value") == new["value"] and old.get("source") == new["source"]:
                continue
            current = (entry.get("data") or {}).get(name)
            followed = "value" in old and current == old.get("value")
            keep = entry.get("state") == "not_applicable" or (("value" in old) and not followed) \
                or name in (entry.get("overrides") or {})
            out.append({"section": s.code, "title": s.title, "name": name, "old": old.get("value"),
                        "new": new["value"], "current": current, "action": "keep" if keep else "update",
                        "old_shown": _shown(old.get("value")), "new_shown": _shown(new["value"]),
                        "current_shown": _shown(current), "prefill": new})
    return out


def apply_refresh(actor, report, expected: int | None = None) -> list[dict]:
    """Apply the preview: every pre-fill record is renewed; values that followed the old pre-fill take the new one,
    values the enterprise changed stay. Drafts only; audited. `expected` (the number of changes the preview showed)
    guards against applying something else than what was shown."""
    from portal.audit.services import record
    from portal.errors import Conflict

    rules.transition(report.status, "edit")
    changes = refresh_preview(report)
    if expected is not None and expected != len(changes):
        raise Conflict(_("The portal's data changed since the preview; review the changes again."))
    sections = copy.deepcopy(report.sections or {})
    for ch in changes:
        entry = sections.setdefault(ch["section"], rules.empty_section())
        entry.setdefault("prefill", {})[ch["name"]] = ch["prefill"]
        if ch["action"] == "update":
            entry.setdefault("data", {})[ch["name"]] = ch["new"]
    report.sections = sections
    db.session.flush()
    record(actor, "annual_report.prefill_refresh", report, object_id=report.id,
           before={"changes": [{k: ch[k] for k in ("section", "name", "old", "current")} for ch in changes]},
           after={"changes": [{k: ch[k] for k in ("section", "name", "new", "action")} for ch in changes]})
    return changes
