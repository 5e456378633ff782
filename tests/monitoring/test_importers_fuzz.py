"""Fuzzing the manual-results importers (issue 8, input attacks): CSV and XLSX readers fed random bytes, damaged and
truncated workbooks, text in the wrong encodings, random cell values of every type and huge cells. Reading must
either yield rows (a ManualRow or the list of its errors, each naming line and column) or stop with ImportFailed
and its message — never any other exception."""
from __future__ import annotations

import io
import os
import tempfile
from datetime import date, datetime, time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from portal.monitoring.importers import TEMPLATE_EXAMPLE, TEMPLATE_HEADER, ImportFailed, ManualRow, RowError, read_rows

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "shift_jis",
             "big5", "koi8-r"]


def read(data: bytes) -> list:
    """Everything read_rows makes of the bytes; ImportFailed must carry a non-empty message."""
    fd, name = tempfile.mkstemp(suffix=".upload")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    try:
        rows = list(read_rows(Path(name)))
    except ImportFailed as exc:
        assert str(exc).strip()
        return []
    finally:
        os.unlink(name)
    for row in rows:
        assert isinstance(row, ManualRow) or (row and all(isinstance(e, RowError) and e.line >= 1 and e.column
                                                          for e in row))
    return rows


def workbook_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    sheet = wb.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD_XLSX = workbook_bytes([TEMPLATE_HEADER, TEMPLATE_EXAMPLE] * 1 + [TEMPLATE_EXAMPLE] * 20)
cells = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                  st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60), st.datetimes(min_value=datetime(1900, 1, 1)), st.dates(), st.times(),
                  st.sampled_from(["=1/0", "=A1+B1", "=SUM(A:A)", "#N/A", "2026-11-02 09:30", "35.6", "-1", "1e309",
                                   "nan", "inf", "DW001", "w01018", " ", "\u3000", "２０２６-１１-０２ ０９:３０"]))


def test_the_fuzz_harness_reads_a_good_file():
    """Control: the good workbook gives the good rows, so the fuzz tests below exercise the real reader."""
    rows = read(GOOD_XLSX)
    assert len(rows) >= 2 and all(isinstance(r, ManualRow) for r in rows if not isinstance(r, list))


@settings(max_examples=300, **SETTINGS)
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    read(data)


@settings(max_examples=200, **SETTINGS)
@given(st.binary(max_size=2000))
def test_random_bytes_that_look_like_a_zip(data):
    read(b"PK\x03\x04" + data)


@settings(max_examples=150, **SETTINGS)
@given(st.integers(min_value=0, max_value=len(GOOD_XLSX)))
def test_truncated_xlsx(cut):
    read(GOOD_XLSX[:cut])


@settings(max_examples=150, **SETTINGS)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=len(GOOD_XLSX) - 1), st.integers(0, 255)),
                min_size=1, max_size=20))
def test_garbled_xlsx(flips):
    data = bytearray(GOOD_XLSX)
    for position, byte in flips:
        data[position] = byte
    read(bytes(data))


@settings(max_examples=150, **SETTINGS)
@given(st.lists(st.lists(cells, max_size=10), max_size=8), st.booleans())
def test_xlsx_with_random_cells(rows, with_header):
    read(workbook_bytes(([TEMPLATE_HEADER] if with_header else []) + rows))


csv_cell = st.one_of(st.text(max_size=40), st.sampled_from(TEMPLATE_EXAMPLE + ["", '"', '""', "\r", "\n", "\x00",
                                                                             "\ufeff", "；", ","]))


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.lists(csv_cell, max_size=10), max_size=8), st.sampled_from(ENCODINGS), st.booleans())
def test_csv_text_in_any_encoding(rows, encoding, with_header):
    lines = ([",".join(TEMPLATE_HEADER)] if with_header else []) + [",".join(r) for r in rows]
    read("\r\n".join(lines).encode(encoding, errors="replace"))


@settings(max_examples=30, **SETTINGS)
@given(st.sampled_from(["csv", "xlsx"]), st.integers(min_value=1, max_value=400_000),
       st.sampled_from(TEMPLATE_HEADER[:5]), st.booleans())
def test_huge_cells(kind, size, column, quoted):
    big = "9" * size if column == TEMPLATE_HEADER[3] else "污" * size
    row = [big if name == column else value for name, value in zip(TEMPLATE_HEADER, TEMPLATE_EXAMPLE)]
    if kind == "xlsx":
        read(workbook_bytes([TEMPLATE_HEADER, [v[:32767] for v in row]]))
    else:
        cells_ = [f'"{v}"' if quoted else v for v in row]
        read((",".join(TEMPLATE_HEADER) + "\n" + ",".join(cells_) + "\n").encode())


def test_an_unclosed_quote_and_a_mid_file_encoding_switch_give_clear_errors():
    header = ",".join(TEMPLATE_HEADER).encode()
    unclosed = read(header + b'\n"DW001,w01018,2026-11-02 09:30,1,2026-11-04\n')
    assert all(isinstance(row, list) for row in unclosed), "an unclosed quote never yields a value"
    late_gbk = header + b"\n" + b"DW001,w01018,2026-11-02 09:30,1,2026-11-04\n" * 3000 + "废水".encode("gbk") + b"\n"
    read(late_gbk)
    read(b"\xff\xfe" + "x".encode("utf-16-le"))


def test_an_xlsx_uploaded_through_the_form_is_read(client, db, login):
    """Regression: the upload is stored under a random token without extension; openpyxl refused such a path, so
    every XLSX sent through the web form was reported as damaged."""
    import re

    import sqlalchemy as sa

    from portal.auth.models import Role
    from portal.monitoring.models import MonitoringValue
    from tests.factories import make_user
    from tests.monitoring.helpers import water_setup

    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    day = date.today()
    data = workbook_bytes([TEMPLATE_HEADER[:5], ["DW001", "w01018", datetime.combine(day, time(9, 30)), 35.6, day]])
    preview = client.post("/monitoring/my/results/upload", data={"file": (io.BytesIO(data), "results.xlsx")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200, re.findall(r'id="file-error"[^<]*<[^>]*>([^<]*)', preview.text)
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview.text).group(1)
    assert client.post("/monitoring/my/results/commit", data={"token": token}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 1
