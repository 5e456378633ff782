"""The packed form of one outlet × pollutant × data type × China-local day of minute or real-time values (pure).

After MONITORING_COMPACT_AFTER_DAYS, a day's CN 2051/2011 rows (~219 bytes each on PostgreSQL with their indexes)
become one row whose payload holds every value exactly: zlib over column-wise data — second offsets from the day's
start (delta-encoded), each number as the shortest text that reads back to the same float (Python's repr, so the
round trip is exact), flags, sources and packet ids. Readers get back the same tuples the value table held.

Payload layout (version 1): b"P1" + zlib( u32 n | n × u32 offset deltas | 4 columns of numbers | flags | sources |
n × i64 packet ids ), each text column "\x1f"-joined, "" for NULL.
"""
from __future__ import annotations

import struct
import zlib
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta

MAGIC = b"P1"
SEP = "\x1f"
NUMBER_COLUMNS = ("value", "value_min", "value_max", "value_converted")


class PackError(ValueError):
    """A payload that is not a pack of this version (never silently read as something else)."""


@dataclass(frozen=True)
class Reading:
    measured_at: datetime
    value: float | None
    value_min: float | None
    value_max: float | None
    value_converted: float | None
    flag: str
    source: str
    packet_id: int | None


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _unnum(text: str) -> float | None:
    return None if text == "" else float(text)


def pack(day_start: datetime, readings: list[Reading]) -> bytes:
    """Readings of one day (any order; one per instant) → payload. day_start is the day's UTC instant."""
    rows = sorted(readings, key=lambda r: r.measured_at)
    offsets = array("I")
    previous = 0
    for r in rows:
        seconds = int((r.measured_at - day_start).total_seconds())
        if not 0 <= seconds < 2 * 86400 or seconds < previous:  # 25-hour DST days stay well inside
            raise PackError(f"{r.measured_at.isoformat()} is not inside the day starting {day_start.isoformat()}")
        offsets.append(seconds - previous)
        previous = seconds
    columns = [SEP.join(_num(getattr(r, name)) for r in rows) for name in NUMBER_COLUMNS]
    flags = SEP.join(r.flag or "" for r in rows)
    sources = SEP.join(r.source or "" for r in rows)
    packets = array("q", [-1 if r.packet_id is None else int(r.packet_id) for r in rows])
    body = b"".join([struct.pack("<I", len(rows)), offsets.tobytes(),
                     *[struct.pack("<I", len(c.encode())) + c.encode() for c in (*columns, flags, sources)],
                     packets.tobytes()])
    return MAGIC + zlib.compress(body, 9)


def unpack(day_start: datetime, payload: bytes) -> list[Reading]:
    if not payload.startswith(MAGIC):
        raise PackError("not a version-1 pack")
    body = zlib.decompress(payload[len(MAGIC):])
    (n,) = struct.unpack_from("<I", body, 0)
    pos = 4
    offsets = array("I")
    offsets.frombytes(body[pos:pos + 4 * n])
    pos += 4 * n
    texts = []
    for _ in range(len(NUMBER_COLUMNS) + 2):
        (size,) = struct.unpack_from("<I", body, pos)
        pos += 4
        texts.append(body[pos:pos + size].decode())
        pos += size
    packets = array("q")
    packets.frombytes(body[pos:pos + 8 * n])
    split = [t.split(SEP) if n else [] for t in texts]
    out, seconds = [], 0
    for i in range(n):
        seconds += offsets[i]
        out.append(Reading(measured_at=day_start + timedelta(seconds=seconds),
                           value=_unnum(split[0][i]), value_min=_unnum(split[1][i]), value_max=_unnum(split[2][i]),
                           value_converted=_unnum(split[3][i]), flag=split[4][i], source=split[5][i],
                           packet_id=None if packets[i] < 0 else int(packets[i])))
    return out


def merge(old: list[Reading], new: list[Reading]) -> list[Reading]:
    """A late back-fill into an already packed day: the first stored reading of an instant wins, as the value
    table's unique key does (ON CONFLICT DO NOTHING)."""
    seen = {r.measured_at: r for r in old}
    for r in new:
        seen.setdefault(r.measured_at, r)
    return sorted(seen.values(), key=lambda r: r.measured_at)
