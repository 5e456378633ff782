"""An XLSX decompression bomb (about 300 KB that unpacks to about 130 MB of shared strings) is refused from the
archive's directory, before anything is inflated: memory stays flat (issue 20). Without the check openpyxl would
build one Python string per <si> entry (7.5 million here: several hundred MB)."""
from __future__ import annotations

import io
import resource
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from portal.core import archives
from portal.monitoring.importers import TEMPLATE_HEADER, ImportFailed, read_rows

SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
ENTRY = b"<si><t>x</t></si>"


def _bomb(entries: int) -> bytes:
    """A valid workbook whose shared-strings part holds `entries` strings, deflated while written (the builder
    never holds the unpacked part)."""
    wb = Workbook()
    wb.active.append(TEMPLATE_HEADER[:5])
    plain = io.BytesIO()
    wb.save(plain)
    src = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST}"/>'
                                                 f"</Types>".encode())
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdS" Type="{REL}" '
                                                         f'Target="sharedStrings.xml"/></Relationships>'.encode())
            z.writestr(item.filename, data)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                       b'spreadsheetml/2006/main">')
            chunk = ENTRY * 65536
            for _ in range(entries // 65536):
                part.write(chunk)
            part.write(b"</sst>")
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = _bomb(7_500_000)
    assert 200_000 < len(data) < 400_000  # the size of the bomb in the report
    return data


def test_the_bomb_is_refused_before_parsing_and_memory_stays_flat(app, tmp_path, bomb):
    path = tmp_path / "bomb"
    path.write_bytes(bomb)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    try:
        with app.test_request_context(), pytest.raises(ImportFailed, match="200 MB"):
            list(read_rows(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak Python allocation {peak / 1e6:.1f} MB"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50 * 1024


def test_the_upload_form_names_the_problem_and_the_fix(client, db, login, bomb):
    from portal.auth.models import Role
    from tests.factories import make_user
    from tests.monitoring.helpers import water_setup

    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    response = client.post("/monitoring/my/results/upload", data={"file": (io.BytesIO(bomb), "results.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "CSV" in response.text and ("200 MB" in response.text)


@pytest.mark.parametrize("change", ["ratio", "members", "total"])
def test_each_cap_is_enforced_on_its_own(app, tmp_path, monkeypatch, change):
    wb = Workbook()
    wb.active.append(TEMPLATE_HEADER[:5])
    wb.active.append(["DW001", "w01018", "2026-11-02 09:30", "35.6", "2026-11-04"])
    path = tmp_path / "book"
    wb.save(path)
    with app.test_request_context():
        assert len(list(read_rows(path))) == 1  # an ordinary workbook passes every cap
        monkeypatch.setattr(archives, {"ratio": "XLSX_RATIO_FLOOR", "members": "XLSX_MAX_MEMBERS",
                                        "total": "XLSX_MAX_UNCOMPRESSED"}[change], 1 if change != "ratio" else 10)
        if change == "ratio":
            monkeypatch.setattr(archives, "XLSX_MAX_RATIO", 1)
        with pytest.raises(ImportFailed):
            list(read_rows(path))


def test_the_holiday_schedule_import_refuses_the_bomb_unread(app, bomb, monkeypatch):
    """Every XLSX upload is bounded before it is parsed: the admin's calendar import too."""
    from portal.workdays import importing

    def never(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read a refused archive")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    with app.test_request_context():
        with pytest.raises(importing.ImportFailed, match="unpacks to more data|解压后的数据量超过"):
            importing.parse(bomb, 2027)
