"""HJ 212 (2005, 2017, 2025) frame and data-segment parser (pure: bytes in, a packet or Hj212Error out).

Frame: ``##`` + 4-digit decimal length of the data segment + data segment + 4 hex CRC16 + CRLF. The CRC is the
standard's appendix algorithm (register 0xFFFF; per byte ``reg = (reg >> 8) ^ byte`` then eight shifts with the
reflected polynomial 0xA001), computed over the data segment only. Note the per-byte step differs from Modbus CRC16
(``reg ^= byte``); the appendix vector ``...CP=&&RtdInterval=30&&`` → ``1C80`` pins it.

The data segment holds ``key=value`` fields separated by ``;`` in any order (QN, ST, CN, PW, MN, Flag, PNUM, PNO) and
``CP=&&...&&``. Inside CP, groups are separated by ``;`` and items by ``,``: ``DataTime=YYYYMMDDhhmmss`` and
``<code>-<Field>=<value>`` with Field one of Rtd/Avg/Min/Max/Cou/ZsRtd/ZsAvg/ZsMin/ZsMax/Flag/EFlag/SampleTime.
2005-edition packets (no QN) are accepted. A frame or field that cannot be read raises Hj212Error and nothing else;
one unclear CP item never refuses the packet (DOMAIN §5.10 rule 1): the item is left out of `items` and described
in `issues` (unknown field, repeated code field, malformed value, unrecognised flag letter), and the packet goes on.

Versions (DOMAIN §5.10): the `Flag` bits V5..V0 give the edition, 000001 = 2017 (Flag 4..7), 000010 = 2025 (Flag
8..11), no Flag = 2005. In a 2025 packet of CN 2000-2999, 1014 or 3020 the CP text is SM4 ciphertext (hex): the
parser leaves it in `cipher`, and the caller decrypts it with the device key and calls `parse_cp` (portal/monitoring/
sm4.py). A 2025 segment is UTF-8 (its length counts bytes); earlier editions are ASCII.

A compiled fast path (_hj212c.c, built by `make native`) parses the common good frame; whatever it does not accept
is parsed here again, so every error and its message come from this module. Without the compiled module the portal
runs on this module alone (same results, several times slower per packet).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

NUMERIC_FIELDS = frozenset({"Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax",
                            "Data"})  # Data: the noise value of hour/day data (L10-Data, Leq-Data, LA-Data)
TEXT_FIELDS = frozenset({"Flag", "EFlag", "SampleTime", "Info", "Ala", "UpValue", "LowValue"})
SEGMENT_FIELDS = frozenset({"QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "CP"})
REQUIRED_FIELDS = ("ST", "CN", "MN", "PW")
DATA_FLAGS = frozenset("NFMSDCTB")
UNCLEAR_FLAG = "?"  # stored for a value whose flag could not be read: never valid, kept out of means

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_FLOAT_MAX = 1.7976931348623157e308
_DIGITS = re.compile(r"\d+")
_FLAG_FIELD = re.compile(r"(?:^|;)Flag=(\d{1,9})(?=;|$)")
MAX_SEGMENT = 9999
SM4_COMMANDS = frozenset({"1014", "3020"})  # and every CN 2000-2999 (is_encrypted_command)
VERSIONS = {0: "2005", 1: "2017", 2: "2025"}

try:
    from portal.monitoring import _hj212c as compiled
except ImportError:  # not built (`make native`): pure Python
    compiled = None


class Hj212Error(Exception):
    """A packet that cannot be accepted. `code` is a stable machine name (bad_crc, bad_length, malformed_item, ...);
    `position` is the 1-based item number inside CP for item errors."""

    def __init__(self, code: str, message: str, position: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position


@dataclass(slots=True)
class Packet:
    segment: str
    fields: dict[str, str]
    cp: dict[str, str]  # CP keys that are not pollutant items (DataTime, RtdInterval, ...)
    items: dict[str, dict[str, float | str]]  # pollutant code -> {"Avg": 1.2, "Flag": "N", ...}
    data_time: datetime | None = None  # naive, local China time as sent
    qn: str | None = None
    st: str = ""
    cn: str = ""
    pw: str = ""
    mn: str = ""
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    version: str = "2017"
    cipher: str | None = None  # a 2025 SM4 CP area not yet decrypted
    plain_cp: str | None = None  # the decrypted CP text of a 2025 packet
    issues: list[dict] = field(default_factory=list)  # [{"position", "key", "issue", "value"}] per unclear item


def version_of(flag: int | None) -> str:
    """The edition a packet declares in Flag (DOMAIN §5.10); unknown version bits read as "other"."""
    if flag is None:
        return "2005"
    return VERSIONS.get(flag >> 2, "other")


def is_encrypted_command(cn: str) -> bool:
    return cn in SM4_COMMANDS or (len(cn) == 4 and "2000" <= cn <= "2999")


def _encrypted(fields: dict[str, str]) -> bool:
    flag = fields.get("Flag")
    return bool(flag and _DIGITS.fullmatch(flag) and len(flag) <= 9 and version_of(int(flag)) == "2025"
                and is_encrypted_command(fields.get("CN", "")))


def _crc_table() -> tuple[int, ...]:
    table = []
    for low in range(256):
        reg = low
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC16 of HJ 212-2017 appendix A (see the module docstring), table-driven. After reg = (reg >> 8) ^ byte the
    register holds a single byte, so the appendix's eight shifts give TABLE[reg] and one lookup per byte suffices."""
    reg = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        reg = table[(reg >> 8) ^ byte]
    return reg


def build_frame(segment: str) -> bytes:
    """The complete frame for a data segment (devices, tests and the bench use it); the length counts UTF-8 bytes."""
    raw = segment.encode("utf-8")
    return b"##%04d%s%04X\r\n" % (len(raw), raw, crc16(raw))


def modbus_crc16(data: bytes) -> int:
    """Modbus CRC-16 (reg ^= byte, then eight reflected shifts): some loggers send it byte-swapped (DOMAIN §5.10)."""
    reg = 0xFFFF
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def _swap(value: int) -> int:
    return ((value & 0xFF) << 8) | (value >> 8)


def _crc_diagnosis(sent: int, segment: bytes) -> str | None:
    """Why a CRC that does not match may still be a known device quirk (refused either way, but said why)."""
    good = crc16(segment)
    if sent == _swap(good) and sent != good:
        return "crc_byte_swapped"
    modbus = modbus_crc16(segment)
    if sent == _swap(modbus):
        return "crc_modbus_swapped"
    if sent == modbus:
        return "crc_modbus"
    return None


def parse_frame(frame: bytes | str) -> Packet:
    """Check the frame (header, length, CRC, terminator) and parse its data segment."""
    if compiled is not None:
        parts = compiled.parse(frame)  # None: not a frame the fast path accepts; the checks below say why
        if parts is not None and not _encrypted(parts[1]):
            segment, fields, extra, cp, items = parts
            _check_fields(fields)
            return _packet(segment, fields, extra, cp, items)
    if isinstance(frame, str):
        frame = frame.encode("utf-8")
    if not frame.startswith(b"##"):
        raise Hj212Error("bad_header", "The packet must start with ##.")
    length_raw = frame[2:6]
    if len(length_raw) < 4 or not length_raw.isdigit():
        raise Hj212Error("bad_length", "The 4 characters after ## must be the decimal length of the data segment.")
    length = int(length_raw)
    body = frame[6:]
    if body.endswith(b"\r\n"):
        body = body[:-2]
    if len(body) < length + 4:
        raise Hj212Error("bad_length", f"The length field says {length} but the packet is shorter (truncated?).")
    if len(body) > length + 4:
        if b"\r" in body or b"\n" in body:
            raise Hj212Error("bad_terminator", "The packet must end with CRLF and nothing after it.")
        raise Hj212Error("bad_length", f"The length field says {length} but the data segment is longer.")
    segment_raw, crc_raw = body[:length], body[length:]
    try:
        crc_text = crc_raw.decode("ascii")
        sent = int(crc_text, 16) if re.fullmatch(r"[0-9A-Fa-f]{4}", crc_text) else None
    except UnicodeDecodeError:
        sent = None
    if sent is None:
        raise Hj212Error("bad_crc", "The 4 characters before CRLF must be the hexadecimal CRC16.")
    if sent != crc16(segment_raw):
        diagnosis = _crc_diagnosis(sent, segment_raw)
        if diagnosis == "crc_byte_swapped":
            raise Hj212Error(diagnosis, f"CRC refused: the packet says {crc_text.upper()}, the data segment gives "
                                        f"{crc16(segment_raw):04X}; the device sends the CRC with its two bytes "
                                        f"swapped.")
        if diagnosis is not None:
            raise Hj212Error(diagnosis, f"CRC refused: the packet says {crc_text.upper()}, the data segment gives "
                                        f"{crc16(segment_raw):04X}; the device computes a Modbus CRC-16 instead of "
                                        f"the standard's.")
        raise Hj212Error("bad_crc", f"CRC mismatch: the packet says {crc_text.upper()}, "
                                    f"the data segment gives {crc16(segment_raw):04X}.")
    try:
        segment = segment_raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Hj212Error("bad_encoding", "The data segment is neither ASCII nor UTF-8.") from None
    if not segment.isascii():
        flag = _FLAG_FIELD.search(segment)
        if flag is None or version_of(int(flag.group(1))) != "2025":
            raise Hj212Error("bad_encoding", "The data segment contains non-ASCII bytes (allowed from HJ 212-2025 on).")
    return parse_segment(segment)


def _split_cp(segment: str) -> tuple[str, str]:
    start = segment.find("CP=&&")
    if start < 0:
        raise Hj212Error("missing_field", "The data segment has no CP=&&...&& part.")
    end = segment.find("&&", start + 5)
    if end < 0:
        raise Hj212Error("malformed_field", "CP is not closed with &&.")
    if segment.find("CP=&&", end + 2) >= 0:
        raise Hj212Error("duplicate_field", "The field CP appears twice.")
    rest = segment[:start] + ";" + segment[end + 2:]
    return rest, segment[start + 5:end]


def _int_field(fields: dict[str, str], name: str) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if not _DIGITS.fullmatch(value) or len(value) > 9:
        raise Hj212Error("malformed_field", f"The field {name} must be a whole number; got {value[:20]!r}.")
    return int(value)


def _parse_time(value: str, what: str, position: int | None = None) -> datetime:
    if len(value) not in (14, 17) or not value.isdigit():
        raise Hj212Error("bad_datetime", f"{what} must be YYYYMMDDhhmmss; got {value[:20]!r}.", position)
    try:  # int slicing: strptime costs ~20x more and this runs once per packet
        return datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]),
                        int(value[12:14]))
    except ValueError:
        raise Hj212Error("bad_datetime", f"{what} is not a real date and time: {value!r}.", position) from None


def parse_segment(segment: str) -> Packet:
    """Parse a data segment whose framing is already checked."""
    rest, cp_text = _split_cp(segment)
    fields: dict[str, str] = {}
    extra: dict[str, str] = {}
    for piece in rest.split(";"):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        if not sep or not key:
            raise Hj212Error("malformed_field", f"The field {piece[:20]!r} has no key=value form.")
        target = fields if key in SEGMENT_FIELDS else extra
        if key in target:
            raise Hj212Error("duplicate_field", f"The field {key} appears twice.")
        target[key] = value
    _check_fields(fields)
    if _encrypted(fields):
        packet = _packet(segment, fields, extra, {}, {})
        packet.cipher = cp_text
        return packet
    issues: list[dict] = []
    cp, items = parse_cp(cp_text, issues)
    return _packet(segment, fields, extra, cp, items, issues)


def _check_fields(fields: dict[str, str]) -> None:
    """The segment fields' own checks (before the CP items, so their errors come first)."""
    for name in REQUIRED_FIELDS:
        if not fields.get(name):
            raise Hj212Error("missing_field", f"The required field {name} is missing.")
    if not _DIGITS.fullmatch(fields["CN"]) or not _DIGITS.fullmatch(fields["ST"]):
        raise Hj212Error("malformed_field", "ST and CN must be numeric codes.")
    qn = fields.get("QN")
    if qn is not None and not (_DIGITS.fullmatch(qn) and len(qn) == 17):
        raise Hj212Error("malformed_field", f"QN must be 17 digits (YYYYMMDDhhmmssSSS); got {qn[:20]!r}.")


def _packet(segment: str, fields: dict[str, str], extra: dict[str, str], cp: dict[str, str],
            items: dict[str, dict[str, float | str]], issues: list[dict] | None = None) -> Packet:
    data_time = _parse_time(cp["DataTime"], "DataTime") if "DataTime" in cp else None
    flag = _int_field(fields, "Flag")
    return Packet(segment=segment, fields=fields, cp=cp, items=items, data_time=data_time, qn=fields.get("QN"),
                  st=fields["ST"], cn=fields["CN"], pw=fields["PW"], mn=fields["MN"], flag=flag,
                  pnum=_int_field(fields, "PNUM"), pno=_int_field(fields, "PNO"), extra=extra,
                  version=version_of(flag), issues=issues or [])


def set_cp(packet: Packet, cp_text: str) -> None:
    """Fill a packet's CP from decrypted text (2025): the same item rules as a plain packet."""
    issues: list[dict] = []
    packet.cp, packet.items = parse_cp(cp_text, issues)
    packet.issues = issues
    packet.cipher = None
    packet.plain_cp = cp_text
    packet.data_time = _parse_time(packet.cp["DataTime"], "DataTime") if "DataTime" in packet.cp else None


class _ItemIssue(Exception):
    def __init__(self, issue: str):
        super().__init__(issue)
        self.issue = issue


def _item_value(name: str, value: str) -> float | str:
    if name in NUMERIC_FIELDS:
        if not _NUMBER.fullmatch(value):
            raise _ItemIssue("malformed_value")
        number = float(value)
        if not -_FLOAT_MAX <= number <= _FLOAT_MAX:  # inf; NaN never passes the pattern
            raise _ItemIssue("malformed_value")
        return number
    if name == "Flag":
        if value not in DATA_FLAGS:
            raise _ItemIssue("flag_unrecognised")
        return value
    if name == "SampleTime":
        try:
            _parse_time(value, "SampleTime")
        except Hj212Error:
            raise _ItemIssue("malformed_value") from None
    return value


def _is_code(code: str) -> bool:
    """[A-Za-z0-9]{1,16} with str methods (a regex per item cost more than the rest of the item)."""
    return 0 < len(code) <= 16 and code.isascii() and code.isalnum()


def parse_cp(cp_text: str, issues: list[dict] | None = None
             ) -> tuple[dict[str, str], dict[str, dict[str, float | str]]]:
    """Split CP into plain keys and pollutant items; position counts items from 1 across groups.

    An element that is not `key=value` or a plain key given twice (two DataTimes) refuses the packet; an unclear
    pollutant item is left out and described in `issues` (when given): `extra_field` (a field this parser does not
    read, e.g. -ValidNum, -DayData), `malformed_value`, `flag_unrecognised`, `ambiguous_duplicate` (one code field
    twice: neither copy is kept) and `malformed_code`."""
    cp: dict[str, str] = {}
    items: dict[str, dict[str, float | str]] = {}
    repeated: set[tuple[str, str]] = set()
    report = issues if issues is not None else []
    position = 0
    for group in cp_text.split(";"):
        for element in group.split(","):
            if not element:
                continue
            position += 1
            key, sep, value = element.partition("=")
            if not sep or not key:
                raise Hj212Error("malformed_item", f"Item {position}: {element[:20]!r} has no key=value form.",
                                 position)
            code, dash, name = key.rpartition("-")
            if not dash:
                if key in cp:
                    raise Hj212Error("duplicate_item", f"Item {position}: {key} appears twice.", position)
                cp[key] = value
                continue
            if not _is_code(code):
                report.append({"position": position, "key": key[:40], "issue": "malformed_code", "value": value[:40]})
                continue
            if not (name in NUMERIC_FIELDS or name in TEXT_FIELDS):
                report.append({"position": position, "key": key[:40], "issue": "extra_field", "value": value[:40]})
                continue
            entry = items.setdefault(code, {})
            if name in entry or (code, name) in repeated:
                if name in entry:
                    del entry[name]
                    repeated.add((code, name))
                report.append({"position": position, "key": key, "issue": "ambiguous_duplicate",
                               "value": value[:40]})
                continue
            try:
                entry[name] = _item_value(name, value)
            except _ItemIssue as exc:
                report.append({"position": position, "key": key, "issue": exc.issue, "value": value[:40]})
                if exc.issue == "flag_unrecognised":  # kept with its raw flag, so it never counts as normal data
                    entry[name] = value[:2] or UNCLEAR_FLAG
    for code, name in repeated:
        if name == "Flag" and code in items:  # which flag holds is unclear: the value must not count as normal
            items[code]["Flag"] = UNCLEAR_FLAG
    for code in [c for c, entry in items.items() if not entry]:
        del items[code]
    return cp, items
