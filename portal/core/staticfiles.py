"""Static files through WhiteNoise (issue 21): compressed and cached for a year when the URL names the content.

- url_for('static', filename=...) adds ``?v=<first 12 hex digits of the file's SHA-256>``. A request whose v is
  the file's current digest is answered ``Cache-Control: public, max-age=31536000, immutable``; a changed file gets
  a new URL, so browsers fetch it again. Any other static URL is cached for STATIC_MAX_AGE seconds.
- ``flask static compress`` writes brotli (.br) and gzip (.gz) copies beside each compressible file (`make run`
  and the deployment steps run it); WhiteNoise serves the smallest the client accepts (Content-Encoding, Vary).
  A compressed copy older than its source is dropped at start-up rather than served stale.
- Static responses carry the same security headers as pages (portal/core/security.py): the CSP is unchanged.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from urllib.parse import parse_qs

import click
from flask import Flask
from werkzeug.security import safe_join
from whitenoise import WhiteNoise

log = logging.getLogger(__name__)
YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
VARIANTS = (".br", ".gz")


class Versions:
    """The content digest of each static file, recomputed only when its size or modification time changes."""

    def __init__(self, root: str | Path):
        self.root = str(root)
        self._cache: dict[str, tuple[tuple[int, int], str]] = {}

    def of(self, filename: str) -> str | None:
        path = safe_join(self.root, filename)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(filename)
        if hit and hit[0] == stamp:
            return hit[1]
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        version = digest.hexdigest()[:12]
        self._cache[filename] = (stamp, version)
        return version


class LongCacheWhenVersioned:
    """WSGI middleware around WhiteNoise: the year-long, immutable Cache-Control for a URL whose ?v= is the
    file's current digest."""

    def __init__(self, app, versions: Versions, prefix: str):
        self.app = app
        self.versions = versions
        self.prefix = prefix.rstrip("/") + "/"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix) or "v=" not in environ.get("QUERY_STRING", ""):
            return self.app(environ, start_response)
        wanted = parse_qs(environ.get("QUERY_STRING", "")).get("v", [""])[0]
        if not wanted or wanted != self.versions.of(path[len(self.prefix):]):
            return self.app(environ, start_response)

        def start(status: str, headers: list, exc_info=None):
            if status[:3] in ("200", "206", "304"):
                headers = [(k, v) for k, v in headers if k.lower() != "cache-control"]
                headers.append(("Cache-Control", IMMUTABLE))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def static_root(app: Flask) -> str:
    return str(app.config.get("STATIC_ROOT") or app.static_folder)


def _security_headers(app: Flask):
    from portal.core.security import CSP

    fixed = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
             "Referrer-Policy": "strict-origin-when-cross-origin",
             "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
             "Cross-Origin-Opener-Policy": "same-origin"}
    if app.config.get("SESSION_COOKIE_SECURE"):
        fixed["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    def add(headers, path: str, url: str) -> None:
        for key, value in fixed.items():
            headers[key] = value

    return add


def _newer(source: float, variant: float) -> bool:
    """WhiteNoise gives a compressed copy its source's modification time (as a float: allow for the rounding)."""
    return source > variant + 0.001


def drop_stale_variants(root: str | Path) -> int:
    """Remove .br/.gz copies older than their source (the source changed after `flask static compress`)."""
    dropped = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            if not name.endswith(VARIANTS):
                continue
            variant = os.path.join(dirpath, name)
            source = variant[:-3]
            try:
                stale = not os.path.isfile(source) or _newer(os.stat(source).st_mtime, os.stat(variant).st_mtime)
            except OSError:
                continue
            if stale:
                Path(variant).unlink(missing_ok=True)
                dropped += 1
    return dropped


def install(app: Flask) -> None:
    root = static_root(app)
    versions = Versions(root)
    app.extensions["static_versions"] = versions

    @app.url_defaults
    def _version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = versions.of(values.get("filename", ""))
            if version:
                values["v"] = version

    if not app.config.get("STATIC_WHITENOISE", True) or not os.path.isdir(root):
        return
    if drop_stale_variants(root):
        log.warning("stale compressed static files were removed; run `flask static compress`")
    prefix = (app.static_url_path or "/static").strip("/") + "/"
    whitenoise = WhiteNoise(app.wsgi_app, root=root, prefix=prefix,
                            max_age=int(app.config.get("STATIC_MAX_AGE", 3600)),
                            add_headers_function=_security_headers(app), autorefresh=bool(app.debug),
                            allow_all_origins=False)  # no CORS header: as before, when Flask served /static
    app.wsgi_app = LongCacheWhenVersioned(whitenoise, versions, "/" + prefix)  # type: ignore[method-assign]


def compress(root: str | Path, quiet: bool = True) -> int:
    """Write .br and .gz beside every compressible file whose copies are missing or older; returns files written."""
    from whitenoise.compress import Compressor

    compressor = Compressor(quiet=quiet)
    written = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if name.endswith(VARIANTS) or not compressor.should_compress(name):
                continue
            mtime = os.stat(path).st_mtime
            if all(os.path.exists(path + v) and not _newer(mtime, os.stat(path + v).st_mtime) for v in VARIANTS):
                continue
            written += len(compressor.compress(path))
    return written


def register(app: Flask) -> None:
    group = click.Group("static", help="Static files served by WhiteNoise.")

    @group.command("compress")
    def compress_command() -> None:
        """Write brotli and gzip copies of the static files (run after every deployment)."""
        root = static_root(app)
        click.echo(f"{compress(root)} compressed files written under {root}")

    app.cli.add_command(group)
