"""Import one year's official holiday schedule (国务院办公厅关于部分节假日安排的通知) as a table, in one upload.

The table (CSV in UTF-8 or GBK, or XLSX, first sheet) has a header row and one row per special day:
    日期 / date        YYYY-MM-DD (or an Excel date cell)
    类型 / kind        holiday (放假, 休) or make-up working day (调休上班, 班)
    说明 / note        optional, at most 100 characters
Ordinary weekends need no row. Every row is checked and every problem reported with its line; nothing is written
unless the whole file is right. A successful import replaces that year's overrides with the file's rows, marks the
year as official (its deadlines stop being provisional), recomputes the stored deadlines that depended on it and is
audited.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.core import archives
from portal.extensions import db
from portal.workdays import services
from portal.workdays.models import CalendarOverride, CalendarYear

MAX_BYTES = 1024 * 1024
XLSX_MAX_UNCOMPRESSED = 16 * 1024 * 1024  # a year's schedule is a few KB unpacked
MAX_ROWS = 400
COLUMNS = {"day": ("日期", "date", "day"), "kind": ("类型", "kind", "type"), "note": ("说明", "备注", "note")}
TEMPLATE_HEADER = ["日期", "类型", "说明"]
OFF_WORDS = {"holiday", "day off", "rest", "off", "放假", "休", "假", "休息", "节假日", "法定节假日"}
WORK_WORDS = {"makeup", "make-up", "make-up working day", "workday", "working day", "work", "调休上班", "上班",
              "班", "调休", "补班", "工作日"}


class ImportFailed(Exception):
    """The file as a whole cannot be read (type, encoding, header, size)."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass(frozen=True)
class ScheduleRow:
    line: int
    day: date
    is_workday: bool
    note: str


@dataclass
class ImportResult:
    year: int
    holidays: int
    makeup_days: int
    replaced: int  # overrides of the year there were before
    recomputed: list[dict]  # deadlines that moved: {"what", "id", "from", "to"}


def _rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    if data.startswith(b"PK\x03\x04"):
        from openpyxl import load_workbook

        problem = archives.xlsx_problem(io.BytesIO(data), max_uncompressed=XLSX_MAX_UNCOMPRESSED)
        if problem:  # bounded before it is parsed, as every XLSX upload
            raise ImportFailed(problem)

        damaged = _("The XLSX workbook cannot be opened; it may be damaged.")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many types for a damaged archive
            raise ImportFailed(damaged) from None
        try:
            if not workbook.worksheets:
                raise ImportFailed(damaged)
            try:
                rows = list(workbook.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 2))
            except Exception:
                raise ImportFailed(damaged) from None
        finally:
            workbook.close()
        yield from ((n, list(r)) for n, r in enumerate(rows, start=1))
        return
    if b"\x00" in data[:8192]:
        raise ImportFailed(_("The file is neither CSV text nor an XLSX workbook."))
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise ImportFailed(_("The CSV file is neither UTF-8 nor GBK text. Save it as “CSV UTF-8”."))
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    except csv.Error:
        raise ImportFailed(_("The CSV file cannot be read: a quoted cell is not closed.")) from None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value).replace("/", "-"))
    except ValueError:
        return None


def parse(data: bytes, year: int) -> tuple[list[ScheduleRow], list[RowError]]:
    """The file's rows for `year`, or the errors of every bad row (line numbers as in a spreadsheet)."""
    if len(data) > MAX_BYTES:
        raise ImportFailed(_("The file is larger than 1 MB; a year's schedule needs only a few dozen rows."))
    header: dict[str, int] | None = None
    aliases = {a.lower(): canon for canon, names in COLUMNS.items() for a in names}
    rows: list[ScheduleRow] = []
    errors: list[RowError] = []
    seen: dict[date, int] = {}
    for line, raw in _rows(data):
        cells = [_text(c) for c in raw]
        if not any(cells):
            continue
        if header is None:
            header = {}
            for index, cell in enumerate(cells):
                canon = aliases.get(cell.lower())
                if canon and canon not in header:
                    header[canon] = index
            missing = [COLUMNS[c][0] for c in ("day", "kind") if c not in header]
            if missing:
                raise ImportFailed(_("Line 1 must be the header row; missing columns: %(cols)s. Download the "
                                     "template.", cols="、".join(missing)))
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise ImportFailed(_("The file has more than %(n)d rows; list only the holidays and make-up working "
                                 "days.", n=MAX_ROWS))

        def cell(name: str) -> Any:
            index = header.get(name)
            return raw[index] if index is not None and index < len(raw) else None

        row_errors = []
        day = _date(cell("day"))
        kind = _text(cell("kind")).lower()
        note = _text(cell("note"))
        if day is None:
            row_errors.append(RowError(line, "日期", _("Enter the date as YYYY-MM-DD, e.g. %(d)s.",
                                                      d=date(year, 10, 1).isoformat())))
        elif day.year != year:
            row_errors.append(RowError(line, "日期", _("%(d)s is not in %(y)d: import one year per file.",
                                                      d=day.isoformat(), y=year)))
        elif day in seen:
            row_errors.append(RowError(line, "日期", _("%(d)s is already on line %(n)d; list each date once.",
                                                      d=day.isoformat(), n=seen[day])))
        if kind in OFF_WORDS:
            is_work = False
        elif kind in WORK_WORDS:
            is_work = True
        else:
            is_work = None
            row_errors.append(RowError(line, "类型", _("Write “放假” (holiday) or “调休上班” (make-up working day).")))
        if is_work and day is not None and day.weekday() < 5:
            row_errors.append(RowError(line, "类型", _("%(d)s is a Monday to Friday, already a working day: a "
                                                      "make-up working day is a Saturday or Sunday.",
                                                      d=day.isoformat())))
        if len(note) > 100:
            row_errors.append(RowError(line, "说明", _("The note may have at most 100 characters.")))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen[day] = line
        rows.append(ScheduleRow(line, day, bool(is_work), note))
    if header is None:
        raise ImportFailed(_("The file is empty."))
    if not errors and not any(not r.is_workday for r in rows):
        errors.append(RowError(0, "类型", _("The file lists no holiday; an official schedule always has some.")))
    return rows, errors


def apply(year: int, rows: list[ScheduleRow], filename: str, actor) -> ImportResult:
    """Replace the year's overrides with the schedule, mark the year official, recompute, audit (flushes)."""
    from portal.workdays.recompute import recompute_year

    existing = list(db.session.scalars(sa.select(CalendarOverride).where(
        CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))))
    before = {"overrides": {o.day.isoformat(): {"is_workday": o.is_workday, "note": o.note} for o in existing}}
    for override in existing:
        db.session.delete(override)
    db.session.flush()
    for row in rows:
        db.session.add(CalendarOverride(day=row.day, is_workday=row.is_workday, note=row.note,
                                        updated_by_id=actor.id))
    entry = db.session.get(CalendarYear, year)
    if entry is None:
        entry = CalendarYear(year=year)
        db.session.add(entry)
    else:
        before["year"] = {"holidays": entry.holidays, "makeup_days": entry.makeup_days, "filename": entry.filename}
    entry.holidays = sum(1 for r in rows if not r.is_workday)
    entry.makeup_days = sum(1 for r in rows if r.is_workday)
    entry.filename, entry.imported_by_id = (filename or "")[:200], actor.id
    db.session.flush()
    services.forget_calendar()
    moved = recompute_year(year, actor)
    record(actor, "calendar_year.import", entry, before=before, object_id=year, after={
        "holidays": entry.holidays, "makeup_days": entry.makeup_days, "filename": entry.filename,
        "overrides": {r.day.isoformat(): {"is_workday": r.is_workday, "note": r.note} for r in rows},
        "recomputed": moved})
    return ImportResult(year, entry.holidays, entry.makeup_days, len(existing), moved)


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
