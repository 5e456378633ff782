from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("search", __name__)


@bp.get("/")
def home():
    return render_template("base.html")


@bp.get("/search")
def search():
    return render_template("base.html")
