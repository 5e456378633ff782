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
import time
from dataclasses import dataclass

from flask import current_app

from portal.complaints import rules
from portal.complaints.common import upload_root
from portal.complaints.uploads import PreparedFile
from portal.core.storage import Store

SESSION_KEY = "complaint_pending"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class KeptFile:
    name: str
    size: int
    prepared: PreparedFile


PREFIX = "pending/"  # keys: pending/<token>/meta.json (written last: a set is complete once it exists), <i>.orig/.pub


def _store() -> Store:
    return upload_root()  # the complaints area of portal/core/storage.py: every host sees the same kept files


def _ttl() -> int:
    return int(current_app.config.get("COMPLAINT_PENDING_TTL_SECONDS", 3600))


def _prefix(token: str) -> str | None:
    return f"{PREFIX}{token}/" if _TOKEN.match(token or "") else None


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters


def _expired(meta: dict, now: float) -> bool:
    return now - float(meta.get("created", 0)) > _ttl()


def _read_meta(store: Store, prefix: str) -> dict | None:
    raw = store.get(prefix + "meta.json")
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return None


def load(token: str, session_token: str | None, now: float | None = None) -> list[KeptFile] | None:
    """The files kept under token, or None when the token is unknown, expired or not this session's."""
    now = time.time() if now is None else now
    prefix = _prefix(token)
    if prefix is None or not session_token or not secrets.compare_digest(token, session_token):
        return None
    store = _store()
    meta = _read_meta(store, prefix)
    if meta is None:
        return None
    if _expired(meta, now):
        discard(token)
        return None
    kept = []
    for i, f in enumerate(meta.get("files", [])):
        original = store.get(f"{prefix}{i}.orig")
        public = store.get(f"{prefix}{i}.pub") if f["has_public"] else None
        if original is None or (f["has_public"] and public is None):
            return None
        if hashlib.sha256(original).hexdigest() != f["sha256"]:
            return None  # altered in the store: keep nothing rather than something unchecked
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
    store = _store()
    limit = int(current_app.config.get("COMPLAINT_PENDING_MAX_SETS", 500))
    if _count_sets(store) >= limit:
        sweep(now)
        if _count_sets(store) >= limit:
            return None
    token = new_token()
    prefix = f"{PREFIX}{token}/"
    meta = {"created": now, "files": []}
    for i, (name, p) in enumerate(files):
        store.put(f"{prefix}{i}.orig", p.original)
        if p.public is not None:
            store.put(f"{prefix}{i}.pub", p.public)
        meta["files"].append({"name": os.path.basename(name)[:200], "kind": p.kind, "content_type": p.content_type,
                              "ext": p.ext, "sha256": p.sha256, "has_public": p.public is not None})
    store.put(prefix + "meta.json", json.dumps(meta).encode("utf-8"))
    return token


def _count_sets(store: Store) -> int:
    return sum(1 for e in store.list(PREFIX) if e.key.endswith("/meta.json"))


def _delete_set(store: Store, prefix: str) -> None:
    for entry in list(store.list(prefix)):
        store.delete(entry.key)


def discard(token: str | None) -> None:
    prefix = _prefix(token or "")
    if prefix is not None:
        _delete_set(_store(), prefix)


def sweep(now: float | None = None) -> int:
    """Delete every kept set past its lifetime (and half-written ones); returns how many were deleted. A job."""
    now = time.time() if now is None else now
    store = _store()
    sets: dict[str, list] = {}
    for entry in store.list(PREFIX):
        sets.setdefault(entry.key[:len(PREFIX)].rstrip("/") + "/" + entry.key[len(PREFIX):].split("/", 1)[0] + "/",
                        []).append(entry)
    removed = 0
    for prefix, entries in sets.items():
        meta = _read_meta(store, prefix) if any(e.key.endswith("/meta.json") for e in entries) else None
        newest = max(e.modified.timestamp() for e in entries)
        if (meta is not None and _expired(meta, now)) or (meta is None and now - newest > _ttl()):
            _delete_set(store, prefix)
            removed += 1
    return removed
