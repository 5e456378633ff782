"""The public map (/map) and its data (/map/data.json); the location picker's template context."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from portal.maps import boundaries, data

bp = Blueprint("maps", __name__, url_prefix="/map")

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


@bp.get("")
def index():
    province = _province()
    layer = data.public_layer(province.code) if province else None
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
    response = jsonify(data.public_layer(province.code))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
