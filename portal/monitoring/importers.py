"""Manual monitoring results from CSV or XLSX, read as a stream (never the whole file in memory).

CSV: UTF-8 (with or without BOM) or GBK/GB18030, detected from the first bytes. XLSX: openpyxl read-only with
cached formula values; merged cells and formulas without a saved value read as empty cells and are reported.
Every problem names its line and column.
"""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from flask_babel import gettext as _

from portal.core import archives

from portal.monitoring import conditions
from portal.monitoring.rules import ALL_FLAGS

# Canonical column → accepted header names (the Chinese template first).
COLUMNS = {
    "outlet": ("排放口编码", "outlet"),
    "pollutant": ("污染物编码", "pollutant"),
    "sampled_at": ("采样时间", "sampled_at"),
    "value": ("监测结果", "value"),
    "completed_on": ("监测完成日期", "completed_on"),
    "lab": ("检测机构", "lab"),
    "method": ("监测方法", "method"),
    "flag": ("数据标记", "flag"),
    # 工况 at sampling (生态环境监测条例 Art. 24): required in every row of a file that has the columns.
    "production_load": ("生产负荷(%)", "生产负荷", "生产负荷（%）", "production_load"),
    "facility_status": ("治理设施运行状态", "治理设施状态", "facility_status"),
}
CONDITION_COLUMNS = ("production_load", "facility_status")
REQUIRED = ("outlet", "pollutant", "sampled_at", "value", "completed_on")
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
TEMPLATE_EXAMPLE = ["DW001", "w01018", "2026-11-02 09:30", "35.6", "2026-11-04", "淮安市环境检测有限公司",
                    "HJ 828-2017", "N", "85", "正常运行"]
SAMPLE_BYTES = 64 * 1024


class ImportFailed(Exception):
    """The file as a whole cannot be read (type, encoding, header)."""


@dataclass(frozen=True)
class ManualRow:
    line: int
    outlet: str
    pollutant: str
    sampled_at: datetime  # naive, China time
    value: float
    completed_on: date
    lab: str = ""
    method: str = ""
    flag: str = "N"
    production_load: Decimal | None = None  # per cent of capacity at sampling (Art. 24)
    facility_status: str | None = None  # running / stopped / abnormal


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


def sniff_kind(path: Path) -> str:
    """'xlsx' or 'csv' from the content, not the file name."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"\x00" in head:
        raise ImportFailed(_("The file is neither CSV text nor an XLSX workbook."))
    return "csv"


def detect_encoding(path: Path) -> str:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "gb18030"
    except UnicodeDecodeError:
        raise ImportFailed(_("The CSV file is neither UTF-8 nor GBK text. Save it as “CSV UTF-8”.")) from None


def check_archive(path: Path) -> None:
    """Refuse a workbook whose archive is too large unpacked, packs too tightly, or has too many parts."""
    problem = archives.xlsx_problem(path)
    if problem:
        raise ImportFailed(problem)


def _raw_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    if sniff_kind(path) == "xlsx":
        from openpyxl import load_workbook

        check_archive(path)

        # Opened as a file object: uploads are stored under a random token without an extension, and openpyxl
        # refuses a *path* whose name does not end in .xlsx (the content was sniffed above).
        fh = path.open("rb")
        try:
            workbook = load_workbook(fh, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many types for a damaged archive
            fh.close()
            raise ImportFailed(_("The XLSX workbook cannot be opened; it may be damaged.")) from None
        damaged = _("The XLSX workbook cannot be opened; it may be damaged.")
        try:
            if not workbook.worksheets:
                raise ImportFailed(damaged)
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            number = 0
            while True:
                try:  # read-only mode parses the sheet while iterating: damage can surface on any row
                    row = next(rows, None)
                except Exception:
                    raise ImportFailed(damaged) from None
                if row is None:
                    break
                number += 1
                yield number, list(row)
        finally:
            workbook.close()
            fh.close()
        return
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, newline="", errors="strict") as fh:
        number = 0
        try:
            for number, row in enumerate(csv.reader(fh), start=1):
                yield number, row
        except (UnicodeDecodeError, csv.Error):
            raise ImportFailed(_("The CSV file cannot be read after line %(n)d: the text encoding changes or a "
                                 "quoted cell is not closed.", n=number)) from None


def _header_map(header: list[Any]) -> dict[str, int]:
    names = {alias.lower(): canon for canon, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        canon = names.get(str(cell or "").strip().lower())
        if canon and canon not in found:
            found[canon] = index
    missing = [COLUMNS[c][0] for c in REQUIRED if c not in found]
    if missing:
        raise ImportFailed(_("Line 1 must be the header row; missing columns: %(cols)s. Download the template.",
                             cols="、".join(missing)))
    return found


def read_rows(path: Path) -> Iterator[ManualRow | list[RowError]]:
    """Each non-empty data row as a ManualRow, or the list of its errors."""
    rows = _raw_rows(path)
    header_map = None
    for number, raw in rows:
        if header_map is None:
            if not any(str(c or "").strip() for c in raw):
                continue
            header_map = _header_map(raw)
            continue
        cells = {canon: (raw[i] if i < len(raw) else None) for canon, i in header_map.items()}
        if not any(str(v).strip() for v in cells.values() if v is not None):
            continue  # empty rows are skipped
        yield parse_row(number, cells)
    if header_map is None:
        raise ImportFailed(_("The file is empty."))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    text = _text(value).replace("/", "-").replace("T", " ")
    if len(text) < 16:
        return None  # a time of day is required
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if parsed.tzinfo else parsed.replace(microsecond=0)


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value).replace("/", "-"))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_row(line: int, cells: dict[str, Any]) -> ManualRow | list[RowError]:
    errors: list[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(line, COLUMNS[column][0], message))

    for column in REQUIRED:
        if not _text(cells.get(column)):
            err(column, _("is empty (merged cells and formulas without a saved value read as empty)."))
    if errors:
        return errors
    sampled_at = _datetime(cells["sampled_at"])
    if sampled_at is None:
        err("sampled_at", _("must be a date and time such as 2026-11-02 09:30."))
    value = _number(cells["value"])
    if value is None:
        err("value", _("must be a number, such as 35.6."))
    elif value < 0:
        err("value", _("must not be negative."))
    completed_on = _date(cells["completed_on"])
    if completed_on is None:
        err("completed_on", _("must be a date such as 2026-11-04."))
    elif sampled_at is not None and completed_on < sampled_at.date():
        err("completed_on", _("must not be before the sampling date."))
    flag = _text(cells.get("flag")).upper() or "N"
    if flag not in ALL_FLAGS:
        err("flag", _("must be one of N F M S D C T B (N = normal)."))
    load = facility = None
    if any(c in cells for c in CONDITION_COLUMNS):  # a file with the 工况 columns must fill both in every row
        load, problem = conditions.parse_load(cells.get("production_load"))
        if problem:
            err("production_load", problem)
        facility, problem = conditions.parse_facility(cells.get("facility_status"))
        if problem:
            err("facility_status", problem)
    if errors:
        return errors
    return ManualRow(line=line, outlet=_text(cells["outlet"]).upper(), pollutant=_text(cells["pollutant"]),
                     sampled_at=sampled_at, value=value, completed_on=completed_on,
                     lab=_text(cells.get("lab"))[:100], method=_text(cells.get("method"))[:64], flag=flag,
                     production_load=load, facility_status=facility)
