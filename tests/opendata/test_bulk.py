"""Bulk CSV: files in dictionary order with a BOM, public rows only, counts without personal data, the export job,
downloads with the file digest as ETag, the data dictionary page and datapackage.json."""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json

import pytest

from portal.jobs.registry import JOBS
from portal.jobs.runner import run_job
from portal.opendata import bulk
from portal.opendata.catalog import BY_NAME, FILES


def read_csv(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture
def built(world, export_dir):
    bulk.build_all()
    return world


def test_every_file_has_the_dictionary_columns_in_order(built, export_dir):
    for spec in FILES:
        raw = (export_dir / spec.filename).read_bytes()
        header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert header == spec.header, spec.name
        assert len(set(header)) == len(header)


def test_enterprises_file_lists_every_enterprise_without_the_phone(built, export_dir):
    a, b = built
    rows = {r["uscc"]: r for r in read_csv(export_dir / "enterprises.csv")}
    assert set(rows) == {a.uscc, b.uscc}
    assert rows[a.uscc]["name"] == "华能化工有限公司"
    assert rows[a.uscc]["former_names"] == "华能化学品厂|华能厂"
    assert rows[a.uscc]["region_name"] == "涟水县"
    assert rows[b.uscc]["industry_code"] == "4411"
    assert rows[a.uscc]["is_listed"] in ("true", "false")
    assert "contact_phone" not in rows[a.uscc]


def test_grades_and_lists_hold_only_public_current_facts(built, export_dir):
    a, _b = built
    grades = read_csv(export_dir / "grades.csv")
    assert [(g["uscc"], g["grade"], g["score"], g["vetoed"], g["as_of"]) for g in grades] == [
        (a.uscc, "blue", "9", "false", "2026-03-01")]
    lists = read_csv(export_dir / "lists.csv")
    assert [(r["list"], r["uscc"], r["listed_on"], r["removable_from"], r["expires_on"]) for r in lists] == [
        ("black", a.uscc, "2026-02-01", "2027-02-01", "2029-02-01")]  # the white-list candidate is not public


def test_disclosure_index_has_published_reports_with_digest_and_link(built, export_dir):
    rows = read_csv(export_dir / "disclosures.csv")
    assert [(r["kind"], r["year"], r["trigger"], r["published_at"]) for r in rows] == [
        ("annual", "2025", "", "2026-03-10T02:00:00Z"), ("temporary", "", "admin_penalty", "2026-04-01T02:00:00Z")]
    assert rows[0]["url"].endswith("/disclosures/" + "a" * 64)


def test_monitoring_file_has_monthly_rollups_in_china_months_with_units(built, export_dir):
    a, _b = built
    rows = read_csv(export_dir / "monitoring_monthly.csv")
    assert len(rows) == 1  # the daily roll-up is not in the monthly file
    row = rows[0]
    assert (row["uscc"], row["outlet_code"], row["pollutant_code"], row["month"]) == (a.uscc, "DW001", "w01018",
                                                                                      "2026-03")
    assert float(row["mean"]) == 21.5 and row["min"] == "3.25" and row["max"] == "61.0"
    assert row["mean_converted"] == ""
    assert row["unit"] == "mg/L"


def test_complaint_statistics_are_counts_only_and_skip_merged_duplicates(built, export_dir):
    raw = (export_dir / "complaints_monthly.csv").read_text(encoding="utf-8-sig")
    assert "污水" not in raw and "小作坊" not in raw  # no complaint text, no reported names
    rows = read_csv(export_dir / "complaints_monthly.csv")
    by_category = {r["category"]: r for r in rows}
    assert by_category["water"]["received"] == "2"  # three about 华能, one merged into another
    assert by_category["air"]["received"] == "1"
    assert {r["region_code"] for r in rows} == {"320826"}
    assert rows[0]["region_name"] == "涟水县"
    assert set(rows[0]) == set(BY_NAME["complaints_monthly"].header)


def test_files_are_written_batch_by_batch(world, export_dir, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH", 1)
    bulk.build_all(["enterprises"])
    assert len(read_csv(export_dir / "enterprises.csv")) == 2
    assert json.loads((export_dir / "manifest.json").read_text())["files"].keys() == {"enterprises"}


def test_export_job_is_registered_and_writes_the_manifest(app, world, export_dir):
    assert "opendata-export" in JOBS
    outcome = run_job(app, "opendata-export")
    assert outcome.ok, outcome.detail
    assert "enterprises: 2 rows" in outcome.detail
    manifest = json.loads((export_dir / "manifest.json").read_text())
    entry = manifest["files"]["grades"]
    assert entry["rows"] == 1
    assert entry["sha256"] == hashlib.sha256((export_dir / "grades.csv").read_bytes()).hexdigest()
    assert not list(export_dir.glob(".*.tmp"))


def test_download_streams_the_file_with_its_digest_as_etag(client, built, export_dir):
    response = client.get("/opendata/enterprises.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body == (export_dir / "enterprises.csv").read_bytes()
    assert response.headers["ETag"] == '"%s"' % hashlib.sha256(body).hexdigest()
    assert response.headers["Last-Modified"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/opendata/enterprises.csv", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    response.close()


def test_unknown_or_unbuilt_files_are_404(client, world):
    assert client.get("/opendata/enterprises.csv").status_code == 404  # not built yet
    bulk.build_all()
    assert client.get("/opendata/passwords.csv").status_code == 404


def test_dictionary_page_lists_every_file_and_column_in_both_languages(client, built):
    page = client.get("/opendata").get_data(as_text=True)
    for spec in FILES:
        assert spec.title_zh in page and spec.title_en in page
        assert f"/opendata/{spec.filename}" in page
        for column in spec.columns:
            assert f"<code>{column.name}</code>" in page
            assert column.zh in page and column.en in page
    assert "件" in page and "cases" in page  # units


def test_dictionary_page_says_when_a_file_is_not_built(client, world):
    page = client.get("/opendata?lang=en").get_data(as_text=True)
    assert "Not built yet" in page


def test_datapackage_describes_every_file(client, built):
    package = client.get("/opendata/datapackage.json").get_json()
    names = [r["name"] for r in package["resources"]]
    assert names == [s.name.replace("_", "-") for s in FILES]
    grades = package["resources"][1]
    assert [f["name"] for f in grades["schema"]["fields"]] == BY_NAME["grades"].header
    assert grades["hash"].startswith("sha256:") and grades["path"].endswith("/opendata/grades.csv")
