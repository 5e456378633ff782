"""Transmission-anomaly reports (《生态环境监测条例》 Art. 23, DOMAIN §5.11): pure rules, no database.

An enterprise whose networked automatic monitoring stops transmitting reports it promptly and repairs the equipment.
Deadlines [M] (DOMAIN §5.11, §9): the report within REPORT_HOURS hours of noticing the anomaly, the repair within
REPAIR_WORKING_DAYS working days. Both are settings (ANOMALY_REPORT_HOURS, ANOMALY_REPAIR_WORKING_DAYS).

States: REPORTED (filed by the enterprise) → REPAIRED (the enterprise records the repair) → CLOSED (a regulator of
the jurisdiction reviewed it, with a note). A timely report covering a silence keeps integrity rule R12 quiet.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Sequence

from portal.workdays import rules as wd

REPORT_HOURS = 12
REPAIR_WORKING_DAYS = 5
# A report covers a silence that starts at most this long after the anomaly was noticed (later silences are new
# anomalies) and at most this long before it (the enterprise noticed the fault before the data stopped).
COVER_BEFORE = timedelta(hours=24)


class AnomalyState(enum.StrEnum):
    REPORTED = "reported"
    REPAIRED = "repaired"
    CLOSED = "closed"


class AnomalyCause(enum.StrEnum):
    POWER = "power"  # power failure
    NETWORK = "network"  # network or transmission link
    ANALYSER = "analyser"  # analyser fault
    ACQUISITION = "acquisition"  # data acquisition unit (数采仪)
    MAINTENANCE = "maintenance"  # planned maintenance or calibration
    OTHER = "other"


TRANSITIONS: dict[AnomalyState, frozenset[AnomalyState]] = {
    AnomalyState.REPORTED: frozenset({AnomalyState.REPAIRED}),
    AnomalyState.REPAIRED: frozenset({AnomalyState.CLOSED}),
    AnomalyState.CLOSED: frozenset(),
}


def can_transition(old: AnomalyState, new: AnomalyState) -> bool:
    return new in TRANSITIONS[old]


def report_due(noticed_at: datetime, hours: int = REPORT_HOURS) -> datetime:
    return noticed_at + timedelta(hours=hours)


def repair_due(noticed_on: date, is_workday: wd.IsWorkday, days: int = REPAIR_WORKING_DAYS) -> date:
    """The last day to repair: `days` working days after the (China) day the anomaly was noticed."""
    return wd.add_working_days(noticed_on, days, is_workday)


def is_report_late(reported_at: datetime, due_at: datetime) -> bool:
    return reported_at > due_at


def is_repair_late(repaired_on: date | None, due_on: date, today: date) -> bool:
    """Repaired after the due day, or still not repaired when the due day has passed."""
    return (repaired_on or today) > due_on


def covers_silence(noticed_at: datetime, repaired_at: datetime | None, reported_at: datetime, silence_start: datetime,
                   silent_hours: float, report_hours: float = REPORT_HOURS) -> bool:
    """Whether a report explains a silence beginning at `silence_start`: the anomaly was noticed around the start of
    the silence, the report was filed in time (within report_hours of the later of noticing and the start of the
    silence) and the repair, if recorded, did not end before the silence began."""
    if not silence_start - COVER_BEFORE <= noticed_at <= silence_start + timedelta(hours=silent_hours):
        return False
    if repaired_at is not None and repaired_at < silence_start:
        return False
    return reported_at <= max(noticed_at, silence_start) + timedelta(hours=report_hours)


def covered(reports: Sequence[tuple[datetime, datetime | None, datetime]], silence_start: datetime,
            silent_hours: float, report_hours: float = REPORT_HOURS) -> bool:
    return any(covers_silence(n, r, rep, silence_start, silent_hours, report_hours) for n, r, rep in reports)
