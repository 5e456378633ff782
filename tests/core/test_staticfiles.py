"""Static files through WhiteNoise (issue 21): brotli/gzip when asked, a year-long immutable cache for URLs that
carry the file's content digest (what url_for('static') builds), a short one otherwise, the pages' security
headers unchanged, and a changed file gets a new URL and never a stale compressed copy."""
from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import brotli
import pytest
from flask import url_for

from portal import ROOT, create_app
from portal.core.security import CSP
from portal.core.staticfiles import IMMUTABLE, compress


@pytest.fixture
def static_copy(tmp_path) -> Path:
    root = tmp_path / "static"
    shutil.copytree(ROOT / "static" / "css", root / "css", ignore=shutil.ignore_patterns("*.br", "*.gz"))
    return root


def _app(app, root: Path):
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config["STATIC_ROOT"] = str(root)
    return create_app(config)


def test_a_versioned_asset_is_compressed_and_cached_for_a_year(app, static_copy):
    result = _app(app, static_copy).test_cli_runner().invoke(args=["static", "compress"])
    assert result.exit_code == 0 and (static_copy / "css" / "portal.css.br").is_file(), result.output
    assert (static_copy / "css" / "portal.css.gz").is_file()
    other = _app(app, static_copy)
    source = (static_copy / "css" / "portal.css").read_bytes()
    with other.test_request_context():
        url = url_for("static", filename="css/portal.css")
    assert "?v=" in url
    client = other.test_client()
    br = client.get(url, headers={"Accept-Encoding": "gzip, br"}, buffered=True)
    assert br.status_code == 200 and br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == source and len(br.data) < len(source)
    assert br.headers["Cache-Control"] == IMMUTABLE and "max-age=31536000" in IMMUTABLE
    assert "Accept-Encoding" in br.headers["Vary"]
    gz = client.get(url, headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == source
    plain = client.get(url, buffered=True)
    assert "Content-Encoding" not in plain.headers and plain.data == source
    for response in (br, gz, plain):
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in response.headers
    unversioned = client.get("/static/css/portal.css", buffered=True)
    wrong = client.get("/static/css/portal.css?v=000000000000", buffered=True)
    for response in (unversioned, wrong):
        assert response.status_code == 200 and response.headers["Cache-Control"] == "max-age=3600, public"
    again = client.get(url, headers={"If-None-Match": plain.headers["ETag"]}, buffered=True)
    assert again.status_code == 304 and again.headers["Cache-Control"] == IMMUTABLE


def test_a_changed_file_gets_a_new_url_and_no_stale_compressed_copy(app, static_copy):
    assert compress(static_copy) >= 2
    css = static_copy / "css" / "portal.css"
    first = _app(app, static_copy)
    with first.test_request_context():
        old_url = url_for("static", filename="css/portal.css")
    css.write_bytes(css.read_bytes() + b"\n.changed{color:red}\n")
    later = os.stat(css).st_mtime + 5
    os.utime(css, (later, later))
    second = _app(app, static_copy)  # a new deployment starting
    with second.test_request_context():
        new_url = url_for("static", filename="css/portal.css")
    assert new_url != old_url and not (static_copy / "css" / "portal.css.br").exists()
    response = second.test_client().get(new_url, headers={"Accept-Encoding": "br, gzip"}, buffered=True)
    assert "Content-Encoding" not in response.headers and response.data.endswith(b".changed{color:red}\n")
    assert compress(static_copy) >= 1 and (static_copy / "css" / "portal.css.br").is_file()


def test_pages_link_their_assets_with_the_content_version(client):
    page = client.get("/", buffered=True).get_data(as_text=True)
    assert "/static/css/portal.css?v=" in page
