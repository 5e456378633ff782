"""The public map (/map) and its data (/map/data.json); the location picker's template context."""
from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from portal.maps import boundaries, data

bp = Blueprint("maps", __name__, url_prefix="/map")
_cache: dict[tuple[str, str], tuple[float, dict]] = {}
_lock = threading.Lock()

DEFAULT_PROVINCE = "32"  # the demo province (江苏); PORTAL_MAP_PROVINCE overrides


def _province():
    return data.choose_province(request.args.get("province"),
                                current_app.config.get("PORTAL_MAP_PROVINCE", DEFAULT_PROVINCE))


@bp.app_context_processor
def _picker():
    def location_picker() -> dict:
        province = current_app.config.get("PORTAL_MAP_PROVINCE", DEFAULT_PROVINCE)
        geo = boundaries.static_file(province[:2])
        return {"geo": url_for("static", filename=geo) if geo else None}
    return {"location_picker": location_picker}


def _layer(province: str) -> dict:
    """The public layer, kept PORTAL_MAP_CACHE_SECONDS (default 60) per province and language so an anonymous page
    costs a dictionary look-up; a standing or complaint shows on the map at most that much later."""
    ttl = current_app.config.get("PORTAL_MAP_CACHE_SECONDS", 0 if current_app.testing else 60)
    key = (province, "en" if data.english() else "zh")
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if ttl and hit is not None and now - hit[0] < ttl:
        return hit[1]
    layer = data.public_layer(province)
    if ttl:
        with _lock:
            _cache[key] = (now, layer)
    return layer


@bp.get("")
def index():
    province = _province()
    layer = _layer(province.code) if province else None
    ranked = sorted(layer["enterprises"], key=lambda p: (-p["open_incidents"], p["name"]))[:100] if layer else []
    response = current_app.make_response(render_template(
        "maps/index.html", province=province, provinces=data.map_provinces(), layer=layer, ranked=ranked,
        by_county=data.complaints_by_county(province.code) if province else [],
        geo=url_for("static", filename=boundaries.static_file(province.code)) if province else None))
    return response


@bp.get("/data.json")
def data_json():
    province = _province()
    if province is None:
        return jsonify({"error": {"code": "not_found", "message": "no map data"}}), 404
    response = jsonify(_layer(province.code))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
