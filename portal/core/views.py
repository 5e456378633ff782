from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from portal.extensions import db

bp = Blueprint("core", __name__)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after a redirect (no open redirect)."""
    if not target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default  # a CR/LF would split the Location header; browsers read a backslash as a slash
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/lang/<lang>")
def set_language(lang: str):
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.args.get("next"), url_for("search.home")))


@bp.get("/healthz")
def health():
    """200 while the database answers (what a load balancer checks), with the scheduler leader's last heartbeat and
    the queue depths (portal/jobs/health.py) for monitoring; 503 when the database does not answer."""
    from portal.jobs import health as jobs_health

    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        body, status = {"status": "database unavailable"}, 503
    else:
        body, status = {"status": "ok"}, 200
        try:
            body.update(jobs_health.snapshot())
        except sa.exc.DBAPIError:  # e.g. during a deploy, before the migration that adds the lease table
            db.session.rollback()
            body.update(scheduler={"status": "unknown"}, queues={})
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
