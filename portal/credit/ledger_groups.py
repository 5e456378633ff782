"""How the public page shows a long points ledger (issue 21): repeated lines as one group, and pages of rows.

Pure: no database, no request. A year of automatic findings can put hundreds of lines with the same rule, points,
evidence kind and status on one enterprise's ledger (e.g. 291 lapsed "−1" lines); each such run is one group row
with its count and date range, and the group opens to its lines. Rows (a group counts as one) are paged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from math import ceil
from typing import Any, Generic, Sequence, TypeVar

COUNTING, PENDING, REPAIRED, EXPIRED = "counting", "not_yet", "repaired", "expired"
PER_PAGE = 20
T = TypeVar("T")


def line_status(line: Any, as_of: date) -> str:
    """counting, not yet counting, repaired, or expired on as_of."""
    if line.counts_from > as_of:
        return PENDING
    if not line.expires_on or as_of < line.expires_on:
        return COUNTING
    return REPAIRED if getattr(line.evidence, "repaired_on", None) else EXPIRED


def _key(line: Any, status: str) -> tuple:
    return (line.rule_code, line.points, bool(line.is_veto), str(getattr(line.evidence, "kind", "")), status)


@dataclass
class LedgerRow:
    """One line, or a group of lines alike in rule, points, evidence kind and status (ledger order kept)."""

    status: str
    lines: list[Any] = field(default_factory=list)

    @property
    def first(self) -> Any:
        return self.lines[0]

    @property
    def is_group(self) -> bool:
        return len(self.lines) > 1

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def total_points(self) -> int:
        return sum(line.points for line in self.lines)

    @property
    def counts_from_range(self) -> tuple[date, date]:
        days = [line.counts_from for line in self.lines]
        return min(days), max(days)

    @property
    def expires_range(self) -> tuple[date | None, date | None]:
        days = [line.expires_on for line in self.lines if line.expires_on]
        return (min(days), max(days)) if days else (None, None)

    @property
    def ids(self) -> list[int]:
        return [line.id for line in self.lines]


def group_lines(lines: Sequence[Any], as_of: date, min_group: int = 2) -> list[LedgerRow]:
    """Lines alike (same rule, points, veto, evidence kind and status) become one row when there are at least
    min_group of them; the row stands where the first of them stood. Fewer stay single rows."""
    by_key: dict[tuple, list[Any]] = {}
    order: list[tuple[tuple, Any]] = []
    for line in lines:
        status = line_status(line, as_of)
        key = _key(line, status)
        by_key.setdefault(key, []).append(line)
        order.append((key, line))
    rows: list[LedgerRow] = []
    placed: set[tuple] = set()
    for key, line in order:
        members = by_key[key]
        if len(members) >= min_group:
            if key not in placed:
                placed.add(key)
                rows.append(LedgerRow(key[-1], list(members)))
        else:
            rows.append(LedgerRow(key[-1], [line]))
    return rows


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(items: Sequence[T], raw_page: Any, per_page: int | None = None) -> Page[T]:
    """The page asked for (a number from a query string; anything else or out of range: the nearest page)."""
    per_page = per_page or PER_PAGE
    pages = max(1, ceil(len(items) / per_page))
    try:
        number = int(str(raw_page or "1").strip())
    except ValueError:
        number = 1
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    return Page(list(items[start:start + per_page]), number, pages, len(items))


def page_holding(rows: Sequence[LedgerRow], line_id: int, per_page: int | None = None) -> int | None:
    """The page number whose rows hold the ledger line (for links to one line, e.g. the adjustments)."""
    per_page = per_page or PER_PAGE
    for index, row in enumerate(rows):
        if line_id in row.ids:
            return index // per_page + 1
    return None
