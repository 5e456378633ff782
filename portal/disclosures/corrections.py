"""Corrections of the tables of a published annual report (DOMAIN §1.8, Art. 18), pure: a CHANGE report may correct
cells, add rows and remove rows; each change names the section, the table, the row (its number in the original
and its key columns), the column, the old and the new value and the reason. The original is never edited: these
are the entries of the CHANGE report's `changes` list, frozen and hashed with it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from portal.disclosures.catalogue import SECTION_BY_CODE, SECTIONS, Section, Table
from portal.disclosures.rules import check_value

MAX_ADDED_ROWS = 50  # per table and change report


@dataclass
class RowEdit:
    """One row as the enterprise proposes it: its values, whether it is removed, and the reason."""

    values: dict[str, str] = field(default_factory=dict)
    remove: bool = False
    reason: str = ""


@dataclass
class TableEdit:
    rows: list[RowEdit] = field(default_factory=list)  # aligned with the original rows
    added: list[RowEdit] = field(default_factory=list)


def original_tables(sections: Mapping[str, Any]) -> dict[str, list[dict]]:
    """{"section.table": rows} for every table of every section the published report contains (a section declared
    not applicable has no rows; a correction may add some)."""
    out = {}
    for s in SECTIONS:
        entry = sections.get(s.code)
        if entry is None:
            continue
        for t in s.tables:
            out[f"{s.code}.{t.name}"] = [dict(r) for r in ((entry.get("data") or {}).get(t.name) or [])]
    return out


def spec(ref: str) -> tuple[Section, Table]:
    code, name = ref.split(".", 1)
    section = SECTION_BY_CODE[code]
    return section, next(t for t in section.tables if t.name == name)


def _text(value: Any) -> str:
    return str(value if value is not None else "").strip()


def row_key(table: Table, row: Mapping[str, Any]) -> dict[str, str]:
    return {name: _text(row.get(name)) for name in table.key_columns}


def _where(table: Table, n: int | None, key: Mapping[str, str]) -> str:
    ident = " · ".join(v for v in key.values() if v)
    if n is None:
        return str(_l("%(t)s, new row (%(k)s)", t=table.label, k=ident or "—"))
    return str(_l("%(t)s, row %(n)d (%(k)s)", t=table.label, n=n, k=ident or "—"))


def table_changes(original: Mapping[str, list[dict]], proposed: Mapping[str, TableEdit],
                  uscc: str = "") -> tuple[list[dict], dict[str, str]]:
    """The changes a proposal makes to the original tables, and errors {field key: message naming the table, the row
    and the column}. Unchanged cells, and added rows left blank, are no change."""
    changes: list[dict] = []
    errors: dict[str, str] = {}
    for ref, rows in original.items():
        edit = proposed.get(ref)
        if edit is None:
            continue
        section, table = spec(ref)
        for n, (row, e) in enumerate(zip(rows, edit.rows), start=1):
            base = {"section": section.code, "table": table.name, "row": n, "row_key": row_key(table, row)}
            where, reason = _where(table, n, base["row_key"]), _text(e.reason)
            if e.remove:
                if not reason:
                    errors[f"{ref}.{n}.reason"] = str(_l("%(w)s: give the reason for removing the row.", w=where))
                changes.append({"key": f"{ref}.{n}.-", "kind": "remove_row", **base,
                                "old": {c.name: _text(row.get(c.name)) for c in table.columns}, "new": "",
                                "reason": reason})
                continue
            row_changed = False
            for col in table.columns:
                old, new = _text(row.get(col.name)), _text(e.values.get(col.name, row.get(col.name)))
                if new == old:
                    continue
                row_changed = True
                problem = (str(_l("required; the row cannot be left without it.")) if col.required and not new
                           else check_value(col, new, uscc))
                if problem:
                    errors[f"{ref}.{n}.{col.name}"] = f"{where}, {col.label}: {problem}"
                changes.append({"key": f"{ref}.{n}.{col.name}", "kind": "cell", **base, "column": col.name,
                                "old": old, "new": new, "reason": reason})
            if row_changed and not reason:
                errors[f"{ref}.{n}.reason"] = str(_l("%(w)s: give the reason for this change.", w=where))
        for j, e in enumerate(edit.added[:MAX_ADDED_ROWS], start=1):
            values = {c.name: _text(e.values.get(c.name)) for c in table.columns}
            if not any(values.values()):
                continue
            key = row_key(table, values)
            where, reason = _where(table, None, key), _text(e.reason)
            for col in table.columns:
                problem = (str(_l("required; the row cannot be left without it.")) if col.required
                           and not values[col.name] else check_value(col, values[col.name], uscc))
                if problem:
                    errors[f"{ref}.+{j}.{col.name}"] = f"{where}, {col.label}: {problem}"
            if not reason:
                errors[f"{ref}.+{j}.reason"] = str(_l("%(w)s: give the reason for adding the row.", w=where))
            changes.append({"key": f"{ref}.+{j}", "kind": "add_row", "section": section.code, "table": table.name,
                            "row": None, "row_key": key, "old": "", "new": values, "reason": reason})
    return changes, errors


def edits_from_changes(original: Mapping[str, list[dict]], changes: list[dict]) -> dict[str, TableEdit]:
    """The proposal a saved CHANGE draft stands for (to show it again in the form): original rows with the changed
    cells, removal marks and reasons, and the added rows."""
    edits = {ref: TableEdit(rows=[RowEdit(values={k: _text(v) for k, v in row.items()}) for row in rows])
             for ref, rows in original.items()}
    for ch in changes:
        if ch.get("kind") not in ("cell", "add_row", "remove_row"):
            continue
        edit = edits.get(f"{ch['section']}.{ch['table']}")
        if edit is None:
            continue
        if ch["kind"] == "add_row":
            edit.added.append(RowEdit(values=dict(ch["new"]), reason=ch.get("reason", "")))
            continue
        if not 1 <= ch["row"] <= len(edit.rows):
            continue
        row = edit.rows[ch["row"] - 1]
        row.reason = ch.get("reason", "")
        if ch["kind"] == "remove_row":
            row.remove = True
        else:
            row.values[ch["column"]] = ch["new"]
    return edits


def is_table_change(ch: Mapping[str, Any]) -> bool:
    return ch.get("kind") in ("cell", "add_row", "remove_row")
