"""Manual results: CSV/XLSX reading (encodings, merged cells, formulas, empty rows, size), checks, all-or-nothing
commit, publication deadline and late publication."""
from __future__ import annotations

import io
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from portal.credit.models import Evidence, EvidenceKind
from portal.errors import ValidationFailed
from portal.monitoring import importers, manual
from portal.monitoring.importers import ImportFailed, ManualRow, RowError
from portal.monitoring.models import ExceedanceIncident, ManualSubmission, MonitoringValue
from portal.workdays.services import add_working_days
from tests.monitoring.helpers import water_setup

HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记\n"


def _csv(tmp_path, text: str, encoding: str = "utf-8", name: str = "r.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk_reads_the_same(tmp_path, app_ctx, encoding):
    path = _csv(tmp_path, HEADER + "dw001,w01018,2026-11-02 09:30,35.6,2026-11-04,淮安检测,HJ 828-2017,\n", encoding)
    [row] = list(importers.read_rows(path))
    assert row == ManualRow(line=2, outlet="DW001", pollutant="w01018", sampled_at=datetime(2026, 11, 2, 9, 30),
                            value=35.6, completed_on=date(2026, 11, 4), lab="淮安检测", method="HJ 828-2017", flag="N")


def test_english_headers_in_any_order_and_empty_rows_are_accepted(tmp_path, app_ctx):
    path = _csv(tmp_path, "\n,,,\nvalue,outlet,pollutant,completed_on,sampled_at\n,,,,\n"
                          "1.5,DW001,w21003,2026/11/04,2026/11/02 08:00\n\n")
    [row] = list(importers.read_rows(path))
    assert (row.line, row.value, row.pollutant) == (5, 1.5, "w21003")


def test_row_errors_name_the_line_and_the_column(tmp_path, app_ctx):
    path = _csv(tmp_path, HEADER + "DW001,w01018,yesterday,abc,2026-11-04,,,X\n"
                                   "DW001,w01018,2026-11-05 09:00,-1,2026-11-04,,,\n"
                                   ",w01018,2026-11-02 09:00,1,2026-11-04,,,\n")
    errors = [e for item in importers.read_rows(path) for e in item]
    assert [(e.line, e.column) for e in errors] == [(2, "采样时间"), (2, "监测结果"), (2, "数据标记"), (3, "监测结果"),
                                                    (3, "监测完成日期"), (4, "排放口编码")]


def test_a_missing_header_column_is_reported_for_the_whole_file(tmp_path, app_ctx):
    path = _csv(tmp_path, "排放口编码,污染物编码,监测结果\nDW001,w01018,1\n")
    with pytest.raises(ImportFailed) as info:
        list(importers.read_rows(path))
    assert "采样时间" in str(info.value)


def test_binary_garbage_and_undecodable_text_are_refused(tmp_path, app_ctx):
    with pytest.raises(ImportFailed):
        list(importers.read_rows(_csv(tmp_path, "", name="e.csv")))
    garbage = tmp_path / "g.bin"
    garbage.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ImportFailed):
        list(importers.read_rows(garbage))
    bad = tmp_path / "b.csv"
    bad.write_bytes(HEADER.encode() + b"\xff\xfe\xfa\xfb\n")
    with pytest.raises(ImportFailed):
        list(importers.read_rows(bad))


def test_a_damaged_xlsx_is_refused(tmp_path, app_ctx):
    path = tmp_path / "d.xlsx"
    path.write_bytes(b"PK\x03\x04not really a zip")
    with pytest.raises(ImportFailed):
        list(importers.read_rows(path))


def test_xlsx_dates_numbers_merged_cells_and_formulas(tmp_path, app_ctx):
    wb = Workbook()
    ws = wb.active
    ws.append(importers.TEMPLATE_HEADER)
    ws.append(["DW001", "w01018", datetime(2026, 11, 2, 9, 30), 35.6, date(2026, 11, 4), "", "", "N", 85, "正常运行"])
    ws.append(["DW001", "w21003", datetime(2026, 11, 2, 9, 30), "=1+1", date(2026, 11, 4), "", "", "N", 85, "正常运行"])
    ws.append([None] * 10)
    ws.append(["DW001", "w01001", datetime(2026, 11, 2, 9, 30), 7, date(2026, 11, 4), "", "", "N", 85, "正常运行"])
    ws.merge_cells("A5:A6")
    ws.append([None, "w01018", datetime(2026, 11, 2, 10, 30), 3, date(2026, 11, 4), "", "", "N", 85, "正常运行"])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    items = list(importers.read_rows(path))
    assert items[0].value == 35.6 and items[0].sampled_at == datetime(2026, 11, 2, 9, 30)
    assert items[1] == [RowError(3, "监测结果", items[1][0].message)]  # a formula without a saved value
    assert items[2].pollutant == "w01001"
    assert [(e.line, e.column) for e in items[3]] == [(6, "排放口编码")]  # the hidden half of a merged cell


def _big_csv(tmp_path, rows: int):
    path = tmp_path / f"big{rows}.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for _ in range(rows // 10000):
            fh.write("DW001,w01018,2026-11-02 09:30,35.6,2026-11-04,,,N\n" * 10000)
    return path


def _peak_bytes(path) -> int:
    tracemalloc.start()
    for _ in importers.read_rows(path):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_memory_stays_flat_when_the_file_grows(tmp_path, app_ctx):
    small, large = _peak_bytes(_big_csv(tmp_path, 10000)), _peak_bytes(_big_csv(tmp_path, 60000))
    assert large < 2 * small + 256 * 1024
    assert large < 4 * 1024 * 1024


@pytest.mark.slow
def test_a_million_row_file_is_read_to_the_end(tmp_path, app_ctx):
    assert sum(1 for _ in importers.read_rows(_big_csv(tmp_path, 1_000_000))) == 1_000_000


# --- services ---------------------------------------------------------------------------------------------------------

def _today_rows(days_ago: int = 1, value: str = "35.6") -> str:
    day = (datetime.now(timezone.utc) + timedelta(hours=8)).date() - timedelta(days=days_ago)
    return HEADER + f"DW001,w01018,{day} 09:30,{value},{day},检测公司,HJ 828-2017,N\n"


def test_an_upload_is_checked_then_committed_with_its_deadline(tmp_path, db):
    ent, _, _ = water_setup(db)
    path = _csv(tmp_path, _today_rows())
    check = manual.check_upload(ent, path)
    assert (check.rows, check.error_count, len(check.preview)) == (1, 0, 1)
    result = manual.commit_upload(None, ent, path, "r.csv")
    assert (result.inserted, result.duplicates) == (1, 0)
    submission = db.session.scalar(sa.select(ManualSubmission))
    assert submission.due_on == add_working_days(submission.completed_on, 5)
    assert not submission.is_late
    assert db.session.scalar(sa.select(MonitoringValue.submission_id)) == submission.id


def test_re_uploading_the_same_results_never_duplicates(tmp_path, db):
    ent, _, _ = water_setup(db)
    path = _csv(tmp_path, _today_rows())
    manual.commit_upload(None, ent, path, "r.csv")
    result = manual.commit_upload(None, ent, path, "r.csv")
    assert (result.inserted, result.duplicates) == (0, 1)
    assert _count(db, MonitoringValue) == 1


def test_late_publication_is_detected_and_becomes_credit_evidence(tmp_path, db):
    ent, _, _ = water_setup(db)
    manual.commit_upload(None, ent, _csv(tmp_path, _today_rows(days_ago=30)), "r.csv")
    submission = db.session.scalar(sa.select(ManualSubmission))
    assert submission.is_late
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.kind == EvidenceKind.MONITORING_LATE))
    assert evidence.source_ref == f"manual-late:{submission.id}" and not evidence.is_verified


def test_a_manual_sample_above_the_limit_opens_an_incident(tmp_path, db):
    ent, _, _ = water_setup(db)
    manual.commit_upload(None, ent, _csv(tmp_path, _today_rows(value="150")), "r.csv")
    incident = db.session.scalar(sa.select(ExceedanceIncident))
    assert (incident.basis, incident.multiple) == ("manual", 0.5)


def test_one_bad_row_means_nothing_is_written(tmp_path, db):
    ent, _, _ = water_setup(db)
    text = _today_rows() + "DA999,w01018,2026-11-02 09:30,1,2026-11-04,,,N\n"
    check = manual.check_upload(ent, _csv(tmp_path, text))
    assert [(e.line, e.column) for e in check.errors] == [(3, "排放口编码")]
    with pytest.raises(ValidationFailed):
        manual.commit_upload(None, ent, _csv(tmp_path, text), "r.csv")


def test_unknown_codes_and_future_dates_are_errors(tmp_path, db):
    ent, _, _ = water_setup(db)
    text = _today_rows() + "DW001,x00000,2026-11-02 09:30,1,2026-11-04,,,\n" \
        "DW001,w01018,2999-01-01 09:30,1,2999-01-02,,,\n"
    check = manual.check_upload(ent, _csv(tmp_path, text))
    assert [(e.line, e.column) for e in check.errors] == [(3, "污染物编码"), (4, "采样时间"), (4, "监测完成日期")]


def test_a_pollutant_of_another_medium_is_refused_for_the_outlet_and_named(tmp_path, db):
    ent, _, _ = water_setup(db)
    text = _today_rows() + "DW001,a21026,2026-11-02 09:30,12,2026-11-04,,,\n"  # SO2 (a flue gas) at a water outlet
    check = manual.check_upload(ent, _csv(tmp_path, text))
    [error] = check.errors
    assert (error.line, error.column) == (3, "污染物编码") and "DW001" in error.message and "废气" in error.message


def test_a_line_repeated_in_the_file_is_stored_once_and_counted(tmp_path, db):
    ent, _, _ = water_setup(db)
    row = _today_rows().splitlines()[1]
    result = manual.commit_upload(None, ent, _csv(tmp_path, HEADER + row + "\n" + row + "\n"), "r.csv")
    assert (result.inserted, result.duplicates) == (1, 1)
    assert _count(db, MonitoringValue) == 1


def test_a_file_with_only_a_header_is_refused(tmp_path, db):
    ent, _, _ = water_setup(db)
    with pytest.raises(ImportFailed):
        manual.check_upload(ent, _csv(tmp_path, HEADER))


def test_one_result_from_the_form(db):
    ent, _, _ = water_setup(db)
    day = date.today() - timedelta(days=2)
    row = ManualRow(0, "DW001", "w01018", datetime.combine(day, datetime.min.time()), 20.0, day,
                    production_load=Decimal("80"), facility_status="running")
    assert manual.submit_one(None, ent, row).inserted == 1
    with pytest.raises(ValidationFailed) as info:
        manual.submit_one(None, ent, ManualRow(0, "DA001", "w01018", datetime(2026, 1, 1), 1.0, date(2026, 1, 2)))
    assert {"outlet", "production_load", "facility_status"} <= set(info.value.errors)


def test_the_template_round_trips_through_the_importer(tmp_path, app_ctx):
    out = io.StringIO()
    out.write(",".join(importers.TEMPLATE_HEADER) + "\n" + ",".join(importers.TEMPLATE_EXAMPLE) + "\n")
    [row] = list(importers.read_rows(_csv(tmp_path, out.getvalue(), "utf-8-sig")))
    assert isinstance(row, ManualRow)
