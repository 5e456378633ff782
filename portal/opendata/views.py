"""Bulk data: the data dictionary page (/opendata), the files (/opendata/<name>.csv) streamed from storage with their
SHA-256 as ETag, and a Frictionless Data Package descriptor (/opendata/datapackage.json)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, render_template, request
from werkzeug.http import is_resource_modified

from portal.core.links import public_url
from portal.core.storage import serve
from portal.opendata import bulk, http
from portal.opendata.catalog import BY_NAME, FILES

bp = Blueprint("opendata", __name__, url_prefix="/opendata")
bp.record_once(lambda state: http.install(state.app))


@bp.get("")
def index():
    manifest = bulk.read_manifest().get("files", {})
    return render_template("opendata/index.html", files=FILES, manifest=manifest)


@bp.get("/<name>.csv")
def download(name: str):
    spec = BY_NAME.get(name)
    entry = bulk.read_manifest().get("files", {}).get(name)
    if spec is None or entry is None:
        abort(404)
    built_at = datetime.fromisoformat(entry["built_at"].replace("Z", "+00:00"))
    if not is_resource_modified(request.environ, etag=entry["sha256"], last_modified=built_at):
        # Answer before opening the file (send_file's own 304 would leave the file handle to the GC).
        response = Response(status=304)
        response.set_etag(entry["sha256"])
        response.last_modified = built_at
        return response
    response = serve(bulk.export_store(), spec.filename, mimetype="text/csv", as_attachment=True,
                     download_name=spec.filename, etag=entry["sha256"], last_modified=built_at, max_age=3600)
    if response is None:
        abort(404)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return response


@bp.get("/datapackage.json")
def datapackage():
    manifest = bulk.read_manifest().get("files", {})
    resources = []
    for spec in FILES:
        entry = manifest.get(spec.name, {})
        resources.append({
            "name": spec.name.replace("_", "-"), "path": public_url("opendata.download", name=spec.name),
            "title": f"{spec.title_zh} / {spec.title_en}", "description": f"{spec.about_zh}\n{spec.about_en}",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
            **({"bytes": entry["bytes"], "hash": f"sha256:{entry['sha256']}"} if entry else {}),
            "schema": {"fields": [{"name": c.name, "type": c.type, "title": c.zh, "description": c.en
                                   + (f" ({c.unit_en})" if c.unit_en else "")} for c in spec.columns]},
        })
    return jsonify({"name": "portal-open-data", "title": "企业环境信用与信息披露平台开放数据 / Portal open data",
                    "resources": resources})
