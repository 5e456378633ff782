"""Exceedance episodes as pure rules (DOMAIN §2.6.3, §5.8): one incident, and one credit finding, per run of
exceedances of one outlet × pollutant, whatever mix of manual samples, instant values, hourly and daily means
revealed it. A run is closed by 24 hours without an exceedance (waste gas and other air outlets) or by one whole
calendar day without one (wastewater): a new exceedance within that reach of the run joins it, a later one opens a
new episode. Missing data do not keep an episode open (the portal cannot tell a compliant hour from an absent one
here; gaps are their own findings)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

GAS_CLOSING_HOURS = 24
WATER_CLOSING_DAYS = 1
# How far around a run the database is asked for candidates (the exact rule is `joins`).
SEARCH_REACH = timedelta(days=2)


def medium_of(outlet_code: str) -> str:
    """DA… outlets are air (waste gas), every other outlet is judged as water (DOMAIN §5.8 outlet codes)."""
    return "gas" if outlet_code.upper().startswith("DA") else "water"


def joins(medium: str, first: datetime, last: datetime, start: datetime, tz: ZoneInfo) -> bool:
    """Whether an exceedance whose period starts at `start` belongs to the run [first, last]."""
    if medium == "gas":
        reach = timedelta(hours=GAS_CLOSING_HOURS)
        return first - reach <= start <= last + reach
    day = start.astimezone(tz).date()
    reach = timedelta(days=WATER_CLOSING_DAYS)
    return first.astimezone(tz).date() - reach <= day <= last.astimezone(tz).date() + reach
