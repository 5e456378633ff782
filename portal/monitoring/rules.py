"""Pure self-monitoring rules (DOMAIN §5.7–5.8): validity of flagged data, O2 conversion, exceedance, deadlines.

No database, request or app here; services pass plain values.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# HJ 212 data flags (DOMAIN §5.7). Only normal data count toward exceedance; flagged data are kept and shown.
VALID_FLAGS = frozenset({"N"})
ALL_FLAGS = frozenset("NFMSDCTB")
PH_CODE = "w01001"
O2_CODE = "a19001"
AIR = 21.0

# HJ 212 command numbers → stored period.
CN_PERIODS = {"2011": "realtime", "2051": "minute", "2061": "hour", "2031": "day"}
# Which item field carries the value for each period; the converted (折算) field beside it.
VALUE_FIELDS = {"realtime": ("Rtd", "ZsRtd"), "minute": ("Avg", "ZsAvg"), "hour": ("Avg", "ZsAvg"),
                "day": ("Avg", "ZsAvg")}


@dataclass(frozen=True)
class LimitSpec:
    """The limit an outlet's permit sets for one pollutant, as plain values."""

    averaging: str  # hourly / daily / instant
    limit_value: float | None = None
    limit_min: float | None = None
    limit_max: float | None = None
    reference_o2: float | None = None
    pollutant_code: str = ""

    @property
    def is_range(self) -> bool:
        return self.pollutant_code == PH_CODE or (self.limit_value is None and
                                                  (self.limit_min is not None or self.limit_max is not None))


@dataclass(frozen=True)
class Verdict:
    value: float
    limit_value: float | None
    limit_min: float | None
    limit_max: float | None
    multiple: float | None  # None for range limits (pH has no multiple)


def is_valid_flag(flag: str | None) -> bool:
    return (flag or "N") in VALID_FLAGS


def convert_to_reference_o2(concentration: float, o2_measured: float, o2_reference: float) -> float | None:
    """C_conv = C × (21 − O2_ref) / (21 − O2_measured); None when O2 is 21 % or more (no flue gas: not convertible)."""
    if o2_measured >= AIR or o2_measured < 0:
        return None
    return concentration * (AIR - o2_reference) / (AIR - o2_measured)


def exceedance_multiple(value: float, limit: float) -> float:
    """超标倍数 = (measured − limit) / limit."""
    return round((value - limit) / limit, 4)


def check(value: float | None, spec: LimitSpec) -> Verdict | None:
    """Compare one value (a mean, a sample or an instantaneous value) with the limit; None when compliant."""
    if value is None:
        return None
    if spec.is_range:
        low, high = spec.limit_min, spec.limit_max
        if (low is not None and value < low) or (high is not None and value > high):
            return Verdict(value, None, low, high, None)
        return None
    if spec.limit_value is None or spec.limit_value <= 0 or value <= spec.limit_value:
        return None
    return Verdict(value, spec.limit_value, None, None, exceedance_multiple(value, spec.limit_value))


def mean_basis(spec: LimitSpec, medium: str) -> str | None:
    """Which mean is compared with a limit for automatic data: gas hourly, water daily (unless the limit says
    instant); range limits (pH) are never averaged, so no mean basis."""
    if spec.is_range or spec.averaging == "instant":
        return None
    if spec.averaging == "hourly" or (spec.averaging != "daily" and medium == "gas"):
        return "hourly_mean"
    return "daily_mean"


def compared_mean(n_valid: int, sum_valid: float, n_conv: int, sum_conv: float, spec: LimitSpec) -> float | None:
    """The mean of valid data; converted to reference O2 when the limit sets one (None if no valid data)."""
    if spec.reference_o2 is not None:
        return sum_conv / n_conv if n_conv else None
    return sum_valid / n_valid if n_valid else None


def value_checks(value: float | None, value_min: float | None, value_max: float | None, flag: str,
                 spec: LimitSpec) -> Verdict | None:
    """Per-value check for range limits (pH: the value and the period's min/max) and instant limits; flagged
    data never count."""
    if not is_valid_flag(flag):
        return None
    if spec.is_range:
        for candidate in (value_min, value_max, value):
            verdict = check(candidate, spec)
            if verdict:
                return verdict
        return None
    if spec.averaging == "instant":
        return check(value_max if value_max is not None else value, spec)
    return None


@lru_cache(maxsize=65536)
def local_period_start(moment: datetime, resolution: str, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the China-local hour/day/month containing `moment` starts."""
    local = moment.astimezone(tz)
    if resolution == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    elif resolution == "day":
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(ZoneInfo("UTC"))


def period_end(start: datetime, resolution: str, tz: ZoneInfo) -> datetime:
    local = start.astimezone(tz)
    if resolution == "hour":
        return start + timedelta(hours=1)
    if resolution == "day":
        return (local + timedelta(days=1)).replace(hour=0).astimezone(ZoneInfo("UTC"))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return local.replace(year=year, month=month).astimezone(ZoneInfo("UTC"))


def gap_hours(last_valid_hour: datetime | None, now: datetime, threshold: int) -> int | None:
    """Hours without a valid hourly value when the gap reaches the threshold, else None."""
    if last_valid_hour is None:
        return None
    hours = int((now - last_valid_hour).total_seconds() // 3600) - 1
    return hours if hours >= threshold else None
