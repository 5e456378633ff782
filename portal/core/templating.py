"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, get_locale

from portal.core import messages
from portal.core.clock import china_today
from portal.core.navigation import nav_items


def local_dt(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in Asia/Shanghai (all legal dates use China time)."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def switch_language_url(lang: str) -> str:
    return url_for("core.set_language", lang=lang, next=request.full_path.rstrip("?"))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["iso_date"] = iso_date
    app.jinja_env.filters["fmt_date"] = lambda d: format_date(d, "medium") if d else ""
    # Texts the system wrote, and reference names, in the reader's language (portal.core.messages).
    app.jinja_env.filters["evidence_title"] = messages.evidence_title
    app.jinja_env.filters["pollutant_label"] = messages.pollutant_label
    app.jinja_env.filters["local_name"] = messages.local_name
    app.jinja_env.globals["render_message"] = messages.render_message
    app.jinja_env.globals["rule_label"] = messages.rule_label

    @app.context_processor
    def inject_globals():
        return {
            "current_locale": str(get_locale()),
            "switch_language_url": switch_language_url,
            "china_today": china_today,
            "nav_items": nav_items,
        }
