"""Pure registry rules: USCC (GB 32100-2015, DOMAIN §7.1–7.3), permit numbers (HJ 608-2017, DOMAIN §7.4),
outlet codes and limits. No database, request or app here."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
PERMIT_RE = re.compile(r"^([0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}|H9\d{6}[0-9A-Z]{9}[a-hj-np-z])\d{3}[A-Z]$")
OUTLET_RE = re.compile(r"^D[AW]\d{3}$")


@dataclass
class CodeCheck:
    """Outcome of a code check: the normalised value, a blocking error, and warnings that do not block."""

    value: str
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def normalise_code(raw: str) -> str:
    """Full-width → half-width (NFKC), drop spaces and hyphens, upper-case."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"[\s\-]", "", text).upper()


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str | None:
    """GB 11714 check character of an organisation code; None if a character has no value."""
    total = 0
    for c, w in zip(first8, _ORG_WEIGHTS):
        if c.isdigit():
            total += int(c) * w
        elif "A" <= c <= "Z":
            total += (ord(c) - 55) * w
        else:
            return None
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def check_uscc(raw: str) -> CodeCheck:
    """Validate a 统一社会信用代码. The outer mod-31 check decides; the inner organisation-code check only warns."""
    code = normalise_code(raw)
    result = CodeCheck(code)
    if len(code) != 18:
        result.error = str(_l("The credit code must have 18 characters; %(n)d were given.", n=len(code)))
        return result
    for pos, ch in enumerate(code, start=1):
        if ch not in USCC_ALPHABET:
            result.error = str(_l("Character %(pos)d (“%(ch)s”) is not allowed: credit codes use digits and the "
                                  "letters A–Y except I, O, S, V, Z.", pos=pos, ch=ch))
            return result
        if 3 <= pos <= 8 and not ch.isdigit():
            result.error = str(_l("Characters 3–8 are the region code and must be digits; character %(pos)d is "
                                  "“%(ch)s”.", pos=pos, ch=ch))
            return result
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        result.error = str(_l("Check character 18 is “%(got)s” but should be “%(want)s”: please re-check the code "
                              "(a digit may be mistyped).", got=code[17], want=expected))
        return result
    org = code[8:17]
    inner = org_code_check_char(org[:8])
    if inner is not None and inner != org[8]:
        result.warnings.append(str(_l("The organisation code inside the credit code (characters 9–17) does not pass "
                                      "its own check; the code is accepted, but please confirm it.")))
    return result


def check_permit_no(raw: str, uscc: str | None = None) -> CodeCheck:
    """Validate a 22-character pollutant-permit number (USCC + 3-digit sequence + marker letter)."""
    code = unicodedata.normalize("NFKC", raw or "").strip().replace(" ", "")
    # The H9 form ends with a lower-case letter at position 18; upper-case everything else.
    code = code[:17].upper() + code[17:18] + code[18:].upper() if code.startswith(("H9", "h9")) else code.upper()
    result = CodeCheck(code)
    if len(code) != 22:
        result.error = str(_l("A permit number has 22 characters (credit code + 3-digit sequence + one letter); "
                              "%(n)d were given.", n=len(code)))
        return result
    if not PERMIT_RE.match(code):
        result.error = str(_l("The permit number is not in the HJ 608 form: 18-character credit code, then 3 digits, "
                              "then one letter (for example …001P)."))
        return result
    if not code.startswith("H9"):
        base = check_uscc(code[:18])
        if base.error:
            result.error = str(_l("The first 18 characters of the permit number are not a valid credit code: "
                                  "%(err)s", err=base.error))
            return result
    if uscc and code[:18] != normalise_code(uscc) and not code.startswith("H9"):
        result.error = str(_l("The permit number must start with this enterprise's credit code %(uscc)s.", uscc=uscc))
    return result


def check_outlet_code(raw: str) -> CodeCheck:
    code = normalise_code(raw)
    result = CodeCheck(code)
    if not OUTLET_RE.match(code):
        result.error = str(_l("Outlet codes are D, then A (air) or W (water), then 3 digits, for example DA001."))
    return result


def outlet_medium(code: str) -> str:
    return "gas" if code.startswith("DA") else "water"


def check_limit(limit_value: Decimal | None, limit_min: Decimal | None, limit_max: Decimal | None) -> str | None:
    """A limit is either a maximum value, or a range (pH); values are non-negative and min < max."""
    if limit_value is None and limit_min is None and limit_max is None:
        return str(_l("Give a limit value, or a range (minimum and maximum) for pH."))
    for v in (limit_value, limit_min, limit_max):
        if v is not None and v < 0:
            return str(_l("Limits cannot be negative."))
    if (limit_min is None) != (limit_max is None):
        return str(_l("A range needs both a minimum and a maximum."))
    if limit_min is not None and limit_max is not None and limit_min >= limit_max:
        return str(_l("The range minimum must be below the maximum."))
    return None


PH_CODE = "w01001"
# Spellings of the catalogue units people type (HJ 212 uses mg/m3, mg/L; noise is A-weighted).
_UNIT_ALIASES = {"mg/m3": "mg/m³", "mg/nm3": "mg/m³", "mg/nm³": "mg/m³", "mg/m^3": "mg/m³", "mg/l": "mg/L",
                 "ug/m3": "µg/m³", "μg/m³": "µg/m³", "μg/m3": "µg/m³", "µg/m3": "µg/m³", "db(a)": "dB(A)",
                 "dba": "dB(A)", "db": "dB(A)", "m3/h": "m³/h", "℃": "°C", "pH": "无量纲", "ph": "无量纲"}
MEDIUM_LABELS = {"gas": _l("waste gas"), "water": _l("waste water"), "noise": _l("noise"),
                 "ambient": _l("ambient air")}


def normalise_unit(raw: str | None) -> str:
    text = (raw or "").strip().replace(" ", "")
    return _UNIT_ALIASES.get(text, _UNIT_ALIASES.get(text.lower(), text))


def limit_fit_problems(pollutant_code: str, pollutant_medium: str, catalogue_unit: str, unit: str | None,
                       outlet_medium: str, limit_value: Decimal | None, limit_min: Decimal | None,
                       limit_max: Decimal | None) -> dict[str, str]:
    """Field → message for a limit that does not fit its pollutant or outlet: the pollutant's medium must be the
    outlet's (gases at DA outlets, water pollutants at DW outlets; ambient-air and boundary-noise measures are no
    outlet limits), the unit must be the pollutant's (mg/m³ for flue gases, mg/L for water, dB(A) for noise; common
    spellings accepted), and pH is a range with both bounds."""
    problems: dict[str, str] = {}
    if pollutant_medium != outlet_medium:
        problems["pollutant_code"] = str(_l(
            "This pollutant is measured in %(pm)s and does not fit a %(om)s outlet; choose a pollutant of the "
            "outlet's medium.", pm=MEDIUM_LABELS.get(pollutant_medium, pollutant_medium),
            om=MEDIUM_LABELS.get(outlet_medium, outlet_medium)))
    if unit and normalise_unit(unit) != normalise_unit(catalogue_unit):
        problems["unit"] = str(_l("Give this limit in %(unit)s, the unit of the pollutant (not %(given)s).",
                                  unit=catalogue_unit, given=unit))
    if pollutant_code == PH_CODE and (limit_min is None or limit_max is None or limit_value is not None):
        problems["limit_min"] = str(_l("pH is limited by a range: give both the minimum and the maximum (for "
                                       "example 6 and 9) and leave the limit value empty."))
    return problems


def check_validity(valid_from: date | None, valid_to: date | None) -> str | None:
    if valid_from and valid_to and valid_to <= valid_from:
        return str(_l("The permit must expire after it starts (valid to > valid from)."))
    return None


def permit_is_due_for_renewal(valid_to: date, today: date, days_before: int = 60) -> bool:
    """排污许可管理条例 art. 14: renewal must be applied for at least 60 days before expiry."""
    return 0 <= (valid_to - today).days <= days_before


def check_reference_o2(reference_o2: Decimal | None, medium: str) -> str | None:
    """Reference oxygen (基准氧含量) applies to flue gas only and is a percentage below air's 21 %."""
    if reference_o2 is None:
        return None
    if medium != "gas":
        return str(_l("A reference oxygen content applies only to gas outlets (DA…); leave it empty."))
    if not 0 <= reference_o2 < 21:
        return str(_l("The reference oxygen content is a percentage from 0 to below 21."))
    return None
