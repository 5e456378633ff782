"""Regulators: the open cases of their jurisdiction on a map (/console/complaints/map). The cases come from the
console queue's own jurisdiction filter and each is checked again with can_view, so no other jurisdiction's case is
ever sent."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, url_for
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.complaints.forms import CATEGORY_LABELS
from portal.complaints.labels import status_labels
from portal.maps import boundaries, data

bp = Blueprint("maps_console", __name__, url_prefix="/console/complaints/map")


def _cases() -> list[dict]:
    return data.regulator_cases(current_user, status_labels(),
                                {c.value: str(label) for c, label in CATEGORY_LABELS.items()})


@bp.get("")
@require(Permission.COMPLAINT_HANDLE)
def index():
    province = (current_user.jurisdiction_code or "")[:2]
    geo = boundaries.static_file(province)
    return render_template("maps/console.html", cases=_cases(),
                           geo=url_for("static", filename=geo) if geo else None)


@bp.get("/data.json")
@require(Permission.COMPLAINT_HANDLE)
def cases_json():
    return jsonify({"cases": _cases()})
