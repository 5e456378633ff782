"""The 12-quarter compliance grid of the public enterprise page, as in EPA ECHO's detailed facility report: one
column per calendar quarter (the current one last, marked as in progress), one row per kind of non-compliance,
and in every cell either a count or "no violation identified".

Pure rules over dates and counts (no database, request or app); portal/enterprises/compliance_queries.py counts.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

QUARTERS = 12


class Row(enum.StrEnum):
    """Rows in the order ECHO shows them; the values are the JSON keys."""

    EXCEEDANCES = "exceedances"  # self-monitoring exceedance incidents, by the start of the exceeding period
    REPORTS = "reports"  # disclosure reports and permit execution reports late or missing, by their due date
    PENALTIES = "penalties"  # verified, public penalty evidence (credit), by the date of the decision
    COMPLAINTS = "complaints"  # complaints closed as substantiated, by the closing date


class CellState(enum.StrEnum):
    VIOLATION = "violation"
    NONE = "none"  # no violation identified in the quarter (so far, for the current quarter)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The first day after the quarter (exclusive bound for queries)."""
        return self.next().first_day

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def last_quarters(today: date, n: int = QUARTERS) -> list[Quarter]:
    """The n calendar quarters ending with the one containing `today` (China date), oldest first."""
    quarters = [quarter_of(today)]
    while len(quarters) < n:
        quarters.append(quarters[-1].previous())
    return quarters[::-1]


def bucket_of(day: date, quarters: list[Quarter]) -> int | None:
    """Index of the quarter holding `day` in `quarters` (consecutive, oldest first), or None outside them."""
    if not quarters or day < quarters[0].first_day or day >= quarters[-1].end:
        return None
    q = quarter_of(day)
    return (q.year - quarters[0].year) * 4 + q.number - quarters[0].number


@dataclass(frozen=True)
class Cell:
    quarter: Quarter
    count: int
    detail: Mapping[str, int] = field(default_factory=dict)  # e.g. {"late": 1, "missing": 2} for reports

    @property
    def state(self) -> CellState:
        return CellState.VIOLATION if self.count > 0 else CellState.NONE


@dataclass(frozen=True)
class GridRow:
    row: Row
    cells: list[Cell]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.cells)

    @property
    def quarters_in_violation(self) -> int:
        return sum(1 for c in self.cells if c.state is CellState.VIOLATION)


@dataclass(frozen=True)
class Grid:
    quarters: list[Quarter]
    rows: list[GridRow]
    as_of: date

    @property
    def current(self) -> Quarter:
        return self.quarters[-1]

    @property
    def quarters_in_violation(self) -> int:
        """Quarters with at least one violation of any kind (ECHO's "quarters in non-compliance")."""
        return sum(1 for i in range(len(self.quarters)) if any(r.cells[i].count for r in self.rows))


def build_grid(today: date, counts: Mapping[Row, Mapping[int, int]],
               details: Mapping[Row, Mapping[int, Mapping[str, int]]] | None = None,
               n: int = QUARTERS) -> Grid:
    """Counts are per row and quarter index (0 = oldest of the n quarters); a missing index means none."""
    quarters = last_quarters(today, n)
    details = details or {}
    rows = []
    for row in Row:
        by_index = counts.get(row, {})
        row_details = details.get(row, {})
        rows.append(GridRow(row, [Cell(q, int(by_index.get(i, 0)), dict(row_details.get(i, {})))
                                  for i, q in enumerate(quarters)]))
    return Grid(quarters, rows, today)


def grid_dict(grid: Grid) -> dict:
    """JSON form of the grid (GET /api/v1/enterprises/{uscc}/compliance)."""
    return {
        "as_of": grid.as_of.isoformat(),
        "quarters": [{"key": q.key, "year": q.year, "quarter": q.number, "start": q.first_day.isoformat(),
                      "end": q.end.isoformat(), "in_progress": q == grid.current} for q in grid.quarters],
        "rows": [{"row": r.row.value, "total": r.total, "quarters_in_violation": r.quarters_in_violation,
                  "cells": [{"quarter": c.quarter.key, "count": c.count, "state": c.state.value,
                             **({"detail": dict(c.detail)} if c.detail else {})} for c in r.cells]}
                 for r in grid.rows],
        "quarters_in_violation": grid.quarters_in_violation,
    }
