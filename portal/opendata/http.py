"""HTTP caching and CORS for the open-data surfaces (/api/v1, /open311, /opendata, the .atom and .ics feeds): one
after_request hook.

- Every successful GET gets a strong ETag (SHA-256 of the body, so it changes exactly when the bytes do) and a
  Last-Modified; If-None-Match / If-Modified-Since are honoured with 304 (RFC 9110 §13: If-None-Match wins).
- Last-Modified is the view's own value when it set one (bulk files: the build time). Otherwise it is the first
  time this process served these bytes for this URL: never earlier than the real change, so a 304 is never
  wrong; after a restart a client just gets one full response more.
- CORS (Fetch standard): any origin may read GET/HEAD responses, errors included; no credentials. A preflight
  (OPTIONS with Access-Control-Request-Method) is answered for GET/HEAD only; POST endpoints (HJ 212, Open311
  posting) stay same-origin.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime, timezone

from flask import Flask, Response, request

OPEN_PREFIXES = ("/api/v1", "/open311", "/opendata")
OPEN_SUFFIXES = (".atom", ".ics")  # the feeds beside the enterprise and region pages
READ_METHODS = frozenset({"GET", "HEAD"})
PREFLIGHT_HEADERS = frozenset({"accept", "accept-language", "content-language", "if-none-match",
                               "if-modified-since", "cache-control"})
EXPOSED = "ETag, Last-Modified, Content-Language, Content-Disposition"
PREFLIGHT_MAX_AGE = 86400
SEEN_LIMIT = 20000


class _FirstSeen:
    """(URL, ETag) → first time served, a bounded LRU shared by the threads of one process."""

    def __init__(self, limit: int = SEEN_LIMIT):
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str, etag: str) -> datetime:
        key = (url, etag)
        with self._lock:
            when = self._items.get(key)
            if when is None:
                when = datetime.now(timezone.utc).replace(microsecond=0)
                self._items[key] = when
                if len(self._items) > self.limit:
                    self._items.popitem(last=False)
            else:
                self._items.move_to_end(key)
            return when

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


first_seen = _FirstSeen()


def is_open_data_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OPEN_PREFIXES) or path.endswith(OPEN_SUFFIXES)


def strong_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]


def _add_vary(response: Response, *names: str) -> None:
    present = {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}
    for name in names:
        if name.lower() not in present:
            response.vary.add(name)


def _preflight(response: Response) -> Response:
    wanted = request.headers.get("Access-Control-Request-Method", "").upper()
    allowed = {m.strip().upper() for m in response.headers.get("Allow", "").split(",")}
    if wanted not in READ_METHODS or wanted not in allowed:
        return response  # no CORS headers: the browser refuses the cross-origin request
    asked = [h.strip() for h in request.headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()]
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    granted = [h for h in asked if h.lower() in PREFLIGHT_HEADERS]
    if granted:
        response.headers["Access-Control-Allow-Headers"] = ", ".join(granted)
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response.status_code = 204
    response.set_data(b"")
    return response


def _conditional(response: Response) -> Response:
    if response.is_streamed or response.direct_passthrough:
        # Files streamed from disk set their own ETag/Last-Modified and handle conditionals (send_file).
        return response
    if response.get_etag()[0] is None:
        response.set_etag(strong_etag(response.get_data()), weak=False)
    if response.last_modified is None:
        response.last_modified = first_seen.get(request.url, response.get_etag()[0] or "")
    response.headers.setdefault("Cache-Control", "public, no-cache")
    _add_vary(response, "Accept-Language", "Cookie")
    return response.make_conditional(request)


def open_data_headers(response: Response) -> Response:
    if not is_open_data_path(request.path):
        return response
    if request.method == "OPTIONS":
        return _preflight(response) if "Access-Control-Request-Method" in request.headers else response
    if request.method not in READ_METHODS:
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    response.headers.pop("Access-Control-Allow-Credentials", None)
    if response.status_code == 200:
        response = _conditional(response)
    return response


def install(app: Flask) -> None:
    """Run once per app (the open-data blueprint's record_once); app-wide so 404s under /api/v1 get CORS too."""
    if open_data_headers not in app.after_request_funcs.get(None, []):
        app.after_request(open_data_headers)
