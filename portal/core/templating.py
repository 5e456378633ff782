"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from portal.core import messages
from portal.core.clock import china_today, china_tz
from portal.core.navigation import nav_items


def local_dt(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in Asia/Shanghai (all legal dates use China time)."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def iso_date(value: date | None) -> str:
    """A date as YYYY-MM-DD; a datetime is first taken to China time (its date there), never printed raw."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(china_tz()).date()
    return value.isoformat()


def jurisdiction_name(prefix: str | None) -> str:
    """A jurisdiction prefix ("32", "3208", "320826") as its region's name in the reader's language: public pages
    never show the code."""
    if not prefix:
        return str(_l("all regions"))
    from portal.extensions import db
    from portal.reference.models import Region

    region = db.session.get(Region, (prefix + "0000")[:6])
    return messages.local_name(region) if region is not None else prefix


def switch_language_url(lang: str) -> str:
    return url_for("core.set_language", lang=lang, next=request.full_path.rstrip("?"))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["iso_date"] = iso_date
    app.jinja_env.globals["jurisdiction_name"] = jurisdiction_name
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
