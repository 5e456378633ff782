"""Labels shared by the disclosure templates, and the copy-of-record PDF: rendered once per published report, by the
"disclosure-copies" job soon after signing (or by the first download, whichever comes first) and then kept."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.core.links import public_url
from portal.disclosures import forms as F
from portal.disclosures import corrections, prefill, rules, services, supervision
from portal.disclosures.models import AnnualReport, ReportStatus, TemporaryReport
from portal.extensions import db
from portal.reports.pdf import css_page_counter, render_pdf
from portal.reports.services import qr_data_uri


def template_labels() -> dict:
    return {"R": rules, "SOURCE_LABELS": {
        prefill.SOURCE_REGISTRY: _("registry"), prefill.SOURCE_PERMITS: _("permit registry"),
        prefill.SOURCE_OUTLETS: _("outlets and permitted limits"), prefill.SOURCE_KEY_UNITS: _("key-unit list"),
        prefill.SOURCE_TEMPORARY: _("temporary reports published on this portal"),
        prefill.SOURCE_PENALTIES: _("penalty decisions recorded on this portal"),
        prefill.SOURCE_MONITORING: _("outlets, permitted limits and the portal's self-monitoring data"),
        prefill.SOURCE_CREDIT: _("environmental credit evaluation results published on this portal"),
        prefill.SOURCE_NO_CREDIT: _("credit evaluations on this portal (no final evaluation yet)")},
        "STATUS_LABELS": {"draft": _("Draft"), "published": _("Disclosed"), "corrected": _("Corrected"),
                          "pending": _("Awaiting disclosure"), "on_time": _("On time"), "late": _("Late"),
                          "missing": _("Missing")},
        "STATE_LABELS": {"empty": _("Empty"), "filled": _("Filled"), "not_applicable": _("Not applicable")},
        "report_digest": supervision.obligation_digest, "TRIGGER_LABELS": rules.TRIGGER_LABELS,
        "CHECK_LABELS": F.CHECK_LABELS, "FLAG_LABELS": F.FLAG_LABELS, "describe_change": describe_change,
        "code_name": code_name}


def field_labels() -> dict[str, str]:
    """"section.field" and "data.field" keys (as in CHANGE reports) → readable labels."""
    labels = {}
    for s in rules.SECTIONS:
        for f in s.fields:
            labels[f"{s.code}.{f.name}"] = f"{s.title} · {f.label}"
    for fields in rules.TRIGGER_FIELDS.values():
        for f in fields:
            labels[f"data.{f.name}"] = str(f.label)
    return labels


def coded_columns() -> dict[str, dict[str, str]]:
    """Table columns whose stored values are codes (the registry's permit class, a temporary report's trigger):
    code → name in the reader's language, so no copy prints `key` or `permit_change`."""
    from portal.enterprises.forms import PERMIT_CLASS_LABELS

    return {"management_class": {k.value: str(v) for k, v in PERMIT_CLASS_LABELS.items()},
            "trigger": {k.value: str(v) for k, v in rules.TRIGGER_LABELS.items()}}


def code_name(column: str, value) -> str:
    """A field or cell as printed: a coded column's name for its code, key-unit type codes (water, air, …) by their
    list names, anything else as stored."""
    text = str(value if value is not None else "").strip()
    if column == "key_unit_types":
        parts = [p.strip() for p in text.replace(",", "、").split("、") if p.strip()]
        return "、".join(rules.KEY_UNIT_NAMES.get(p, p) for p in parts)
    return coded_columns().get(column, {}).get(text, text)


def _cell(col, value) -> str:
    text = code_name(col.name, value)
    if not text:
        return "—"
    if col.kind == "bool":
        return _("Yes") if text == "yes" else _("No")
    return f"{text} {col.unit}" if col.unit else text


def _row_text(table, values: dict) -> str:
    return "；".join(f"{c.label}：{_cell(c, values.get(c.name))}" for c in table.columns
                    if str(values.get(c.name) or "").strip())


def describe_change(ch: dict, labels: dict | None = None) -> dict:
    """One entry of a CHANGE report as the public reads it: where (section, table, row by number and key columns,
    column), the value before and after, and the reason. Scalar fields keep their "section · field" label."""
    if not corrections.is_table_change(ch):
        labels = labels if labels is not None else field_labels()
        return {"kind": "field", "where": labels.get(ch["key"], ch["key"]), "old": ch.get("old") or "—",
                "new": ch.get("new") or "—", "reason": ch.get("reason", "")}
    try:
        section, table = corrections.spec(f"{ch['section']}.{ch['table']}")
    except (KeyError, StopIteration):
        return {"kind": ch["kind"], "where": ch["key"], "old": str(ch.get("old") or "—"),
                "new": str(ch.get("new") or "—"), "reason": ch.get("reason", "")}
    ident = " · ".join(v for v in (ch.get("row_key") or {}).values() if v) or "—"
    row = (_("new row (%(k)s)", k=ident) if ch["kind"] == "add_row"
           else _("row %(n)d (%(k)s)", n=ch["row"], k=ident))
    where = f"{section.title} · {table.label} · {row}"
    if ch["kind"] == "cell":
        col = next((c for c in table.columns if c.name == ch["column"]), None)
        if col is None:
            return {"kind": "cell", "where": f"{where} · {ch['column']}", "old": ch["old"] or "—",
                    "new": ch["new"] or "—", "reason": ch.get("reason", "")}
        return {"kind": "cell", "where": f"{where} · {col.label}", "old": _cell(col, ch["old"]),
                "new": _cell(col, ch["new"]), "reason": ch.get("reason", "")}
    if ch["kind"] == "add_row":
        return {"kind": "add_row", "where": where, "old": _("(no such row)"), "new": _row_text(table, ch["new"]),
                "reason": ch.get("reason", "")}
    return {"kind": "remove_row", "where": where, "old": _row_text(table, ch["old"]), "new": _("(row removed)"),
            "reason": ch.get("reason", "")}


def render_copy(report) -> bytes:
    url = public_url("disclosures.verify", digest=report.sha256)
    return render_pdf("disclosures/pdf.html", **template_labels(), report=report, c=services.content(report),
                      verify_url=url, qr_uri=qr_data_uri(url), labels=field_labels(), in_pdf=True,
                      footer_css=css_page_counter(_("Page %(page)s of %(pages)s")))


def render_pending_copies(limit: int = 20) -> int:
    """Job: render the copies of record not made yet, so nobody waits for a long report's PDF (a 13-page report
    takes seconds). Links in the PDF are built against PUBLIC_BASE_URL."""
    done = 0
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        for model in (AnnualReport, TemporaryReport):
            stmt = (sa.select(model).where(model.status != ReportStatus.DRAFT, model.pdf_sha256.is_(None))
                    .order_by(model.submitted_at).limit(limit))
            for report in db.session.scalars(stmt).all():
                services.copy_of_record(report, render_copy)
                done += 1
    return done
