"""What the pages say about each rule and state, in the reader's language (message ids are English)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.integrity.rules import FlagState

RULE_TITLES = {
    "R1": _l("Flat line or stuck value"),
    "R2": _l("Hovering at the detection limit"),
    "R3": _l("Values bunched just below the limit"),
    "R4": _l("Strategic gaps"),
    "R5": _l("Repeated sharp drops followed by flat readings"),
    "R6": _l("Synchronous parameter shift"),
    "R7": _l("Identical or recycled series"),
    "R8": _l("Divergence from supervisory or laboratory results"),
    "R9": _l("Flag abuse or false operating-status marks"),
    "R10": _l("Production running while treatment is off"),
    "R11": _l("Impossible laboratory report"),
    "R12": _l("Transmission anomaly not reported"),
    "R13": _l("Digit test on manually entered values"),
}
RULE_WORDS = {
    "R1": _l("For at least 24 valid hours while producing, the readings moved within 2 % of the analyser's range, "
             "or the same hourly value repeated at least 6 times in a row. Real emissions vary; a stuck analyser or "
             "a replayed value does not."),
    "R2": _l("Over at least 7 days, 80 % or more of the valid producing hours were at or below twice the "
             "method detection limit."),
    "R3": _l("In the month, values in the band just below the limit (85–100 %) were at least three times as "
             "frequent as values just above it (100–115 %), and made up at least a quarter of all values."),
    "R4": _l("Data stopped (or were marked stopped, maintenance, fault or calibration) right after high and "
             "rising readings, at least twice as often as after other readings; or gaps fell mostly in high-load "
             "hours."),
    "R5": _l("At least 5 drops of half or more within one hour in 14 days, each followed by at least 6 hours of "
             "nearly constant readings (variation under 2 %) — the pattern of diluting the sample."),
    "R6": _l("Concentration and flow, temperature, oxygen or moisture changed in a step at the same hour while "
             "production did not; oxygen above 19 % at a combustion stack; or converted values that do not match "
             "the recomputation at reference oxygen."),
    "R7": _l("A whole day of hourly values identical to another device's day or to an earlier day of the same "
             "device, or nearly identical to a day of another client of the same O&M company."),
    "R8": _l("A supervisory or laboratory result differs from the automatic value of the same hour by more than "
             "the comparison tolerance (30 %)."),
    "R9": _l("Maintenance, calibration, fault or stopped hours at more than twice the median of comparable "
             "outlets; 'stopped' marks while production power is on; or calibrations at unusual hours right after "
             "high readings."),
    "R10": _l("Production power on while the treatment facility's power is off or below 30 % of its usual level "
              "for at least one hour."),
    "R11": _l("One sampler at two sites at the same time, a report issued before sampling ended, a method outside "
              "the laboratory's CMA scope, or one laboratory reporting the same value for three or more clients "
              "on one day."),
    "R12": _l("The device sent nothing for more than 4 hours and no transmission-anomaly report covers the "
              "silence."),
    "R13": _l("The first or last digits of manually entered values depart from what measured values show "
              "(Benford's law, uniform last digits). A weak signal, raised only beside another flag."),
}
STATE_LABELS = {
    FlagState.OPEN: _l("Open — to be reviewed"),
    FlagState.DISMISSED: _l("Dismissed"),
    FlagState.WARNED: _l("Enterprise warned"),
    FlagState.ANSWERED: _l("Enterprise answered"),
    FlagState.RESOLVED: _l("Closed after the answer"),
    FlagState.INSPECTED: _l("On-site check recorded"),
    FlagState.CONFIRMED: _l("Confirmed on site"),
    FlagState.CLEARED: _l("Not confirmed on site"),
}
CLUE_NOTICE = _l("A flag is a clue for the regulator, never a finding. It changes no grade, list or code; only a "
                 "confirmed on-site outcome is offered to the credit rules, where a second regulator must confirm "
                 "it.")
