"""One storage interface for every file the portal keeps (issue 23): complaint photos, evidence attachments,
monitoring uploads and lab reports, open-data files and the development mail sink.

Callers name an *area* (``files("complaints")``) and a *key* inside it (``originals/ab/ab12….jpg``), never a path.
Two backends read and write the same keys:

- ``filesystem`` (the default, embedded): each area is a directory, by default under instance/ and overridable by
  the area's own setting (COMPLAINT_UPLOAD_DIR, …), laid out exactly as before, so existing files keep working.
- ``s3`` (PORTAL_STORAGE=s3): one bucket of an S3-protocol object store (MinIO, Ceph RGW, a cloud's store) through
  boto3; the area is the first part of the object key. Every host of the installation sees every file.

Writes are atomic on both backends (a temporary file renamed into place; an S3 PUT is visible whole or not at all).
Reads stream: ``open`` returns a file object read in chunks, and ``serve`` answers a download without loading the
file into memory.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from flask import Flask, Response, current_app, request

CHUNK = 256 * 1024
KEY_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._@-]*(/[A-Za-z0-9_-][A-Za-z0-9._@-]*)*$")  # no leading dot: temporaries

# area -> (its directory setting, the default directory under instance/). Renaming a default moves existing files.
AREAS: dict[str, tuple[str, str]] = {
    "complaints": ("COMPLAINT_UPLOAD_DIR", "uploads/complaints"),
    "credit": ("CREDIT_UPLOAD_DIR", "uploads/credit"),
    "monitoring-uploads": ("MONITORING_UPLOAD_DIR", "uploads/monitoring"),
    "monitoring-reports": ("MONITORING_REPORT_DIR", "uploads/monitoring-reports"),
    "opendata": ("OPENDATA_DIR", "opendata"),
    "mail": ("MAIL_DIR", "mail"),
}


class StorageError(RuntimeError):
    """The store cannot be reached or refused the operation (not: the key does not exist)."""


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    modified: datetime  # aware, UTC


def check_key(key: str) -> str:
    """Keys are relative names of safe characters: no '..', no leading '/', no backslash."""
    if not isinstance(key, str) or len(key) > 512 or not KEY_RE.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Store:
    """One area of the storage. Subclasses implement the primitives."""

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        """Write (or replace) the object atomically from bytes or a readable file object (read in chunks)."""
        raise NotImplementedError

    def put_file(self, key: str, path: Path) -> None:
        """Move a finished local file into the store (the local file is gone afterwards)."""
        raise NotImplementedError

    def put_new(self, key: str, data: bytes) -> bool:
        """Content-addressed write: skipped when the key exists (same name, same bytes). True when written."""
        if self.exists(key):
            return False
        self.put(key, data)
        return True

    def open(self, key: str) -> BinaryIO | None:
        """A readable stream of the object (the caller closes it), None when there is none."""
        raise NotImplementedError

    def get(self, key: str) -> bytes | None:
        fh = self.open(key)
        if fh is None:
            return None
        with fh:
            return fh.read()

    def stat(self, key: str) -> Entry | None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def size(self, key: str) -> int | None:
        entry = self.stat(key)
        return entry.size if entry else None

    def delete(self, key: str) -> None:
        """Remove the object; nothing happens when it is already gone."""
        raise NotImplementedError

    def list(self, prefix: str = "") -> Iterator[Entry]:
        raise NotImplementedError

    def local_path(self, key: str) -> Path | None:
        """The object's own file when the backend keeps one (filesystem), else None."""
        return None

    @contextmanager
    def as_local_file(self, key: str) -> Iterator[Path | None]:
        """A local file with the object's bytes for readers that need a path or seeking (CSV/XLSX imports):
        the object's own file on the filesystem backend, a streamed temporary copy (deleted afterwards) on S3.
        Yields None when the object does not exist."""
        own = self.local_path(key)
        if own is not None:
            yield own if own.is_file() else None
            return
        src = self.open(key)
        if src is None:
            yield None
            return
        fd, name = tempfile.mkstemp(prefix="portal-storage-")
        try:
            with src, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)


class FileStore(Store):
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def _temp(self, path: Path) -> tuple[int, str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        path = self._path(key)
        fd, tmp = self._temp(path)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out, CHUNK)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        fd, tmp = self._temp(target)
        os.close(fd)
        try:
            shutil.move(str(path), tmp)  # a rename when both are on one file system
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO | None:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def stat(self, key: str) -> Entry | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not os.path.isfile(self._path(key)):
            return None
        return Entry(key, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for dirpath, _dirs, names in os.walk(self.root):
            for name in sorted(names):
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if name.startswith(".") or not key.startswith(prefix) or not KEY_RE.match(key):
                    continue  # temporary files of writes in progress
                try:
                    st = full.stat()
                except FileNotFoundError:
                    continue
                yield Entry(key, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))


class S3Store(Store):
    def __init__(self, client: Any, bucket: str, prefix: str):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix  # "<installation prefix><area>/"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=bytes(data))
        else:  # multipart above the transfer threshold: memory stays at a few chunks
            self.client.upload_fileobj(data, self.bucket, self._key(key))

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self._key(key))
        Path(path).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise

    def stat(self, key: str) -> Entry | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise
        return Entry(key, int(head["ContentLength"]), head["LastModified"].astimezone(timezone.utc))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[Entry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for obj in page.get("Contents", ()):
                yield Entry(obj["Key"][len(self.prefix):], int(obj["Size"]),
                            obj["LastModified"].astimezone(timezone.utc))


# --- configuration --------------------------------------------------------------------------------------------------

def backend_name(app: Flask) -> str:
    name = str(app.config.get("STORAGE") or "filesystem").strip().lower()
    if name not in ("filesystem", "s3"):
        raise StorageError(f"STORAGE must be 'filesystem' or 's3', not {name!r}.")
    return name


def s3_client(app: Flask) -> Any:
    """One boto3 client per app (boto3 clients are thread-safe), built from the STORAGE_S3_* settings."""
    state = app.extensions.setdefault("portal_storage", {})
    if "client" not in state:
        import boto3
        from botocore.config import Config as BotoConfig

        cfg = app.config
        if not cfg.get("STORAGE_S3_BUCKET"):
            raise StorageError("STORAGE=s3 needs STORAGE_S3_BUCKET (and STORAGE_S3_ENDPOINT for a non-AWS store).")
        state["client"] = boto3.client(
            "s3", endpoint_url=cfg.get("STORAGE_S3_ENDPOINT") or None,
            region_name=cfg.get("STORAGE_S3_REGION") or "us-east-1",
            aws_access_key_id=cfg.get("STORAGE_S3_ACCESS_KEY") or None,
            aws_secret_access_key=cfg.get("STORAGE_S3_SECRET_KEY") or None,
            config=BotoConfig(signature_version="s3v4", retries={"max_attempts": 4, "mode": "standard"},
                              connect_timeout=5, read_timeout=60,
                              s3={"addressing_style": cfg.get("STORAGE_S3_ADDRESSING") or "path"}))
    return state["client"]


def area_dir(app: Flask, area: str) -> Path:
    setting, default = AREAS[area]
    configured = app.config.get(setting)
    if configured:
        return Path(configured)
    if area == "monitoring-reports" and app.config.get("MONITORING_UPLOAD_DIR"):
        return Path(app.config["MONITORING_UPLOAD_DIR"]).parent / "monitoring-reports"  # the layout before issue 23
    return Path(app.instance_path) / default


def files(area: str, app: Flask | None = None) -> Store:
    """The store of one area for the current app."""
    if area not in AREAS:
        raise KeyError(area)
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if backend_name(app) == "s3":
        prefix = str(app.config.get("STORAGE_S3_PREFIX") or "").strip("/")
        return S3Store(s3_client(app), app.config["STORAGE_S3_BUCKET"], f"{prefix}/{area}/" if prefix else f"{area}/")
    return FileStore(area_dir(app, area))


def remove_older_than(store: Store, max_age_seconds: float, prefix: str = "") -> int:
    """Delete the area's objects last written more than max_age_seconds ago (cleanup jobs); returns the count."""
    cutoff = datetime.fromtimestamp(time.time() - max_age_seconds, timezone.utc)
    removed = 0
    for entry in list(store.list(prefix)):
        if entry.modified < cutoff:
            store.delete(entry.key)
            removed += 1
    return removed


# --- answering a download -------------------------------------------------------------------------------------------

def serve(store: Store, key: str, *, mimetype: str, as_attachment: bool = False, download_name: str | None = None,
          etag: str | None = None, last_modified: datetime | None = None, max_age: int | None = 0,
          conditional: bool = True) -> Response | None:
    """A response streaming the object in chunks (None when it does not exist), from either backend; memory stays at
    one chunk whatever the size. The object is opened only when the body is sent and closed when it ends (or the
    client goes away), so a 304, a HEAD or an abandoned response leaves no open file behind."""
    entry = store.stat(key)
    if entry is None:
        return None
    response = Response(mimetype=mimetype)
    if etag:
        response.set_etag(etag)
    response.last_modified = last_modified or entry.modified
    if max_age is not None:
        response.cache_control.max_age = max_age
        response.cache_control.public = max_age > 0
        response.cache_control.no_cache = max_age == 0 or None
    if download_name is not None:
        response.headers["Content-Disposition"] = _disposition(download_name, as_attachment)
    response.content_length = entry.size
    if conditional:
        response = response.make_conditional(request.environ)
        if response.status_code == 304:
            return response
    if request.method == "HEAD":
        return response

    def chunks() -> Iterator[bytes]:
        body = store.open(key)
        if body is None:  # deleted between the stat and now: the short body fails the client's length check
            return
        try:
            while block := body.read(CHUNK):
                yield block
        finally:
            body.close()

    response.response = chunks()
    response.direct_passthrough = True
    response.content_length = entry.size
    return response


def _disposition(name: str, as_attachment: bool) -> str:
    """RFC 6266: an ASCII fallback name, and the UTF-8 name (RFC 5987) when it has other characters."""
    from urllib.parse import quote

    kind = "attachment" if as_attachment else "inline"
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name) or "file"
    if fallback == name:
        return f"{kind}; filename={name}"
    return f"{kind}; filename={fallback}; filename*=UTF-8''{quote(name)}"
