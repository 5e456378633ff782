"""Pure disclosure rules (no database, request or app): the section catalogue of the annual report (DOMAIN §1.5,
§1.6), the report state machine (§1.11), deadlines (§1.4), obligation status, validation, canonical JSON + SHA-256
and the field-by-field diff of a correction (§1.8)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from portal.disclosures.models import ObligationStatus, ReportStatus, Trigger
from portal.enterprises.rules import check_permit_no, check_uscc
from portal.errors import InvalidTransition
from portal.workdays import rules as wd

COMMITMENT = ("企业负责人保证年度报告内容的真实、准确、完整，不存在虚假记载、误导性陈述或重大遗漏，"
              "并承担相应的法律责任")
TEMPORARY_WORKING_DAYS = 5  # Art. 17
REMINDER_DAYS = (30, 7, 1)
DEFAULT_ANNUAL_DEADLINE = "03-15"  # Art. 19, inclusive
# Names of the 环境监管重点单位 categories as the report states them (DOMAIN §1.2); the report is a Chinese document.
KEY_UNIT_NAMES = {"water": "水环境重点排污单位", "air": "大气环境重点排污单位", "groundwater": "地下水污染防治重点排污单位",
                  "noise": "噪声重点排污单位", "soil": "土壤污染重点监管单位", "risk": "环境风险重点管控单位"}

# --- catalogue --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    kind: str = "text"  # text | textarea | number | date | bool | uscc | permit_no | choice
    unit: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    max_value: Decimal | None = None


@dataclass(frozen=True)
class Table:
    name: str
    label: Any
    columns: tuple[Field, ...]


@dataclass(frozen=True)
class Section:
    code: str
    title: Any
    fields: tuple[Field, ...] = ()
    tables: tuple[Table, ...] = ()
    may_be_empty: bool = True  # Art. 16: "未产生" may be declared with a reason
    only_for: str = ""  # "" every enterprise; "financing": listed companies and bond issuers (Art. 15)

    def applies(self, flags: Mapping[str, bool]) -> bool:
        return not self.only_for or bool(flags.get(self.only_for))


F = Field
SECTIONS: tuple[Section, ...] = (
    Section("summary", _l("Key environmental information summary"), (
        F("summary", _l("Summary of the year (licences, main emissions against permitted amounts, violations, "
                        "incidents, carbon)"), "textarea", required=True),
        F("idle_periods", _l("Idle, shut-down or relocation periods (with “no emissions” for them)"), "textarea"),
    ), may_be_empty=False),
    Section("basic", _l("Basic information"), (
        F("name", _l("Enterprise name"), required=True),
        F("uscc", _l("Unified social credit code"), "uscc", required=True),
        F("legal_rep", _l("Legal representative"), required=True),
        F("production_address", _l("Production and operating address"), required=True),
        F("contact_person", _l("Contact person"), required=True),
        F("contact_phone", _l("Contact telephone"), required=True),
        F("industry", _l("Industry (national economic classification)"), required=True),
        F("main_products", _l("Main business, products and scale"), "textarea", required=True),
        F("env_department", _l("Environmental protection department")),
        F("env_manager", _l("Person in charge of environmental work")),
        F("key_unit_types", _l("Key unit types this year")),
    ), may_be_empty=False),
    Section("management", _l("Environmental management information"), (
        F("env_tax_yuan", _l("Environmental protection tax paid"), "number", unit="元"),
        F("insured", _l("Environmental pollution liability insurance"), "bool"),
        F("insurer", _l("Insurer and policy period")),
        F("credit_grade", _l("Environmental credit grade received")),
        F("credit_authority", _l("Evaluating authority and year")),
    ), (
        Table("permits", _l("Pollutant discharge permits"), (
            F("permit_no", _l("Permit number"), "permit_no", required=True),
            F("management_class", _l("Management class")),
            F("valid_from", _l("Valid from"), "date"),
            F("valid_to", _l("Valid to"), "date"),
        )),
        Table("eia", _l("EIA approvals and completion acceptance"), (
            F("project", _l("Project"), required=True),
            F("approval_no", _l("Approval document number"), required=True),
            F("approval_date", _l("Approval date"), "date"),
        )),
    )),
    Section("pollution", _l("Pollutant generation, treatment and emission"), (
        F("hazardous_waste_total_t", _l("Hazardous waste generated in total"), "number", unit="t"),
        F("monitoring_plan", _l("Self-monitoring plan (where it is published)")),
        F("monitoring_compliance_pct", _l("Self-monitoring compliance rate"), "number", unit="%",
          max_value=Decimal(100)),
    ), (
        Table("facilities", _l("Pollution treatment facilities"), (
            F("code", _l("Facility code"), required=True),
            F("name", _l("Facility name")),
            F("process", _l("Treatment process")),
            F("status", _l("Operating status")),
        )),
        Table("emissions", _l("Emissions by outlet and pollutant"), (
            F("outlet_code", _l("Outlet"), required=True),
            F("pollutant", _l("Pollutant"), required=True),
            F("unit", _l("Concentration unit"), required=True),
            F("standard", _l("Standard")),
            F("limit", _l("Limit"), "number"),
            F("avg_conc", _l("Mean concentration"), "number"),
            F("max_conc", _l("Maximum concentration"), "number"),
            F("annual_t", _l("Annual emission"), "number", unit="t"),
            F("permitted_t", _l("Permitted annual emission"), "number", unit="t"),
            F("exceedances", _l("Exceedance count"), "number"),
        )),
        Table("waste", _l("Industrial solid and hazardous waste"), (
            F("name", _l("Waste"), required=True),
            F("hw_code", _l("Hazardous waste code (HW)")),
            F("generated_t", _l("Generated"), "number", unit="t"),
            F("stored_t", _l("Stored"), "number", unit="t"),
            F("utilised_t", _l("Utilised"), "number", unit="t"),
            F("disposed_t", _l("Disposed"), "number", unit="t"),
            F("receiver", _l("Receiving unit")),
        )),
    )),
    Section("carbon", _l("Carbon emission information"), (
        F("co2_t", _l("CO₂ emissions this year"), "number", unit="t", required=True),
        F("co2_prev_t", _l("CO₂ emissions the previous year"), "number", unit="t"),
        F("allowance_surrendered", _l("Allowances surrendered"), "bool"),
        F("accounting_method", _l("Emission facilities and accounting method"), "textarea"),
    )),
    Section("emergency", _l("Environmental emergency information"), (
        F("plan_filed", _l("Emergency plan filed"), "bool", required=True),
        F("filing_no", _l("Filing number and date")),
        F("risk_level", _l("Environmental risk level"), "choice", choices=("一般", "较大", "重大")),
        F("weather_grade", _l("Heavy-pollution-weather performance grade"), "choice",
          choices=("A", "B", "C", "D", "引领性", "非绩效分级")),
        F("incidents", _l("Environmental incidents during the year"), "textarea"),
    )),
    Section("violations", _l("Environmental violations"), (), (
        Table("penalties", _l("Administrative penalties"), (
            F("decision_no", _l("Decision number"), required=True),
            F("decided_on", _l("Decision date"), "date", required=True),
            F("authority", _l("Authority")),
            F("facts", _l("Violation and legal basis")),
            F("amount_yuan", _l("Fine"), "number", unit="元"),
            F("rectified", _l("Rectification")),
        )),
    )),
    Section("temporary", _l("Temporary reports of the year"), (), (
        Table("reports", _l("Temporary reports published this year"), (
            F("trigger", _l("Event"), required=True),
            F("legal_doc_no", _l("Legal document number")),
            F("published_on", _l("Published on"), "date"),
        )),
    )),
    Section("cleaner_production", _l("Mandatory cleaner-production audit"), (
        F("reason", _l("Reason for the mandatory audit"), "textarea", required=True),
        F("result", _l("Implementation, assessment and acceptance results"), "textarea", required=True),
    )),
    Section("financing", _l("Financing and climate information (listed companies and bond issuers)"), (
        F("climate_info", _l("Climate-change response and ecological protection of funded projects"), "textarea"),
    ), (
        Table("financing", _l("Financing during the year"), (
            F("form", _l("Financing form"), required=True),
            F("amount_yuan", _l("Amount"), "number", unit="元", required=True),
            F("use", _l("Use of funds")),
        )),
    ), only_for="financing"),
    Section("other", _l("Other environmental information required by law"), (
        F("other_info", _l("Other information"), "textarea", required=True),
    )),
)
SECTION_BY_CODE = {s.code: s for s in SECTIONS}

TRIGGER_FIELDS: dict[Trigger, tuple[Field, ...]] = {
    Trigger.PERMIT_CHANGE: (F("permit_type", _l("Permit type"), required=True),
                            F("permit_no", _l("Permit number"), required=True),
                            F("event", _l("Event"), "choice", required=True, choices=("准予", "变更", "延续", "撤销")),
                            F("decided_on", _l("Decision date"), "date", required=True),
                            F("authority", _l("Authority"), required=True)),
    Trigger.ADMIN_PENALTY: (F("decided_on", _l("Decision date"), "date", required=True),
                            F("authority", _l("Authority"), required=True),
                            F("facts", _l("Violation facts"), "textarea", required=True),
                            F("legal_basis", _l("Legal basis"), required=True),
                            F("penalty_type", _l("Penalty type"), required=True),
                            F("amount_yuan", _l("Fine"), "number", unit="元"),
                            F("rectification", _l("Rectification"), "textarea")),
    Trigger.DETENTION: (F("position", _l("Position of the person (no personal ID)"), required=True),
                        F("case", _l("Case"), "textarea", required=True),
                        F("decided_on", _l("Decision date"), "date", required=True)),
    Trigger.CRIMINAL: (F("case_no", _l("Case number"), required=True), F("court", _l("Court"), required=True),
                       F("judgment", _l("Judgment summary"), "textarea", required=True)),
    Trigger.DAMAGE_COMPENSATION: (F("agreement", _l("Agreement or judgment"), required=True),
                                  F("amount_yuan", _l("Amount"), "number", unit="元"),
                                  F("restoration", _l("Restoration status"), "textarea", required=True)),
    Trigger.EMERGENCY: (F("occurred_at", _l("Time"), required=True), F("place", _l("Place"), required=True),
                        F("pollutants", _l("Pollutants"), required=True),
                        F("impact", _l("Impact"), "textarea", required=True),
                        F("measures", _l("Measures taken"), "textarea", required=True)),
    Trigger.CHANGE: (F("basis", _l("Main basis for the change"), "textarea", required=True),),
}
TRIGGER_LABELS = {
    Trigger.PERMIT_CHANGE: _l("Environmental permit granted, changed, renewed or revoked"),
    Trigger.ADMIN_PENALTY: _l("Administrative penalty"),
    Trigger.DETENTION: _l("Administrative detention of a responsible person"),
    Trigger.CRIMINAL: _l("Criminal liability"),
    Trigger.DAMAGE_COMPENSATION: _l("Ecological damage compensation"),
    Trigger.EMERGENCY: _l("Sudden environmental incident"),
    Trigger.CHANGE: _l("Change to disclosed information"),
}
# Triggers whose report is due TEMPORARY_WORKING_DAYS after the legal document arrives (Art. 17).
DEADLINE_TRIGGERS = frozenset(set(Trigger) - {Trigger.EMERGENCY, Trigger.CHANGE})


def applicable_sections(flags: Mapping[str, bool]) -> list[Section]:
    return [s for s in SECTIONS if s.applies(flags)]


def empty_section() -> dict:
    return {"state": "empty", "reason": "", "data": {}, "prefill": {}, "overrides": {}}


# --- state machine ----------------------------------------------------------------------------------------------

# (status, action) -> new status. Absent pairs are refused; "delete" appears nowhere: nothing is ever deleted.
TRANSITIONS: dict[tuple[ReportStatus, str], ReportStatus] = {
    (ReportStatus.DRAFT, "edit"): ReportStatus.DRAFT,
    (ReportStatus.DRAFT, "submit"): ReportStatus.PUBLISHED,
    (ReportStatus.PUBLISHED, "correct"): ReportStatus.CORRECTED,
    (ReportStatus.CORRECTED, "correct"): ReportStatus.CORRECTED,
}


def transition(status: ReportStatus, action: str) -> ReportStatus:
    """The state after `action`, or InvalidTransition: no edit after submission, corrections only by CHANGE."""
    try:
        return TRANSITIONS[(ReportStatus(status), action)]
    except KeyError:
        if action == "delete":
            raise InvalidTransition(str(_l("Disclosure reports are never deleted; file a change report instead.")))
        if action in ("edit", "submit"):
            raise InvalidTransition(str(_l("This report is already published and cannot be changed; file a change "
                                           "report (临时报告·变更) to correct it.")))
        raise InvalidTransition(str(_l("Only a published report can be corrected.")))


# --- deadlines --------------------------------------------------------------------------------------------------

def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(part) for part in text.split("-"))
    return month, day


def annual_due_date(year: int, region_code: str, default: str = DEFAULT_ANNUAL_DEADLINE,
                    per_jurisdiction: Mapping[str, str] | None = None) -> date:
    """The annual report for `year` is due on the configured day of year+1 (15 March by default, inclusive, Art. 19);
    a jurisdiction may set an earlier day (Shenzhen: 10 February). The longest matching region prefix wins.
    A fixed calendar date is not a period, so it does not move off a weekend."""
    chosen = default
    best = -1
    for prefix, value in (per_jurisdiction or {}).items():
        if region_code.startswith(prefix) and len(prefix) > best:
            chosen, best = value, len(prefix)
    month, day = _month_day(chosen)
    return date(year + 1, month, day)


def temporary_due_date(received_on: date, trigger: Trigger, is_workday: wd.IsWorkday) -> date | None:
    """Five working days after the legal document arrived (the day of receipt not counted); none for incidents and
    changes, which order 24 gives no such clock."""
    if trigger not in DEADLINE_TRIGGERS:
        return None
    return wd.add_working_days(received_on, TEMPORARY_WORKING_DAYS, is_workday)


PRE_LIST_WORKING_DAYS = 10  # Art. 20


def pre_list_due_date(received_on: date, list_published_on: date | None, regular_due: date | None,
                      is_workday: wd.IsWorkday) -> date | None:
    """Art. 20: an event of the list year received before the enterprise list was published is disclosed within
    10 working days of the publication (the publication day not counted); otherwise the regular clock applies."""
    if regular_due is None or list_published_on is None or received_on >= list_published_on:
        return regular_due
    if received_on.year != list_published_on.year:
        return regular_due
    return wd.add_working_days(list_published_on, PRE_LIST_WORKING_DAYS, is_workday)


def obligation_status(due_on: date, submitted_on: date | None, today: date) -> ObligationStatus:
    """ON_TIME / LATE once filed (the due day itself is on time); PENDING until the due day ends, then MISSING."""
    if submitted_on is not None:
        return ObligationStatus.ON_TIME if submitted_on <= due_on else ObligationStatus.LATE
    return ObligationStatus.PENDING if today <= due_on else ObligationStatus.MISSING


def reminder_offset(due_on: date, today: date) -> int | None:
    """30, 7 or 1 when today is that many days before the due date; otherwise None."""
    days = (due_on - today).days
    return days if days in REMINDER_DAYS else None


# --- validation -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Issue:
    code: str  # stable: a warning is acknowledged by its code
    section: str
    field: str
    message: str


@dataclass
class Check:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def unacknowledged(self, acknowledged: list[str] | set[str]) -> list[Issue]:
        return [w for w in self.warnings if w.code not in set(acknowledged)]


def parse_number(raw: Any) -> Decimal | None:
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text)
    if not value.is_finite():
        raise ValueError(text)
    return value


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def check_value(f: Field, value: Any, uscc: str = "") -> str | None:
    """The hard error for one value, or None. Empty values are the caller's business (required)."""
    if _blank(value):
        return None
    text = str(value).strip()
    limit = 5000 if f.kind == "textarea" else 500
    if len(text) > limit:
        return str(_l("%(n)d characters; at most %(max)d are allowed.", n=len(text), max=limit))
    if f.kind == "number":
        try:
            number = parse_number(text)
        except ValueError:
            return str(_l("“%(v)s” is not a number; write digits only, e.g. 12.5.", v=text))
        if number is not None and number < 0:
            return str(_l("Must not be negative."))
        if f.max_value is not None and number is not None and number > f.max_value:
            return str(_l("Must not exceed %(max)s.", max=f.max_value))
    elif f.kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return str(_l("Write the date as YYYY-MM-DD."))
    elif f.kind == "uscc":
        return check_uscc(text).error
    elif f.kind == "permit_no":
        return check_permit_no(text, uscc or None).error
    elif f.kind == "bool" and text not in ("yes", "no"):
        return str(_l("Choose yes or no."))
    elif f.kind == "choice" and text not in f.choices:
        return str(_l("Choose one of: %(c)s.", c="、".join(f.choices)))
    return None


def check_fields(section: str, fields: tuple[Field, ...], data: Mapping[str, Any], uscc: str = "",
                 prefix: str = "") -> list[Issue]:
    issues = []
    for f in fields:
        value = data.get(f.name)
        name = prefix + f.name
        if f.required and _blank(value):
            issues.append(Issue(f"{section}.{name}.required", section, name,
                                str(_l("%(label)s is required.", label=f.label))))
            continue
        problem = check_value(f, value, uscc)
        if problem:
            issues.append(Issue(f"{section}.{name}.invalid", section, name, f"{f.label}: {problem}"))
    return issues


def _num(row: Mapping[str, Any], key: str) -> Decimal | None:
    try:
        return parse_number(row.get(key))
    except ValueError:
        return None


def _emission_checks(rows: list[Mapping[str, Any]], check: Check) -> None:
    for i, row in enumerate(rows, start=1):
        where = f"{row.get('outlet_code', '')} {row.get('pollutant', '')}".strip()
        annual, permitted = _num(row, "annual_t"), _num(row, "permitted_t")
        mean, peak, limit = _num(row, "avg_conc"), _num(row, "max_conc"), _num(row, "limit")
        if mean is not None and peak is not None and mean > peak:
            check.errors.append(Issue(f"pollution.emissions.{i}.mean_above_max", "pollution", f"emissions-{i}",
                                      str(_l("%(w)s: the mean concentration is above the maximum.", w=where))))
        if annual is not None and permitted is not None and annual > permitted:
            check.warnings.append(Issue(f"pollution.emissions.{i}.above_permitted", "pollution", f"emissions-{i}",
                                        str(_l("%(w)s: the annual emission %(a)s t is above the permitted %(p)s t.",
                                               w=where, a=annual, p=permitted))))
        exceed = _num(row, "exceedances") or Decimal(0)
        if peak is not None and limit is not None and peak > limit and exceed == 0:
            check.warnings.append(Issue(f"pollution.emissions.{i}.peak_without_exceedance", "pollution",
                                        f"emissions-{i}",
                                        str(_l("%(w)s: the maximum %(m)s is above the limit %(l)s but no exceedance "
                                               "is reported.", w=where, m=peak, l=limit))))


def _waste_checks(data: Mapping[str, Any], rows: list[Mapping[str, Any]], check: Check) -> None:
    for i, row in enumerate(rows, start=1):
        generated = _num(row, "generated_t")
        handled = sum((_num(row, k) or Decimal(0)) for k in ("stored_t", "utilised_t", "disposed_t"))
        if generated is not None and handled > generated:
            check.warnings.append(Issue(f"pollution.waste.{i}.balance", "pollution", f"waste-{i}",
                                        str(_l("%(w)s: stored + utilised + disposed (%(h)s t) exceed the %(g)s t "
                                               "generated; explain stock from earlier years in the summary.",
                                               w=row.get("name", ""), h=handled, g=generated))))
    total = _num(data, "hazardous_waste_total_t")
    hazardous = [r for r in rows if not _blank(r.get("hw_code"))]
    if total is not None and hazardous:
        listed = sum((_num(r, "generated_t") or Decimal(0)) for r in hazardous)
        if listed != total:
            check.warnings.append(Issue("pollution.hazardous_waste_total_t.sum", "pollution",
                                        "hazardous_waste_total_t",
                                        str(_l("The hazardous waste total %(t)s t differs from the sum of the "
                                               "hazardous waste table, %(s)s t.", t=total, s=listed))))


POLLUTANT_CODE_RE = re.compile(r"\(([A-Za-z0-9]+)\)\s*$")


def _monitoring_checks(rows: list[Mapping[str, Any]], monitoring: Mapping[tuple[str, str], dict],
                       check: Check) -> None:
    """Cross-check declared figures with the portal's own monitoring data (roll-ups and exceedance incidents)."""
    for i, row in enumerate(rows, start=1):
        match = POLLUTANT_CODE_RE.search(str(row.get("pollutant", "")))
        known = monitoring.get((str(row.get("outlet_code", "")).strip(), match.group(1))) if match else None
        if not known:
            continue
        where = f"{row.get('outlet_code', '')} {row.get('pollutant', '')}".strip()
        declared = _num(row, "exceedances") or Decimal(0)
        if known.get("exceedances") and declared < known["exceedances"]:
            check.warnings.append(Issue(f"pollution.emissions.{i}.monitoring_exceedances", "pollution",
                                        f"emissions-{i}",
                                        str(_l("%(w)s: the portal's monitoring data show %(n)d exceedance(s) this "
                                               "year; the report declares %(d)s.", w=where, n=known["exceedances"],
                                               d=declared))))
        peak, seen = _num(row, "max_conc"), known.get("max")
        if peak is not None and seen is not None and peak < Decimal(str(seen)):
            check.warnings.append(Issue(f"pollution.emissions.{i}.monitoring_max", "pollution", f"emissions-{i}",
                                        str(_l("%(w)s: the declared maximum %(d)s is below the maximum in the "
                                               "portal's monitoring data, %(m)s.", w=where, d=peak, m=seen))))


def validate_report(sections: Mapping[str, dict], flags: Mapping[str, bool], uscc: str,
                    monitoring: Mapping[tuple[str, str], dict] | None = None) -> Check:
    """Hard errors block submission; warnings must each be acknowledged. Every applicable section must be filled or
    declared not applicable with a reason (Art. 16). `monitoring` maps (outlet code, pollutant code) to the
    portal's own figures for the year, when it has them."""
    check = Check()
    for s in applicable_sections(flags):
        entry = sections.get(s.code) or empty_section()
        state = entry.get("state", "empty")
        if state == "not_applicable":
            if not s.may_be_empty:
                check.errors.append(Issue(f"{s.code}.state", s.code, "state",
                                          str(_l("“%(s)s” cannot be declared not applicable.", s=s.title))))
            elif _blank(entry.get("reason")):
                check.errors.append(Issue(f"{s.code}.reason", s.code, "reason",
                                          str(_l("“%(s)s”: give the reason it does not apply.", s=s.title))))
            continue
        if state != "filled":
            check.errors.append(Issue(f"{s.code}.state", s.code, "state",
                                      str(_l("“%(s)s” is empty: fill it in or declare it not applicable with a "
                                             "reason.", s=s.title))))
            continue
        data = entry.get("data") or {}
        check.errors.extend(check_fields(s.code, s.fields, data, uscc))
        for table in s.tables:
            for i, row in enumerate(data.get(table.name) or [], start=1):
                check.errors.extend(check_fields(s.code, table.columns, row, uscc, prefix=f"{table.name}-{i}-"))
        check.errors.extend(_override_issues(s, entry))
        if s.code == "pollution":
            _emission_checks(data.get("emissions") or [], check)
            _monitoring_checks(data.get("emissions") or [], monitoring or {}, check)
            _waste_checks(data, data.get("waste") or [], check)
    return check


def prefill_changed(prefilled: Any, current: Any) -> bool:
    """Whether the user changed a pre-filled value. For tables only the pre-filled cells count: completing a row
    (measured concentrations next to a pre-filled limit) or adding rows is not a change; editing or removing is."""
    if not isinstance(prefilled, list):
        return (current or "") != (prefilled or "")
    rows = current if isinstance(current, list) else []
    if len(rows) < len(prefilled):
        return True
    return any({k: row.get(k, "") for k in pre} != pre for pre, row in zip(prefilled, rows))


def _override_issues(s: Section, entry: Mapping[str, Any]) -> list[Issue]:
    """A pre-filled value that was changed needs a reason (the source stays on record)."""
    issues = []
    for name, prefilled in (entry.get("prefill") or {}).items():
        current = (entry.get("data") or {}).get(name)
        if (prefill_changed(prefilled.get("value"), current)
                and _blank((entry.get("overrides") or {}).get(name, {}).get("reason"))):
            issues.append(Issue(f"{s.code}.{name}.override", s.code, name,
                                str(_l("You changed a value taken from %(src)s: give the reason.",
                                       src=prefilled.get("source", "")))))
    return issues


# --- canonical content and digest -------------------------------------------------------------------------------

def canonical_json(content: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the same content always gives the same bytes and digest."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


def normalise_digest(raw: str) -> str | None:
    text = re.sub(r"\s", "", raw or "").lower()
    return text if DIGEST_RE.match(text) else None


# --- corrections ------------------------------------------------------------------------------------------------

def flat_fields(sections: Mapping[str, dict]) -> dict[str, Any]:
    """{"section.field": value} for the scalar fields of filled sections (what a CHANGE report can correct)."""
    flat = {}
    for s in SECTIONS:
        entry = sections.get(s.code)
        if not entry or entry.get("state") != "filled":
            continue
        for f in s.fields:
            flat[f"{s.code}.{f.name}"] = (entry.get("data") or {}).get(f.name, "")
    return flat


def diff_changes(original: Mapping[str, Any], proposed: Mapping[str, Any],
                 reasons: Mapping[str, str]) -> tuple[list[dict], dict[str, str]]:
    """Changed fields [{key, old, new, reason}] and errors {key: message} for a change without a reason."""
    changes, errors = [], {}
    for key, new in proposed.items():
        old = original.get(key, "")
        if str(new).strip() == str(old).strip():
            continue
        reason = (reasons.get(key) or "").strip()
        if not reason:
            errors[key] = str(_l("Give the reason for this change."))
        changes.append({"key": key, "old": old, "new": str(new).strip(), "reason": reason})
    return changes, errors



# --- annual enterprise list (企业名单, Art. 7–10) -----------------------------------------------------------------

NOTICE_WORKING_DAYS = 10  # Art. 9: public notice of the draft list for at least 10 working days
BASES = {"key_unit": "重点排污单位", "clean_prod": "实施强制性清洁生产审核的企业", "listed": "上市公司（含合并报表范围内子公司）",
         "bond": "发债企业", "other": "法律法规规定的其他企业"}
ART8_TRIGGERS = {"criminal": "因生态环境违法行为被追究刑事责任", "fine_ge_100k": "被处以十万元以上罚款",
                 "daily_penalty": "被实施按日连续处罚", "production_limit": "被实施限制生产、停产整治",
                 "permit_revoked": "被吊销生态环境相关许可证件", "detention": "相关人员被处以行政拘留"}
LIST_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "edit"): "draft", ("public_notice", "edit"): "public_notice",
    ("draft", "start_notice"): "public_notice", ("public_notice", "publish"): "published",
}


def list_transition(status: str, action: str) -> str:
    """Entries change only before publication; enterprises that qualify later go onto next year's list (Art. 9)."""
    try:
        return LIST_TRANSITIONS[(str(status), action)]
    except KeyError:
        if action == "edit":
            raise InvalidTransition(str(_l("This list is published and can no longer change; an enterprise that "
                                           "qualifies now goes onto next year's list.")))
        if action == "publish":
            raise InvalidTransition(str(_l("Publish the list only after its public notice.")))
        raise InvalidTransition(str(_l("The public notice has already started.")))


def notice_end(started_on: date, is_workday: wd.IsWorkday) -> date:
    """The last day of a ≥ 10-working-day notice (the first day not counted); publication may follow it."""
    return wd.add_working_days(started_on, NOTICE_WORKING_DAYS, is_workday)


def check_entry(bases: list[str], triggers: list[str]) -> dict[str, str]:
    """A basis is required; listed companies and bond issuers are on the list only with an Art. 8 event of the
    previous year, and Art. 8 events apply to no other basis."""
    errors = {}
    if not bases or any(b not in BASES for b in bases):
        errors["bases"] = str(_l("Choose at least one basis for listing."))
    if any(t not in ART8_TRIGGERS for t in triggers):
        errors["triggers"] = str(_l("Unknown Art. 8 event."))
    elif {"listed", "bond"} & set(bases) and not triggers:
        errors["triggers"] = str(_l("A listed company or bond issuer is listed only with an Art. 8 event of the "
                                    "previous year: choose the event(s)."))
    elif triggers and not {"listed", "bond"} & set(bases):
        errors["triggers"] = str(_l("Art. 8 events apply only to listed companies and bond issuers."))
    return errors
