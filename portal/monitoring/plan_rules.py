"""Pure monitoring-plan rules (DOMAIN §5.2, §5.4): frequencies, their calendar periods and the HJ 819-2017 minimum
frequencies used as defaults. No database, request or app here."""
from __future__ import annotations

from datetime import date, timedelta

# Frequencies from most to least frequent; "continuous" is automatic monitoring.
FREQUENCY_ORDER = ("continuous", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly")
MANUAL_FREQUENCIES = FREQUENCY_ORDER[1:]

# HJ 819-2017 Tables 1–2 (DOMAIN §5.4), the least frequent end of each range: (key unit?, medium, main outlet?,
# main indicator?) → frequency. The permit always overrides this generic table; the config key
# MONITORING_MIN_FREQUENCIES may replace it (same keys as strings "key|gas|main|main").
HJ819_MINIMUMS: dict[str, str] = {
    "key|gas|main|main": "quarterly",
    "key|gas|main|other": "yearly",
    "key|gas|other|main": "yearly",
    "key|gas|other|other": "yearly",
    "nonkey|gas|main|main": "yearly",
    "nonkey|gas|main|other": "yearly",
    "nonkey|gas|other|main": "yearly",
    "nonkey|gas|other|other": "yearly",
    "key|water|main|main": "monthly",
    "key|water|main|other": "half_yearly",
    "key|water|other|main": "monthly",
    "key|water|other|other": "half_yearly",
    "nonkey|water|main|main": "quarterly",
    "nonkey|water|main|other": "yearly",
    "nonkey|water|other|main": "quarterly",
    "nonkey|water|other|other": "yearly",
}
# Main indicators (主要监测指标) where HJ 819 and the permit tables usually name them.
MAIN_INDICATORS = frozenset({"w01018", "w21003", "w21001", "w21011", "w01001", "w00000",
                             "a21026", "a21002", "a34013", "a00000"})


def minimum_frequency(*, key_unit: bool, medium: str, main_outlet: bool, pollutant_code: str,
                      table: dict[str, str] | None = None) -> str:
    """The HJ 819 default manual frequency for an outlet and pollutant (yearly when the table has no entry)."""
    key = "|".join(("key" if key_unit else "nonkey", medium, "main" if main_outlet else "other",
                    "main" if pollutant_code in MAIN_INDICATORS else "other"))
    return (table or HJ819_MINIMUMS).get(key, "yearly")


def less_frequent(a: str, b: str) -> bool:
    """True when frequency a is less frequent than b."""
    return FREQUENCY_ORDER.index(a) > FREQUENCY_ORDER.index(b)


def check_mode_frequency(mode: str, frequency: str) -> str | None:
    """Automatic monitoring is continuous; manual monitoring has a calendar frequency."""
    if frequency not in FREQUENCY_ORDER:
        return "frequency"
    if mode == "auto" and frequency != "continuous":
        return "auto"
    if mode == "manual" and frequency == "continuous":
        return "manual"
    return None


def period_start(day: date, frequency: str) -> date:
    """The first day of the calendar period (day, ISO week from Monday, month, quarter, half-year, year)."""
    if frequency == "daily":
        return day
    if frequency == "weekly":
        return day - timedelta(days=day.weekday())
    if frequency == "monthly":
        return day.replace(day=1)
    if frequency == "quarterly":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if frequency == "half_yearly":
        return date(day.year, 1 if day.month <= 6 else 7, 1)
    if frequency == "yearly":
        return date(day.year, 1, 1)
    raise ValueError(frequency)


def next_period(start: date, frequency: str) -> date:
    if frequency == "daily":
        return start + timedelta(days=1)
    if frequency == "weekly":
        return start + timedelta(days=7)
    months = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}[frequency]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def due_periods(frequency: str, effective_from: date, effective_to: date | None, today: date,
                lookback_from: date | None = None) -> list[tuple[date, date]]:
    """The periods [start, end) that lie wholly inside the plan's validity [effective_from, effective_to) and have
    ended before today (so the enterprise had the whole period to monitor). A period partly before the plan took
    effect is not counted: the plan cannot require what it did not yet say."""
    first = period_start(effective_from, frequency)
    if first < effective_from:
        first = next_period(first, frequency)
    if lookback_from is not None and first < lookback_from:
        first = period_start(lookback_from, frequency)
        if first < lookback_from:
            first = next_period(first, frequency)
    periods = []
    start = first
    while True:
        end = next_period(start, frequency)
        if end > today or (effective_to is not None and end > effective_to):
            break
        periods.append((start, end))
        start = end
    return periods
