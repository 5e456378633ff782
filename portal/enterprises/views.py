from __future__ import annotations

from flask import Blueprint

bp = Blueprint("enterprises", __name__)
