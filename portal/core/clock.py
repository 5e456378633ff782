"""China time: every legal date (deadlines, validity, reports) is counted in Asia/Shanghai (DOMAIN §9)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

DEFAULT_TIMEZONE = "Asia/Shanghai"


def china_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("PORTAL_TIMEZONE", DEFAULT_TIMEZONE))


def china_now() -> datetime:
    return datetime.now(china_tz())


def china_today() -> date:
    return china_now().date()
