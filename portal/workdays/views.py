from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workdays", __name__)
