"""Background import of large manual-result files: queued from the upload, checked as a stream with progress,
confirmed, written all or nothing; the progress page (no-JS refresh + script) and its JSON status."""
from __future__ import annotations

import io
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.monitoring import imports, manual
from portal.monitoring.models import ImportJob, ImportStatus, ManualSubmission, MonitoringValue
from tests.factories import make_user
from tests.monitoring.helpers import deadlock, water_setup

HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记\n"


def _rows(n: int, start=datetime(2026, 1, 1)) -> str:
    return "".join(f"DW001,w01018,{(start + timedelta(minutes=i)).strftime('%Y-%m-%d %H:%M')},{20 + i % 7},"
                   f"2026-11-04,淮安检测,HJ 828-2017,N\n" for i in range(n))


@pytest.fixture
def staff(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MONITORING_IMPORT_INLINE_BYTES", 0)  # every upload goes to the background
    ent, _, _ = water_setup(db)
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    return user


def _upload(client, text: str, name="r.csv"):
    return client.post("/monitoring/my/results/upload", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_large_upload_is_queued_checked_confirmed_and_written_in_the_background(client, db, staff, login):
    login(staff)
    response = _upload(client, HEADER + _rows(30))
    assert response.status_code == 302 and "/monitoring/my/imports/" in response.headers["Location"]
    job = db.session.scalar(sa.select(ImportJob))
    assert job.status == ImportStatus.QUEUED and manual.upload_store().exists(job.token)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in page and "monitoring-import.js" in page and "<progress" in page
    status = client.get(f"/monitoring/my/imports/{job.id}/status.json").json
    assert status["status"] == "queued" and status["finished"] is False

    assert "1 import steps" in imports.run_pending()
    status = client.get(f"/monitoring/my/imports/{job.id}/status.json").json
    assert (status["status"], status["rows_total"], status["waiting_for_confirmation"]) == ("checked", 30, True)
    page = client.get(f"/monitoring/my/imports/{job.id}").get_data(as_text=True)
    assert f"/monitoring/my/imports/{job.id}/commit" in page and "noscript" not in page
    assert _count(db, MonitoringValue) == 0  # nothing saved before the confirmation

    assert client.post(f"/monitoring/my/imports/{job.id}/commit", data={}).status_code == 302
    imports.run_pending()
    status = client.get(f"/monitoring/my/imports/{job.id}/status.json").json
    assert (status["status"], status["percent"], status["result"]["inserted"]) == ("done", 100, 30)
    assert _count(db, MonitoringValue) == 30 and _count(db, ManualSubmission) == 1
    db.session.refresh(job)
    assert not manual.upload_store().exists(job.token)
    assert client.post(f"/monitoring/my/imports/{job.id}/commit", data={}).status_code == 302
    imports.run_pending()
    assert _count(db, MonitoringValue) == 30  # a second confirmation writes nothing


def test_row_errors_reject_the_file_with_line_and_column(client, db, staff, login):
    login(staff)
    _upload(client, HEADER + _rows(3) + "DW001,w01018,2026-01-05 10:00,abc,2026-11-04,,,\n")
    imports.run_pending()
    job = db.session.scalar(sa.select(ImportJob))
    db.session.refresh(job)
    assert job.status == ImportStatus.REJECTED and job.error_count == 1
    assert job.errors[0][:2] == [5, "监测结果"]
    page = client.get(f"/monitoring/my/imports/{job.id}").get_data(as_text=True)
    assert "监测结果" in page and "/commit" not in page
    assert not manual.upload_store().exists(job.token)


def test_an_unreadable_file_fails_without_saving(client, db, staff, login):
    login(staff)
    _upload(client, "just,some,text\n1,2,3\n")
    imports.run_pending()
    job = db.session.scalar(sa.select(ImportJob))
    db.session.refresh(job)
    assert job.status == ImportStatus.FAILED and job.message


def _confirmed_35_rows(client, db, monkeypatch) -> ImportJob:
    """A checked 35-row upload, confirmed and waiting to be written in chunks of 10."""
    monkeypatch.setattr(manual, "CHUNK", 10)
    _upload(client, HEADER + _rows(35))
    imports.run_pending()
    job = db.session.scalar(sa.select(ImportJob))
    client.post(f"/monitoring/my/imports/{job.id}/commit", data={})
    return job


def test_a_failure_while_writing_leaves_nothing_written(client, db, staff, login, monkeypatch):
    login(staff)
    job = _confirmed_35_rows(client, db, monkeypatch)
    calls = []
    real = manual._flush_chunk

    def flaky(chunk, specs, result):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real(chunk, specs, result)

    monkeypatch.setattr(manual, "_flush_chunk", flaky)
    imports.run_pending()
    db.session.refresh(job)
    assert calls == [10, 10, 10] and job.status == ImportStatus.FAILED
    assert _count(db, MonitoringValue) == 0 and _count(db, ManualSubmission) == 0


def test_a_write_aborted_by_a_deadlock_runs_again_from_the_first_row_and_stores_each_row_once(
        client, db, staff, login, monkeypatch):
    login(staff)
    job = _confirmed_35_rows(client, db, monkeypatch)
    calls = []
    real = manual._flush_chunk

    def victim_once(chunk, specs, result):  # PostgreSQL aborts the first attempt in its third chunk
        calls.append(len(chunk))
        if len(calls) == 3:
            raise deadlock()
        real(chunk, specs, result)

    monkeypatch.setattr(manual, "_flush_chunk", victim_once)
    imports.run_pending()
    db.session.refresh(job)
    assert calls == [10, 10, 10, 10, 10, 10, 5]  # three chunks, then the whole file again
    assert (job.status, job.result["inserted"]) == (ImportStatus.DONE, 35)
    assert _count(db, MonitoringValue) == 35 and _count(db, ManualSubmission) == 1


def test_check_progress_is_reported_while_reading(client, db, staff, login, monkeypatch):
    login(staff)
    monkeypatch.setattr(imports, "CHECK_EVERY", 4)
    seen = []
    real = imports._update

    def spy(job_id, where_status=None, **values):
        if set(values) == {"rows_done"}:
            seen.append(values["rows_done"])
        return real(job_id, where_status, **values)

    monkeypatch.setattr(imports, "_update", spy)
    _upload(client, HEADER + _rows(13))
    imports.run_pending()
    assert seen == [4, 8, 12]


def test_a_claimed_job_is_not_processed_twice_and_stale_jobs_fail(client, db, staff, login):
    login(staff)
    _upload(client, HEADER + _rows(2))
    job = db.session.scalar(sa.select(ImportJob))
    assert imports._update(job.id, (ImportStatus.QUEUED,), status="checking", started_at=datetime.now(timezone.utc))
    assert imports.process(job.id) is None  # another worker has it
    assert imports.fail_stale(now=datetime.now(timezone.utc) + timedelta(hours=2)) == 1
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).status == ImportStatus.FAILED


def test_another_enterprise_sees_nothing(client, db, staff, login):
    login(staff)
    _upload(client, HEADER + _rows(2))
    job = db.session.scalar(sa.select(ImportJob))
    other, _, _ = water_setup(db, mn="MNW0009")
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=other))
    db.session.commit()
    assert client.get(f"/monitoring/my/imports/{job.id}").status_code == 404
    assert client.get(f"/monitoring/my/imports/{job.id}/status.json").status_code == 404
    assert client.post(f"/monitoring/my/imports/{job.id}/commit", data={}).status_code == 404


def test_small_files_keep_the_inline_preview(client, db, staff, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "MONITORING_IMPORT_INLINE_BYTES", 1024 * 1024)
    login(staff)
    response = _upload(client, HEADER + _rows(2))
    assert response.status_code == 200 and _count(db, ImportJob) == 0


@pytest.mark.slow
def test_100000_rows_stream_through_the_background_path_in_flat_memory(client, db, staff, login):
    login(staff)
    manual.upload_store().put("big", (HEADER + _rows(100_000)).encode("utf-8"))
    job = imports.queue(staff, staff.enterprise, "big", "big.csv")
    db.session.commit()
    tracemalloc.start()
    imports.run_pending()  # check
    _, check_peak = tracemalloc.get_traced_memory()
    db.session.refresh(job)
    assert job.status == ImportStatus.CHECKED and job.rows_total == 100_000
    client.post(f"/monitoring/my/imports/{job.id}/commit", data={})
    tracemalloc.reset_peak()
    imports.run_pending()  # write
    _, write_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.session.refresh(job)
    assert job.status == ImportStatus.DONE and _count(db, MonitoringValue) == 100_000
    # The file is about 7 MB and 100,000 parsed rows would take far more; the import holds a chunk at a time.
    assert check_peak < 8 * 1024 * 1024, check_peak
    assert write_peak < 40 * 1024 * 1024, write_peak
