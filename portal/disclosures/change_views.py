"""The CHANGE report form (Art. 18): the enterprise corrects fields and table cells of its published report, adds
and removes rows, each with a reason. Routes on the disclosures blueprint; object checks as in views.py."""
from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.disclosures import copies, corrections, rules, services
from portal.disclosures.corrections import MAX_ADDED_ROWS, RowEdit, TableEdit
from portal.disclosures.models import TemporaryReport
from portal.disclosures.views import _fail, _my_published, bp
from portal.enterprises.models import Enterprise
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db


def _parse_tables(tables: dict[str, list[dict]]) -> dict[str, TableEdit]:
    """The proposed tables from the form: every original row (a cell absent from the form keeps its value), the
    removal marks, the reasons, and the added rows that are not blank."""
    form = request.form
    edits = {}
    for ref, rows in tables.items():
        _, table = corrections.spec(ref)
        edit = TableEdit()
        for n, row in enumerate(rows, start=1):
            edit.rows.append(RowEdit(
                values={c.name: form.get(f"c-{ref}-{n}-{c.name}", row.get(c.name, "")) for c in table.columns},
                remove=bool(form.get(f"rm-{ref}-{n}")), reason=form.get(f"r-{ref}-{n}", "")))
        count = min(form.get(f"add-{ref}", 0, type=int) or 0, MAX_ADDED_ROWS)
        for j in range(1, count + 1):
            added = RowEdit(values={c.name: form.get(f"a-{ref}-{j}-{c.name}", "") for c in table.columns},
                            reason=form.get(f"ar-{ref}-{j}", ""))
            if any(v.strip() for v in added.values.values()):
                edit.added.append(added)
        edits[ref] = edit
    return edits


def _grids(tables: dict[str, list[dict]], edits: dict[str, TableEdit], errors: dict[str, str]) -> list[dict]:
    """What the form shows per table: each original row with its proposed values, then the added rows and one blank
    row. A table with a change or an error is shown open."""
    grids = []
    for ref, rows in tables.items():
        section, table = corrections.spec(ref)
        edit = edits.get(ref) or TableEdit()
        shown = []
        for n, row in enumerate(rows, start=1):
            e = edit.rows[n - 1] if n - 1 < len(edit.rows) else RowEdit(values=dict(row))
            changed = e.remove or any(str(e.values.get(c.name, "")).strip() != str(row.get(c.name, "")).strip()
                                      for c in table.columns)
            shown.append({"n": n, "values": e.values, "old": row, "remove": e.remove, "reason": e.reason,
                          "changed": changed})
        has_error = any(key.startswith(f"{ref}.") for key in errors)
        grids.append({"ref": ref, "section": section, "table": table, "rows": shown,
                      "added": [*edit.added, RowEdit()],
                      "open": has_error or bool(edit.added) or any(r["changed"] for r in shown)})
    return grids


def change_page(ent: Enterprise, original, report: TemporaryReport | None):
    fields = services.original_fields(original)
    tables = services.original_tables(original)
    errors: dict[str, str] = {}
    if request.method == "POST":
        proposed = {key: request.form.get(f"new-{key}", old) for key, old in fields.items()}
        reasons = {key: request.form.get(f"reason-{key}", "") for key in fields}
        edits = _parse_tables(tables)
        try:
            report = services.save_change(current_user, ent, original, proposed, reasons,
                                          request.form.get("basis", ""), report, tables=edits)
            db.session.commit()
        except DomainError as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {}
            _fail(exc)
        else:
            flash(_("Change report draft saved; a signatory signs it to publish."), "success")
            return redirect(url_for(".temporary_edit", temp_id=report.id))
    else:
        edits = corrections.edits_from_changes(tables, report.changes if report else [])
    current = {c["key"]: c for c in (report.changes if report else []) if not corrections.is_table_change(c)}
    sections = (json.loads(original.content_json or "{}").get("sections") or {}) if original.kind == "annual" else {}
    return render_template("disclosures/change_form.html", original=original, fields=fields, current=current,
                           not_applicable=rules.not_applicable_sections(sections),
                           report=report, labels=copies.field_labels(), form_values=request.form, errors=errors,
                           grids=_grids(tables, edits, errors))


@bp.route("/my/disclosures/change/<digest>", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_EDIT)
def change_new(digest: str):
    original = _my_published(digest)
    return change_page(original.enterprise, original, None)
