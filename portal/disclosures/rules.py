"""Pure disclosure rules (no database, request or app): the report state machine (DOMAIN §1.11), deadlines (§1.4),
obligation status, validation against the section catalogue (catalogue.py), canonical JSON + SHA-256, the
field-by-field diff of a correction (§1.8) and the enterprise-list rules (§1.2–1.3)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from portal.disclosures.catalogue import (  # noqa: F401  (re-exported: rules.SECTIONS etc. are the public names)
    DEADLINE_TRIGGERS, KEY_UNIT_NAMES, SECTION_BY_CODE, SECTIONS, TRIGGER_FIELDS, TRIGGER_LABELS, Field, Section, Table,
    applicable_sections, empty_section)
from portal.disclosures.models import ObligationStatus, ReportStatus, Trigger
from portal.enterprises.rules import check_permit_no, check_uscc
from portal.errors import InvalidTransition
from portal.workdays import rules as wd

COMMITMENT = ("企业负责人保证年度报告内容的真实、准确、完整，不存在虚假记载、误导性陈述或重大遗漏，"
              "并承担相应的法律责任")
CORRECTION_COMMITMENT = ("企业负责人保证本更正报告所更正的{title}（发布于{published_on}，SHA-256：{sha256}）的更正内容真实、"
                         "准确、完整，不存在虚假记载、误导性陈述或重大遗漏，并承担相应的法律责任")


def commitment_for(original=None) -> str:
    """The commitment signed with a report. A change report (Art. 18) names the report it corrects: its title,
    publication day and fingerprint, so the signed text binds the correction to exactly that original."""
    if original is None:
        return COMMITMENT
    title = (f"{original.year}年度环境信息依法披露报告" if original.kind == "annual" else "临时环境信息依法披露报告")
    published = original.submitted_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat() \
        if original.submitted_at else "—"
    return CORRECTION_COMMITMENT.format(title=title, published_on=published, sha256=original.sha256 or "—")


TEMPORARY_WORKING_DAYS = 5  # Art. 17
REMINDER_DAYS = (30, 7, 1)
DEFAULT_ANNUAL_DEADLINE = "03-15"  # Art. 19, inclusive


# --- state machine ----------------------------------------------------------------------------------------------

# (status, action) -> new status. Absent pairs are refused; "delete" appears nowhere: no signed report is ever
# deleted. Only an unsigned draft may be discarded (it was never disclosed).
TRANSITIONS: dict[tuple[ReportStatus, str], ReportStatus] = {
    (ReportStatus.DRAFT, "edit"): ReportStatus.DRAFT,
    (ReportStatus.DRAFT, "submit"): ReportStatus.PUBLISHED,
    (ReportStatus.DRAFT, "discard"): ReportStatus.DRAFT,  # the enterprise withdraws its unsigned draft (row removed)
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
        if action == "discard":
            raise InvalidTransition(str(_l("Only an unsigned draft can be discarded. This report is signed and "
                                           "published: it is never deleted; to correct it, file a change report.")))
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


RANGE_RE = re.compile(r"^\s*([0-9.,]+)\s*[-~～–—至]\s*([0-9.,]+)\s*$")


def format_range(low: Any, high: Any) -> str:
    """A range as the report writes it (pH 6-9)."""
    return f"{low}-{high}"


def _check_range(text: str) -> str | None:
    """A number, or a range "low-high" (pH and other range limits) with low <= high, both non-negative."""
    match = RANGE_RE.match(text)
    parts = match.groups() if match else (text,)
    try:
        numbers = [parse_number(p) for p in parts]
    except ValueError:
        numbers = [None]
    if any(n is None for n in numbers):
        return str(_l("“%(v)s” is neither a number nor a range; write e.g. 12.5, or 6-9 for pH.", v=text))
    if any(n < 0 for n in numbers):
        return str(_l("Must not be negative."))
    if len(numbers) == 2 and numbers[0] > numbers[1]:
        return str(_l("The range %(v)s starts above its end; write the lower value first.", v=text))
    return None


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
    elif f.kind == "range":
        return _check_range(text)
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
    """{"section.field": value} for the scalar fields a CHANGE report can correct: those of filled sections, and
    those of sections declared not applicable (value ""), which a correction may turn into content (Art. 18)."""
    flat = {}
    for s in SECTIONS:
        entry = sections.get(s.code)
        if not entry or entry.get("state") not in ("filled", "not_applicable"):
            continue
        if entry.get("state") == "not_applicable" and s.only_for:
            continue  # a section for a kind of enterprise (financing) the report did not apply is not offered
        for f in s.fields:
            flat[f"{s.code}.{f.name}"] = (entry.get("data") or {}).get(f.name, "")
    return flat


def not_applicable_sections(sections: Mapping[str, dict]) -> dict[str, str]:
    """{section code: reason} of the sections a published report declared not applicable."""
    return {code: str(entry.get("reason") or "") for code, entry in sections.items()
            if isinstance(entry, Mapping) and entry.get("state") == "not_applicable"}


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


def check_entry(bases: list[str], triggers: list[str], in_period: bool = False) -> dict[str, str]:
    """A basis is required; listed companies and bond issuers are on the list only with an Art. 8 event of the
    previous year or inside the 3-year period of an earlier one (`in_period`, Art. 10), and Art. 8 events apply to no
    other basis."""
    errors = {}
    if not bases or any(b not in BASES for b in bases):
        errors["bases"] = str(_l("Choose at least one basis for listing."))
    if any(t not in ART8_TRIGGERS for t in triggers):
        errors["triggers"] = str(_l("Unknown Art. 8 event."))
    elif {"listed", "bond"} & set(bases) and not triggers and not in_period:
        errors["triggers"] = str(_l("A listed company or bond issuer is listed only with an Art. 8 event of the "
                                    "previous year: choose the event(s)."))
    elif triggers and not {"listed", "bond"} & set(bases):
        errors["triggers"] = str(_l("Art. 8 events apply only to listed companies and bond issuers."))
    return errors
