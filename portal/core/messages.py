"""Texts the system writes at the moment of an event, stored as a message code with JSON parameters and rendered in
the reader's language when shown (issue 21).

A producer passes `message=(code, params)` (for example to credit.evidence.add_evidence); the row keeps the code and
the parameters, plus a Chinese rendering in its free-text column for exports, search and old readers. Pages render
with `render_message` (template filter `message_text`, and `evidence_title` for credit evidence), so a Chinese page
never shows "w01018 manual 85" and an English page never shows "企业开放日：…".

Parameters are plain JSON values. Some names are resolved in the reader's language when rendered: `pollutant`
(an HJ 212 code → its name), `basis` (what was compared with the limit), `frequency` (a monitoring frequency),
`rule` (an integrity rule id → its title), `category` (a complaint category). Unknown codes keep the stored text.
"""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from portal.extensions import db

MESSAGES = {
    "monitoring.exceedance": _l("%(pollutant)s: %(basis)s %(value)s above the limit"),
    "monitoring.gap": _l("Outlet %(outlet)s, %(pollutant)s: no valid hourly data for %(hours)s h"),
    "monitoring.silence": _l("Outlet %(outlet)s, device %(mn)s: nothing received for %(hours)s h and no "
                             "malfunction report"),
    "monitoring.manual_missing": _l("Outlet %(outlet)s, %(pollutant)s: no manual monitoring result for %(start)s to "
                                    "%(end)s (%(frequency)s)"),
    "monitoring.manual_late": _l("Manual monitoring results completed %(a)s to %(b)s published on %(p)s "
                                 "(first due %(d)s)"),
    "integrity.confirmed": _l("Monitoring data falsification clue confirmed on site (%(rule)s)"),
    "opendays.held": _l("Open day: %(facility)s (%(day)s)"),
    "complaints.substantiated": _l("Substantiated complaint %(no)s (%(category)s)"),
}

BASIS = {"hourly_mean": _l("hourly mean"), "daily_mean": _l("daily mean"), "range": _l("value outside the range"),
         "instant": _l("instant value"), "manual": _l("manual sample")}
FREQUENCY = {"daily": _l("daily"), "weekly": _l("weekly"), "monthly": _l("monthly"), "quarterly": _l("quarterly"),
             "half_yearly": _l("half-yearly"), "yearly": _l("yearly")}


def is_english() -> bool:
    return has_request_context() and str(get_locale()).startswith("en")


def local_name(obj: Any) -> str:
    """A reference row's name (region, industry, pollutant) in the reader's language; English falls back to Chinese."""
    if obj is None:
        return ""
    if is_english() and getattr(obj, "name_en", ""):
        return obj.name_en
    return obj.name


def pollutant_label(code: str | None) -> str:
    """An HJ 212 code as a name in the reader's language (the code itself when the reference table lacks it)."""
    from portal.reference.models import Pollutant

    if not code:
        return ""
    pollutant = db.session.get(Pollutant, code)
    return local_name(pollutant) if pollutant is not None else code


def _resolve(key: str, value: Any) -> Any:
    if key == "pollutant":
        return pollutant_label(str(value))
    if key == "basis" and value in BASIS:
        return str(BASIS[value])
    if key == "frequency" and value in FREQUENCY:
        return str(FREQUENCY[value])
    if key == "category":
        from portal.complaints.forms import CATEGORY_LABELS

        label = next((v for k, v in CATEGORY_LABELS.items() if str(getattr(k, "value", k)) == str(value)), None)
        return str(label) if label is not None else value
    if key == "rule":
        from portal.integrity import texts

        title = texts.RULE_TITLES.get(str(value))
        return str(title) if title else value
    if isinstance(value, float):
        return f"{value:g}"
    return value


def render_message(code: str | None, params: dict | None, fallback: str = "") -> str:
    """The message in the current language; the stored free text when the code is unknown or a parameter is missing."""
    template = MESSAGES.get(code or "")
    if template is None:
        return fallback
    try:
        return str(template) % {k: _resolve(k, v) for k, v in (params or {}).items()}
    except (KeyError, TypeError, ValueError):
        return fallback


def stored_text(code: str, params: dict) -> str:
    """The Chinese rendering kept in the row's free-text column (exports, search, readers without the catalogue)."""
    with force_locale("zh_CN"):
        return render_message(code, params, code)


def evidence_title(evidence: Any) -> str:
    """An evidence row's title in the reader's language (a dict, as in the credit JSON, is already rendered)."""
    if isinstance(evidence, dict):
        return evidence.get("title") or ""
    return render_message(getattr(evidence, "message_code", ""), getattr(evidence, "message_params", None),
                          evidence.title)


def rule_label(scheme: Any, line: Any) -> str:
    """A credit-ledger line's rule in the reader's language: the scheme's English label on English pages (the line
    keeps the Chinese label it was scored with)."""
    if is_english() and scheme is not None:
        rule = getattr(scheme, "rules_by_code", {}).get(line.rule_code)
        if rule is not None and rule.label_en and rule.label_en != rule.code:
            return rule.label_en
    return line.rule_label


# Free texts written before messages were stored as codes: the known shapes, parsed into code and parameters.
LEGACY = [
    ("monitoring.exceedance", re.compile(r"^(?P<pollutant>[A-Za-z][A-Za-z0-9]{1,11}) "
                                         r"(?P<basis>hourly_mean|daily_mean|range|instant|manual) "
                                         r"(?P<value>-?[0-9.]+(?:e[+-]?[0-9]+)?)$")),
    ("monitoring.gap", re.compile(r"^(?P<outlet>\S+) (?P<pollutant>\S+): no valid hourly data for (?P<hours>\d+) h$")),
    ("monitoring.silence", re.compile(r"^(?P<outlet>\S+) (?P<mn>\S+): nothing received for (?P<hours>\d+) h, "
                                      r"no Art\. 23 report$")),
    ("monitoring.manual_missing", re.compile(r"^(?P<outlet>\S+) (?P<pollutant>\S+): no manual result "
                                             r"(?P<start>\d{4}-\d\d-\d\d)–(?P<end>\d{4}-\d\d-\d\d) "
                                             r"\((?P<frequency>\w+)\)$")),
    ("monitoring.manual_late", re.compile(r"^Manual monitoring results completed (?P<a>\S+) to (?P<b>\S+) published "
                                          r"on (?P<p>\S+) \(first due (?P<d>\S+)\)$")),
    ("monitoring.manual_late", re.compile(r"^(?P<a>\d{4}-\d\d-\d\d)至(?P<b>\d{4}-\d\d-\d\d)完成的手工监测结果于"
                                          r"(?P<p>\d{4}-\d\d-\d\d)公开（最早应于(?P<d>\d{4}-\d\d-\d\d)前公开）$")),
    ("integrity.confirmed", re.compile(r"^监测数据弄虚作假线索经现场核查属实 \((?P<rule>[A-Z0-9]+)\)$")),
    ("opendays.held", re.compile(r"^企业开放日：(?P<facility>.+)（(?P<day>\d{4}-\d\d-\d\d)）$")),
]


def legacy_message(text: str) -> tuple[str, dict] | None:
    """(code, params) for a free text of a known shape, else None (the text stays as it is)."""
    for code, pattern in LEGACY:
        match = pattern.match(text or "")
        if match:
            params: dict[str, Any] = dict(match.groupdict())
            if "value" in params:
                params["value"] = float(params["value"])
            if "hours" in params:
                params["hours"] = int(params["hours"])
            return code, params
    return None


def migrate_evidence_titles(conn: sa.Connection, batch: int = 2000) -> int:
    """Give every evidence row without a message code the code and parameters its title's shape shows (migration
    0014_texts; safe to run again). Returns how many rows were converted."""
    evidence = sa.table("evidence", sa.column("id", sa.Integer), sa.column("title", sa.String),
                        sa.column("message_code", sa.String), sa.column("message_params", sa.JSON))
    converted, last_id = 0, 0
    while True:
        rows = conn.execute(sa.select(evidence.c.id, evidence.c.title)
                            .where(evidence.c.id > last_id, evidence.c.message_code == "")
                            .order_by(evidence.c.id).limit(batch)).all()
        if not rows:
            return converted
        last_id = rows[-1][0]
        updates = []
        for row_id, title in rows:
            parsed = legacy_message(title)
            if parsed:
                updates.append({"b_id": row_id, "b_code": parsed[0], "b_params": parsed[1]})
        if updates:
            conn.execute(evidence.update().where(evidence.c.id == sa.bindparam("b_id"))
                         .values(message_code=sa.bindparam("b_code"), message_params=sa.bindparam("b_params")),
                         updates)
            converted += len(updates)
