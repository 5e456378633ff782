"""HJ 212 intake: parse, authenticate, decrypt (2025), check and store the packets of one request or listener batch.

One result per packet line, and one rule for each (DOMAIN §5.10):
- A frame that cannot be read, an unauthorised one (unknown MN and wrong PW alike: the network hears `unauthorised`,
  the regulator reads `unknown_device` or `wrong_password` in `monitoring_rejections`), a 2025 CP area that does
  not decrypt, a DataTime later than now + HJ212_FUTURE_MINUTES or before HJ212_EARLIEST_YEAR (`bad_time`) is refused
  whole: nothing stored, nothing derived, a rejection row kept (reason, time, MN, address) — at most
  MAX_REJECTIONS_STORED per call, so a flood costs a bounded number of rows.
- An unclear item never refuses the packet: clear items are stored, the others are listed in the packet's `issues`
  and the result is `partial` (repeated code field, unknown field, unknown code, value out of range: negative
  where a concentration cannot be, above 1e9).
- Split uploads: (MN, QN, PNO) identify a part; each part is stored as it comes; `parts` says how many of PNUM
  are held.
- 2005-edition codes (ST 32 water, ST 31 gas) are mapped to 2017 codes (portal/reference/data/hj212_2005_codes.csv);
  the original code is kept in the packet's issues as `mapped_code` (not a problem, so not `partial`).
- Data older than HJ212_BACKFILL_DAYS is stored as back-fill: it never opens an incident by itself.
- CN 9015 is a heartbeat (device alive); CN 2013 raw records and CN 3020 field-unit information are kept as raw CP;
  any other command of an authenticated device is kept raw and marked (`kept`, `unknown_command`), not answered.

The caller commits, then answers (the listener's 9014 goes out only for what was committed).
"""
from __future__ import annotations

import csv
import hashlib
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from portal.auth.services import verify_password
from portal.core.clock import china_tz
from portal.db import utcnow
from portal.extensions import db
from portal.monitoring import devicekeys, hj212, ingest, pgcopy, rules, sqlitebulk, unknown_senders
from portal.monitoring.models import Device, ReceivedPacket, RejectedPacket
from portal.reference.models import Pollutant

UTC = timezone.utc
MAX_VALUE = 1e9
MAX_REJECTIONS_STORED = 100
# Codes whose values may be negative (temperature, pressure as gauge reading); every other value is a
# concentration, a flow or a count and cannot be.
NEGATIVE_ALLOWED = frozenset({"a01012", "a01013", "a01001", "a01006"})
RAW_COMMANDS = frozenset({"2013", "3020"})
HEARTBEAT = "9015"
KEY_EXCHANGE = "1014"
ANSWERED = frozenset({"accepted", "partial", "duplicate"})
NOT_PROBLEMS = frozenset({"mapped_code"})
SYSTEMS = {"32": "water", "31": "gas"}
_MAP_FILE = Path(__file__).resolve().parents[1] / "reference" / "data" / "hj212_2005_codes.csv"
_RAW_MN = re.compile(r"(?:^|;)MN=([A-Za-z0-9_-]{1,24})(?=;|$)")
_RAW_QN = re.compile(r"(?:^|;)QN=(\d{17})(?=;|$)")
_AUTH_CACHE: dict[tuple[str, str, str], bool] = {}


@lru_cache(maxsize=1)
def codes_2005() -> dict[tuple[str, str], str]:
    """(system, 2005 code) -> 2017 code, from the reference table (its source column says where each pair is from)."""
    with _MAP_FILE.open(encoding="utf-8", newline="") as fh:
        return {(r["system"], r["code_2005"]): r["code_2017"] for r in csv.DictReader(fh)}


def _result(line_no: int, result: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"line": line_no, "result": result, "message": message, **extra}


def split_packets(body: bytes) -> list[tuple[int, bytes]]:
    """One packet per line; a CRLF-terminated line keeps its CRLF for the frame check."""
    lines = []
    for number, part in enumerate(body.split(b"\n"), start=1):
        if not part.strip():
            continue
        lines.append((number, part + b"\n" if part.endswith(b"\r") else part))
    return lines


def _config(name: str, default: Any) -> Any:
    return current_app.config.get(name, default)


def password_ok(device: Device | None, mn: str, password: str) -> bool:
    """Constant-time keyed verifier; an unknown MN does the same work. A device registered before verifiers
    (argon2 hash) is checked once per process per password and given a verifier on its first correct packet."""
    if device is None or devicekeys.is_verifier(device.password_hash):
        return devicekeys.check_verifier(device.password_hash if device else None, mn, password)
    key = (device.mn, device.password_hash, hashlib.sha256(password.encode()).hexdigest())
    if key not in _AUTH_CACHE:
        if len(_AUTH_CACHE) > 10000:
            _AUTH_CACHE.clear()
        _AUTH_CACHE[key] = verify_password(device.password_hash, password)
    if _AUTH_CACHE[key]:
        device.password_hash = devicekeys.make_verifier(device.mn, password)
    return _AUTH_CACHE[key]


class _Refused(Exception):
    def __init__(self, result: str, reason: str, message: str):
        super().__init__(message)
        self.result, self.reason, self.message = result, reason, message


def _time_window(now: datetime) -> tuple[int, datetime, datetime]:
    """(earliest year, latest instant, back-fill before) for the DataTime checks, read from the config once per call."""
    return (int(_config("HJ212_EARLIEST_YEAR", 2000)),
            now + timedelta(minutes=float(_config("HJ212_FUTURE_MINUTES", 10))),
            now - timedelta(days=float(_config("HJ212_BACKFILL_DAYS", 7))))


def _check_time(packet: hj212.Packet, tz: ZoneInfo, window: tuple[int, datetime, datetime]) -> bool:
    """Refuses a DataTime in the future (beyond the tolerance) or before the earliest year; True for back-fill."""
    if packet.data_time is None:
        raise _Refused("missing_field", "missing_field", "The data packet has no DataTime.")
    earliest_year, latest, backfill_before = window
    moment = _utc(packet.data_time, tz)
    if packet.data_time.year < earliest_year:
        raise _Refused("bad_time", "bad_time", "DataTime is implausibly early; check the data logger's clock.")
    if moment > latest:
        raise _Refused("bad_time", "bad_time", "DataTime is in the future; check the data logger's clock.")
    return moment < backfill_before


def _decrypt(packet: hj212.Packet, device: Device) -> None:
    if packet.cn == KEY_EXCHANGE:
        _read_key_exchange(packet, device)
        return
    if packet.cipher is None:
        if device.protocol == "2025" and hj212.is_encrypted_command(packet.cn):
            raise _Refused("protocol_mismatch", "protocol_mismatch",
                           "This device is registered for HJ 212-2025: its data area must be SM4-encrypted.")
        return
    key = devicekeys.open_sm4_key(device.sm4_key)
    if key is None:
        raise _Refused("decrypt_failed", "no_sm4_key", "No SM4 key is registered for this device.")
    try:
        hj212.set_cp(packet, devicekeys.decrypt_cp(packet.cipher, key))
    except devicekeys.Sm4Error as exc:
        raise _Refused("decrypt_failed", "decrypt_failed", str(exc)) from None
    except hj212.Hj212Error as exc:
        raise _Refused(exc.code, exc.code, exc.message) from None


def _read_key_exchange(packet: hj212.Packet, device: Device) -> None:
    """CN 1014 (HJ 212-2025 new key): DOMAIN §5.10 names the command [V2] but its sequence and fields are [N]. It is
    decrypted when it can be and kept, marked `not_understood`, whatever it holds; no key is ever taken from it."""
    text = packet.cipher
    key = devicekeys.open_sm4_key(device.sm4_key) if text is not None else None
    if text is not None and key is not None:
        try:
            text = devicekeys.decrypt_cp(text, key)
        except devicekeys.Sm4Error:
            packet.issues.append({"key": "CP", "issue": "not_decrypted", "value": ""})
    elif text is not None:
        packet.issues.append({"key": "CP", "issue": "not_decrypted", "value": ""})
    if text is None:
        text = _cp_text(packet)
    packet.cipher, packet.plain_cp, packet.items = None, text, {}


def ingest_hj212(body: bytes, now: datetime | None = None, *, address: str = "", addresses: list[str] | None = None,
                 channel: str = "http") -> list[dict[str, Any]]:
    """Parse, authenticate and store every packet of a body; one result per packet line. `addresses` (listener:
    one per line) or `address` say where each frame came from, for the rejection record."""
    now = now or utcnow()
    tz = china_tz()
    results: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []

    def refuse(number: int, result: str, reason: str, message: str, mn: str | None, qn: str | None,
               device: Device | None = None, detail: str | None = None, **extra: Any) -> None:
        results.append(_result(number, result, message, mn=mn, qn=qn, reason=reason, **extra))
        rejections.append({"received_at": now, "reason": reason, "channel": channel,
                           "address": ((addresses[number - 1] if addresses and number <= len(addresses)
                                        else address) or "")[:64],
                           "mn": (mn or "")[:24] or None, "qn": qn, "device_id": device.id if device else None,
                           "detail": (message if detail is None else detail)[:300]})

    parsed: list[tuple[int, hj212.Packet]] = []
    for number, frame in split_packets(body):
        try:
            parsed.append((number, hj212.parse_frame(frame)))
        except hj212.Hj212Error as exc:
            text = frame[6:].decode("ascii", "replace")
            mn, qn = _RAW_MN.search(text), _RAW_QN.search(text)
            refuse(number, exc.code, exc.code, exc.message, mn and mn.group(1), qn and qn.group(1),
                   **({"position": exc.position} if exc.position else {}))
    devices = {d.mn: d for d in db.session.scalars(sa.select(Device).where(
        Device.mn.in_({p.mn for _, p in parsed}), Device.is_active.is_(True)))} if parsed else {}
    accepted: list[tuple[int, hj212.Packet, Device, bool]] = []
    seen: set[tuple[str, str, int]] = set()
    checked: dict[tuple[str, str], bool] = {}  # (MN, password) -> verdict, once per body
    window = _time_window(now)
    framed: set[int] = set()  # devices whose last_frame_at is set (an ORM attribute write per packet cost ~2 us)
    for number, packet in parsed:
        device = devices.get(packet.mn)
        if (packet.mn, packet.pw) not in checked:
            checked[(packet.mn, packet.pw)] = password_ok(device, packet.mn, packet.pw)
        if not checked[(packet.mn, packet.pw)]:  # the network hears `unauthorised` in every case
            reason, note = ("wrong_password", None) if device is not None else _unknown_reason(packet)
            refuse(number, "unauthorised", reason, "The MN and password do not identify an active device.",
                   packet.mn, packet.qn, device, detail=note)
            continue
        if device.id not in framed:
            framed.add(device.id)
            device.last_frame_at = now
        try:
            _decrypt(packet, device)
            if packet.cn == HEARTBEAT:
                device.last_heartbeat_at = now
                results.append(_result(number, "accepted", "", mn=packet.mn, qn=packet.qn, heartbeat=True))
                continue
            backfill = _check_time(packet, tz, window) if packet.cn in rules.CN_PERIODS else False
        except _Refused as exc:
            refuse(number, exc.result, exc.reason, exc.message, packet.mn, packet.qn, device)
            continue
        key = (packet.mn, packet.qn, packet.pno or 0)
        if packet.qn and key in seen:  # one already stored is found by the insert
            results.append(_result(number, "duplicate", "This packet (same MN, QN and PNO) was already received.",
                                   mn=packet.mn, qn=packet.qn))
            continue
        if packet.qn:
            seen.add(key)
        accepted.append((number, packet, device, backfill))
    results.extend(_store_packets(accepted, tz, now))
    if rejections:
        _store_rejections(rejections)
    results.sort(key=lambda r: r["line"])
    return results


def _unknown_reason(packet: hj212.Packet) -> tuple[str, str]:
    """For the unknown-senders list: a CN 1001 from an unregistered MN is a logger asking for a platform-assigned MN
    (HJ 212-2025, DOMAIN §5.10 [V2]; its CP carries the hardware fingerprint, kept as sent, bounded); anything else
    is an unknown MN, noted with its command and edition."""
    if packet.cn == "1001":
        return unknown_senders.MN_REQUEST, (_cp_text(packet) or "")[:300]
    return "unknown_device", f"CN={packet.cn} HJ 212-{packet.version}"


def _store_rejections(rows: list[dict[str, Any]]) -> None:
    """Refusals of a registered device's MN are kept per frame (bounded per call) for its device page; those of MNs
    no device has are aggregated in the unknown-senders list (bounded in total)."""
    named = {r["mn"] for r in rows if r["device_id"] is None and r["mn"]}
    registered = {mn: device_id for mn, device_id in db.session.execute(
        sa.select(Device.mn, Device.id).where(Device.mn.in_(named)))} if named else {}
    for row in rows:
        if row["device_id"] is None and row["mn"] in registered:
            row["device_id"] = registered[row["mn"]]
    unknown = [r for r in rows if r["device_id"] is None]
    if unknown:
        unknown_senders.record(unknown, unknown[0]["received_at"])
    rows = [r for r in rows if r["device_id"] is not None]
    if not rows:
        return
    kept = rows[:MAX_REJECTIONS_STORED]
    if len(rows) > len(kept):
        kept[-1] = {**kept[-1], "detail": f"{kept[-1]['detail'][:200]} (+{len(rows) - len(kept)} more refused "
                                          f"in the same request, not stored one by one)"}
    db.session.execute(sa.insert(RejectedPacket), kept)


def _known_codes() -> set[str]:
    return set(db.session.scalars(sa.select(Pollutant.code)))


@lru_cache(maxsize=4096)
def _utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A device's local DataTime in UTC; cached, since the packets of one request share a few instants."""
    return local.replace(tzinfo=tz).astimezone(UTC)


def _map_codes(packet: hj212.Packet) -> None:
    """2005-edition codes to 2017 codes by system, the original kept (DOMAIN §5.6)."""
    system = SYSTEMS.get(packet.st)
    if system is None or packet.version != "2005":
        return
    table = codes_2005()
    for code in list(packet.items):
        new = table.get((system, code))
        if new is not None and new not in packet.items:
            packet.items[new] = packet.items.pop(code)
            packet.issues.append({"key": code, "issue": "mapped_code", "value": new})


def _bad_number(code: str, value: Any) -> bool:
    if not isinstance(value, float):
        return False
    return value > MAX_VALUE or value < -MAX_VALUE or (value < 0 and code not in NEGATIVE_ALLOWED)


def _check_items(packet: hj212.Packet, known: set[str]) -> None:
    """Values that cannot be physical are left out and reported per item; unknown codes are stored and reported."""
    for code, item in list(packet.items.items()):
        for name, value in list(item.items()):
            if _bad_number(code, value):
                del item[name]
                packet.issues.append({"key": f"{code}-{name}", "issue": "out_of_range", "value": f"{value:g}"})
        if not any(isinstance(v, float) for v in item.values()):
            del packet.items[code]
        elif code not in known and not _series_code(packet.st, code):
            packet.issues.append({"key": code, "issue": "unknown_code", "value": ""})


def _series_code(st: str, code: str) -> bool:
    """HJ 212-2025 ST=44 electricity (d20xxx production, d30xxx treatment) and ST=45 key production conditions
    (p..., state marks): their code lists are not verified [N, DOMAIN §5.10], so any d/p code of these systems is
    stored as its own series, not reported as unknown."""
    return (st == "44" and code[:1] == "d") or (st == "45" and code[:1] == "p")


def _packet_rows(packet: hj212.Packet, device: Device, specs: dict[str, rules.LimitSpec], tz: ZoneInfo,
                 packet_id: int) -> list[dict[str, Any]]:
    period = rules.CN_PERIODS[packet.cn]
    value_field, conv_field = rules.VALUE_FIELDS[period]
    measured_at = _utc(packet.data_time, tz)
    o2 = packet.items.get(rules.O2_CODE, {}).get(value_field)
    enterprise_id, outlet_id = device.enterprise_id, device.outlet_id  # ORM attributes: read once per packet
    rows = []
    for code, item in packet.items.items():
        get = item.get
        value, conv = get(value_field), get(conv_field)
        if value is None:
            value = get("Data")  # noise: L10/L50/L90/Leq/LA-Data
        if conv is None and value is not None and o2 is not None:
            spec = specs.get(code)
            if spec is not None and spec.reference_o2 is not None:
                conv = rules.convert_to_reference_o2(float(value), float(o2), spec.reference_o2)
        rows.append({"enterprise_id": enterprise_id, "outlet_id": outlet_id, "pollutant_code": code,
                     "period": period, "measured_at": measured_at, "value": value, "value_min": get("Min"),
                     "value_max": get("Max"), "value_converted": conv, "flag": get("Flag", "N"),
                     "source": "auto", "packet_id": packet_id})
    return rows


def _insert_packets(params: list[dict[str, Any]]) -> list[int | None]:
    """Insert packet records in bulk; a packet whose (MN, QN, PNO) is already stored (also by a concurrent request)
    gets None and is reported as a duplicate."""
    if not ingest.is_postgres():
        return sqlitebulk.insert_packets(params)
    ids: list[int | None] = [None] * len(params)
    with_qn = [i for i, p in enumerate(params) if p["qn"]]
    if with_qn:  # COPY: a long multi-row INSERT cost more to parse than to run
        found = pgcopy.insert_packets([params[i] for i in with_qn])
        for i in with_qn:
            ids[i] = found.get((params[i]["mn"], params[i]["qn"], params[i]["pno"]))
    without_qn = [i for i, p in enumerate(params) if not p["qn"]]  # 2005-edition packets: RETURNING in order
    table = ReceivedPacket.__table__
    for start in range(0, len(without_qn), ingest.CHUNK):
        chunk = without_qn[start:start + ingest.CHUNK]
        stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        for i, (pid,) in zip(chunk, db.session.connection().execute(stmt, [params[i] for i in chunk])):
            ids[i] = pid
    return ids


def _parts_held(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many parts of each split upload (MN, QN) are stored (this batch's included, after the insert)."""
    held: dict[tuple[str, str], int] = {}
    for mn, qn in keys:
        held[(mn, qn)] = db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedPacket).where(
            ReceivedPacket.mn == mn, ReceivedPacket.qn == qn, ReceivedPacket.pno > 0)) or 0
    return held


def _store_packets(accepted: list[tuple[int, hj212.Packet, Device, bool]], tz: ZoneInfo,
                   now: datetime) -> list[dict[str, Any]]:
    from portal.monitoring import services  # services imports this module's callers; import late

    if not accepted:
        return []
    known = _known_codes()
    specs = services.limit_specs({d.outlet_id for _, _, d, _ in accepted})
    params = []
    for _, packet, device, backfill in accepted:
        if packet.cn in rules.CN_PERIODS:
            _map_codes(packet)
            _check_items(packet, known)
        elif packet.cn in RAW_COMMANDS:  # raw records and field-unit information: kept whole as raw CP
            packet.issues, packet.items = [], {}
        elif packet.cn == KEY_EXCHANGE:  # sequence not verified [N]: kept, marked, the key never applied
            packet.issues = [{"key": "CN", "issue": "not_understood", "value": KEY_EXCHANGE}] + [
                i for i in packet.issues if i["issue"] == "not_decrypted"]
            packet.items = {}
        else:  # a command this portal does not read: kept raw and marked, never answered as data (DOMAIN §5.10)
            packet.issues = [{"key": "CN", "issue": "unknown_command", "value": packet.cn}]
            packet.items = {}
        problems = [i for i in packet.issues if i["issue"] not in NOT_PROBLEMS]
        kept = packet.cn not in rules.CN_PERIODS and packet.cn not in RAW_COMMANDS
        keep_raw = bool(problems) or packet.cn in RAW_COMMANDS
        raw = None
        if keep_raw:
            raw = masked_cp(_cp_text(packet)) if packet.cn == KEY_EXCHANGE else _cp_text(packet)
        params.append({"mn": packet.mn, "qn": packet.qn, "cn": packet.cn, "device_id": device.id,
                       "received_at": now, "value_count": len(packet.items),
                       "unknown_codes": ",".join(sorted(c for c in packet.items if c not in known
                                                        and not _series_code(packet.st, c)))[:200],
                       "pno": packet.pno or 0, "pnum": packet.pnum, "version": packet.version,
                       "result": "kept" if kept else "partial" if problems else "accepted", "backfill": backfill,
                       "issues": packet.issues or None,
                       "raw": raw})
    ids = _insert_packets(params)
    split = {(p.mn, p.qn) for (_, p, _, _), pid in zip(accepted, ids) if pid and p.qn and p.pnum}
    held = _parts_held(split) if split else {}
    results, rows, backfilled = [], [], []
    with_data: set[int] = set()  # devices whose last_data_at is set, once per call
    for (number, packet, device, backfill), param, packet_id in zip(accepted, params, ids):
        if packet_id is None:
            results.append(_result(number, "duplicate", "This packet (same MN, QN and PNO) was already received.",
                                   mn=packet.mn, qn=packet.qn))
            continue
        extra: dict[str, Any] = {}
        if packet.pnum:
            extra["parts"] = f"{held.get((packet.mn, packet.qn), 0)}/{packet.pnum}"
        if param["issues"]:
            extra["issues"] = [i for i in packet.issues if i["issue"] not in NOT_PROBLEMS]
        if backfill:
            extra["backfill"] = True
        if packet.cn in rules.CN_PERIODS:
            if device.id not in with_data:
                with_data.add(device.id)
                device.last_data_at = now
                device.last_heartbeat_at = now
            packet_rows = _packet_rows(packet, device, specs[device.outlet_id], tz, packet_id)
            (rows if not backfill else backfilled).extend(packet_rows)
        results.append(_result(number, param["result"], "", mn=packet.mn, qn=packet.qn, values=len(packet.items),
                               unknown_codes=sorted(c for c in packet.items if c not in known
                                                    and not _series_code(packet.st, c)), **extra))
    if rows:
        batch = ingest.ingest_values(rows, tz)
        services.detect_exceedances(batch, specs, tz, now)
    if backfilled:  # back-fill: stored and rolled up, never opening an incident by itself
        ingest.ingest_values(backfilled, tz, judged=False)
    return results


def masked_cp(cp: str) -> str:
    """A CP area with every value replaced by its length (`NewKey=<32>`): its shape is kept for the regulator, a key
    it may carry is not stored in clear."""
    parts = []
    for part in cp.replace(",", ";").split(";"):
        name, sep, value = part.partition("=")
        parts.append(f"{name}=<{len(value)}>" if sep else f"<{len(part)}>")
    return ";".join(parts)


def _cp_text(packet: hj212.Packet) -> str:
    if packet.plain_cp is not None:
        return packet.plain_cp
    start = packet.segment.find("CP=&&")
    end = packet.segment.find("&&", start + 5)
    return packet.segment[start + 5:end] if start >= 0 and end >= 0 else ""
