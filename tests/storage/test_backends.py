"""The storage interface (portal/core/storage.py) behaves the same on the filesystem and on an S3-protocol server:
round trips, atomic replacement, key checks, local copies for importers, cleanup by age, streamed downloads."""
from __future__ import annotations

import hashlib
import io
import os
import tracemalloc

import pytest

from portal.core import storage
from portal.core.storage import FileStore, S3Store, files, remove_older_than, serve

BIG = 24 * 1024 * 1024


def test_the_backend_is_the_configured_one(app, backend):
    store = files("complaints")
    assert isinstance(store, S3Store if backend == "s3" else FileStore)


def test_put_get_open_exists_size_list_delete(app, backend):
    store = files("credit")
    assert store.get("ab/missing.pdf") is None and store.open("ab/missing.pdf") is None
    assert not store.exists("ab/missing.pdf") and store.size("ab/missing.pdf") is None
    store.put("ab/one.pdf", b"first")
    store.put("ab/one.pdf", b"second version")  # replaced whole
    store.put("cd/two.pdf", io.BytesIO(b"from a stream"))
    assert store.get("ab/one.pdf") == b"second version" and store.size("ab/one.pdf") == 14
    with store.open("cd/two.pdf") as fh:
        assert fh.read(4) == b"from"
    assert sorted(e.key for e in store.list()) == ["ab/one.pdf", "cd/two.pdf"]
    assert [e.key for e in store.list("cd/")] == ["cd/two.pdf"]
    assert store.put_new("ab/one.pdf", b"other") is False and store.get("ab/one.pdf") == b"second version"
    store.delete("ab/one.pdf")
    store.delete("ab/one.pdf")  # already gone: no error
    assert not store.exists("ab/one.pdf") and [e.key for e in store.list()] == ["cd/two.pdf"]
    assert files("opendata").get("cd/two.pdf") is None  # areas do not see each other's keys


@pytest.mark.parametrize("key", ["../secret", "/etc/passwd", "a/../../b", ".hidden", "a//b", "a\\b", "", "a/"])
def test_keys_that_could_leave_the_area_are_refused(app, backend, key):
    with pytest.raises(ValueError):
        files("complaints").put(key, b"x")
    with pytest.raises(ValueError):
        files("complaints").get(key)


def test_put_file_moves_a_finished_file_in(app, backend, tmp_path):
    local = tmp_path / "built.csv"
    local.write_bytes(b"a,b\n1,2\n")
    files("opendata").put_file("built.csv", local)
    assert not local.exists() and files("opendata").get("built.csv") == b"a,b\n1,2\n"


def test_a_local_copy_for_readers_that_need_a_path(app, backend):
    store = files("monitoring-uploads")
    store.put("token", b"header\nrow\n")
    with store.as_local_file("token") as path:
        assert path.read_bytes() == b"header\nrow\n"
    assert path.exists() == (backend == "filesystem")  # the object's own file, or a temporary copy removed
    with store.as_local_file("nothing") as path:
        assert path is None


def test_stale_monitoring_uploads_are_removed_on_both_backends(app, backend, monkeypatch):
    from portal.monitoring import jobs

    store = files("monitoring-uploads")
    store.put("old-token", b"x")
    assert jobs.remove_stale_uploads() == 0 and store.exists("old-token")  # written just now: kept
    later = storage.time.time() + 48 * 3600
    monkeypatch.setattr(storage.time, "time", lambda: later)
    assert jobs.remove_stale_uploads() == 1 and not store.exists("old-token")
    assert remove_older_than(store, 3600) == 0


def _big_object(store, tmp_path) -> str:
    path = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        block = os.urandom(1 << 20)
        for i in range(BIG >> 20):
            chunk = bytes([i % 251]) + block[1:]
            digest.update(chunk)
            fh.write(chunk)
    with path.open("rb") as fh:
        store.put("big.bin", fh)  # multipart upload on S3
    return digest.hexdigest()


def test_a_download_streams_without_holding_the_file_in_memory(app, backend, tmp_path):
    store = files("opendata")
    expected = _big_object(store, tmp_path)
    with app.test_request_context("/opendata/big.csv"):
        tracemalloc.start()
        response = serve(store, "big.bin", mimetype="application/octet-stream", as_attachment=True,
                         download_name="big.bin", etag="v1")
        digest, size = hashlib.sha256(), 0
        for chunk in response.response:
            digest.update(chunk)
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        response.close()
    assert response.status_code == 200 and response.content_length == BIG == size
    assert digest.hexdigest() == expected
    assert peak < 4 * 1024 * 1024, peak  # a few chunks, not 24 MB


def test_conditional_and_missing_downloads(app, backend):
    store = files("opendata")
    store.put("file.csv", b"x,y\n")
    with app.test_request_context("/", headers={"If-None-Match": '"abc"'}):
        response = serve(store, "file.csv", mimetype="text/csv", etag="abc")
        assert response.status_code == 304 and not response.is_streamed
    with app.test_request_context("/"):
        assert serve(store, "nothing.csv", mimetype="text/csv") is None
        response = serve(store, "file.csv", mimetype="text/csv", download_name="数据.csv", as_attachment=True)
        assert b"".join(response.response) == b"x,y\n"
        assert "filename*=UTF-8''%E6%95%B0%E6%8D%AE.csv" in response.headers["Content-Disposition"]


def test_an_unknown_backend_or_missing_bucket_is_a_clear_error(app, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE", "ftp")
    with pytest.raises(storage.StorageError, match="STORAGE must be"):
        files("complaints")
    monkeypatch.setitem(app.config, "STORAGE", "s3")
    monkeypatch.setitem(app.config, "STORAGE_S3_BUCKET", "")
    app.extensions.pop("portal_storage", None)
    with pytest.raises(storage.StorageError, match="STORAGE_S3_BUCKET"):
        files("complaints")
    app.extensions.pop("portal_storage", None)
