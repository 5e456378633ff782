"""Files of a complaint form that failed validation, kept server-side so the reporter need not choose them again
(issue 21: the phone form silently dropped the photo after any error).

Only files that passed the same checks as a submitted file (uploads.prepare_upload: sniffed, size- and
pixel-capped, re-encoded) are kept, at most rules.MAX_ATTACHMENTS per form, under a short-lived random token in a
directory of their own. The token is also stored in the reporter's signed session cookie and must match it, so a
token copied to another browser opens nothing. Kept files expire after COMPLAINT_PENDING_TTL_SECONDS; an expired
set is deleted when next touched and by the `complaint-pending-sweep` job. When too many sets are waiting
(COMPLAINT_PENDING_MAX_SETS) nothing more is kept and the form says the files must be chosen again."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portal.complaints import rules
from portal.complaints.common import upload_root
from portal.complaints.uploads import PreparedFile

SESSION_KEY = "complaint_pending"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class KeptFile:
    name: str
    size: int
    prepared: PreparedFile


def _base() -> Path:
    return upload_root() / "pending"


def _ttl() -> int:
    return int(current_app.config.get("COMPLAINT_PENDING_TTL_SECONDS", 3600))


def _dir(token: str) -> Path | None:
    return _base() / token if _TOKEN.match(token or "") else None


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters


def _expired(meta: dict, now: float) -> bool:
    return now - float(meta.get("created", 0)) > _ttl()


def _read_meta(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def load(token: str, session_token: str | None, now: float | None = None) -> list[KeptFile] | None:
    """The files kept under token, or None when the token is unknown, expired or not this session's."""
    now = time.time() if now is None else now
    folder = _dir(token)
    if folder is None or not session_token or not secrets.compare_digest(token, session_token):
        return None
    meta = _read_meta(folder)
    if meta is None:
        return None
    if _expired(meta, now):
        discard(token)
        return None
    kept = []
    for i, f in enumerate(meta.get("files", [])):
        try:
            original = (folder / f"{i}.orig").read_bytes()
            public = (folder / f"{i}.pub").read_bytes() if f["has_public"] else None
        except OSError:
            return None
        if hashlib.sha256(original).hexdigest() != f["sha256"]:
            return None  # altered on disk: keep nothing rather than something unchecked
        kept.append(KeptFile(f["name"], len(original), PreparedFile(f["kind"], f["content_type"], f["ext"],
                                                                    original, public, f["sha256"])))
    return kept


def keep(files: list[tuple[str, PreparedFile]], token: str | None = None, now: float | None = None) -> str | None:
    """Write the (already checked) files under a new token, replacing the set under `token`; returns the new token,
    or None when nothing is to be kept or too many sets are waiting."""
    now = time.time() if now is None else now
    if token:
        discard(token)
    files = files[:rules.MAX_ATTACHMENTS]
    if not files:
        return None
    base = _base()
    base.mkdir(parents=True, exist_ok=True)
    limit = int(current_app.config.get("COMPLAINT_PENDING_MAX_SETS", 500))
    if sum(1 for _ in os.scandir(base)) >= limit:
        sweep(now)
        if sum(1 for _ in os.scandir(base)) >= limit:
            return None
    token = new_token()
    folder = base / token
    tmp = base / f".{token}.tmp"
    tmp.mkdir()
    meta = {"created": now, "files": []}
    for i, (name, p) in enumerate(files):
        (tmp / f"{i}.orig").write_bytes(p.original)
        if p.public is not None:
            (tmp / f"{i}.pub").write_bytes(p.public)
        meta["files"].append({"name": os.path.basename(name)[:200], "kind": p.kind, "content_type": p.content_type,
                              "ext": p.ext, "sha256": p.sha256, "has_public": p.public is not None})
    (tmp / "meta.json").write_text(json.dumps(meta), "utf-8")
    os.replace(tmp, folder)
    return token


def discard(token: str | None) -> None:
    folder = _dir(token or "")
    if folder is not None and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def sweep(now: float | None = None) -> int:
    """Delete every kept set past its lifetime (and half-written ones); returns how many were deleted. A job."""
    now = time.time() if now is None else now
    base = _base()
    if not base.is_dir():
        return 0
    removed = 0
    for entry in os.scandir(base):
        path = Path(entry.path)
        meta = _read_meta(path) if entry.is_dir() else None
        stale = meta is None and now - entry.stat().st_mtime > _ttl()
        if (meta is not None and _expired(meta, now)) or stale:
            shutil.rmtree(path, ignore_errors=True) if entry.is_dir() else path.unlink(missing_ok=True)
            removed += 1
    return removed
