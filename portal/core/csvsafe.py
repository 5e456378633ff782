"""CSV cells that spreadsheet programs will not run as formulas (OWASP "CSV injection").

Excel, WPS and LibreOffice treat a cell starting with = + - @ (or a tab / carriage return followed by one) as a
formula, so a complaint description or an enterprise name typed as `=HYPERLINK(...)` would become live in a
regulator's export. Every CSV the portal writes goes through `writer()`: text that starts with one of those
characters gets a leading apostrophe, which spreadsheets show as plain text. Numbers (and text that is exactly a
number, such as "-0.5") are left alone, so exported figures stay numeric.
"""
from __future__ import annotations

import csv
import re
from typing import Any, Iterable

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class _SafeWriter:
    def __init__(self, fh, **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh, **kwargs) -> _SafeWriter:
    """csv.writer with formula-safe cells."""
    return _SafeWriter(fh, **kwargs)
