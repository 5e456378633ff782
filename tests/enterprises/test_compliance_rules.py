"""The compliance grid's pure rules: which 12 quarters, which bucket a day falls in, cell states and totals."""
from datetime import date

import pytest

from portal.enterprises.compliance import (CellState, Quarter, Row, bucket_of, build_grid, grid_dict,
                                           last_quarters, quarter_of)


@pytest.mark.parametrize("day, expected", [(date(2026, 1, 1), Quarter(2026, 1)), (date(2026, 3, 31), Quarter(2026, 1)),
                                           (date(2026, 4, 1), Quarter(2026, 2)), (date(2026, 12, 31), Quarter(2026, 4))])
def test_a_day_belongs_to_its_calendar_quarter(day, expected):
    assert quarter_of(day) == expected


def test_the_twelve_quarters_end_with_the_current_one_and_cross_year_boundaries():
    quarters = last_quarters(date(2026, 2, 15))
    assert len(quarters) == 12
    assert quarters[0] == Quarter(2023, 2) and quarters[-1] == Quarter(2026, 1)
    assert [q.key for q in quarters[2:4]] == ["2023-Q4", "2024-Q1"]
    assert all(a.end == b.first_day for a, b in zip(quarters, quarters[1:]))
    assert Quarter(2025, 4).end == date(2026, 1, 1)


@pytest.mark.parametrize("day, index", [(date(2023, 4, 1), 0), (date(2023, 3, 31), None), (date(2023, 12, 31), 2),
                                        (date(2024, 1, 1), 3), (date(2026, 3, 31), 11), (date(2026, 4, 1), None)])
def test_bucket_of_puts_days_in_the_right_column_and_nothing_outside_the_window(day, index):
    assert bucket_of(day, last_quarters(date(2026, 2, 15))) == index


def test_cells_without_counts_are_no_violation_and_totals_add_up():
    grid = build_grid(date(2026, 2, 15), {Row.EXCEEDANCES: {0: 2, 11: 1}, Row.COMPLAINTS: {11: 3}},
                      {Row.REPORTS: {}})
    exceed = grid.rows[0]
    assert [r.row for r in grid.rows] == list(Row)
    assert exceed.cells[0].state is CellState.VIOLATION and exceed.cells[0].count == 2
    assert exceed.cells[5].state is CellState.NONE and exceed.cells[5].count == 0
    assert exceed.total == 3 and exceed.quarters_in_violation == 2
    assert grid.rows[1].quarters_in_violation == 0  # reports: all "no violation"
    assert grid.quarters_in_violation == 2  # quarter 0 and quarter 11; quarter 11 counted once
    assert grid.current == Quarter(2026, 1)


def test_the_json_form_lists_twelve_quarters_and_marks_the_current_one_in_progress():
    grid = build_grid(date(2026, 5, 2), {Row.REPORTS: {3: 2}}, {Row.REPORTS: {3: {"late": 1, "missing": 1}}})
    data = grid_dict(grid)
    assert [q["in_progress"] for q in data["quarters"]] == [False] * 11 + [True]
    reports = next(r for r in data["rows"] if r["row"] == "reports")
    assert reports["cells"][3] == {"quarter": "2024-Q2", "count": 2, "state": "violation",
                                   "detail": {"late": 1, "missing": 1}}
    assert reports["cells"][4]["state"] == "none" and "detail" not in reports["cells"][4]
    assert data["quarters_in_violation"] == 1
