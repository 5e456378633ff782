"""What a device page shows (regulator and enterprise): liveness, protocol, where to send, rejections by reason."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from urllib.parse import urlparse

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.core.clock import china_tz
from portal.core.links import base_url, public_url
from portal.db import utcnow
from portal.extensions import db
from portal.monitoring.models import Device, ReceivedPacket, RejectedPacket

DAYS = 14


def public_host(config) -> str:
    """The listener's host as loggers must be told it: HJ212_PUBLIC_HOST, else the host of PUBLIC_BASE_URL."""
    return config.get("HJ212_PUBLIC_HOST") or urlparse(base_url()).hostname or "localhost"


def endpoints() -> dict[str, str]:
    """Where loggers send: the TCP listener (public host and port) and the HTTP URL."""
    config = current_app.config
    return {"host": public_host(config), "port": str(config.get("HJ212_LISTEN_PORT", 9212)),
            "url": public_url("monitoring_api.hj212")}


def enterprise_devices(enterprise_id: int) -> list[Device]:
    return list(db.session.scalars(sa.select(Device).where(Device.enterprise_id == enterprise_id)
                                   .order_by(Device.mn)))


def rejections_by_day(device: Device, days: int = DAYS, now: datetime | None = None
                      ) -> tuple[list[str], list[tuple[date, list[int]]]]:
    """Reasons seen in the last `days` China-local days and, per day (newest first), the count per reason."""
    now = now or utcnow()
    tz = china_tz()
    since = now - timedelta(days=days)
    rows = db.session.execute(sa.select(RejectedPacket.received_at, RejectedPacket.reason).where(
        RejectedPacket.device_id == device.id, RejectedPacket.received_at >= since)).all()
    per_day: dict[date, Counter] = defaultdict(Counter)
    for at, reason in rows:
        per_day[at.astimezone(tz).date()][reason] += 1
    reasons = sorted({r for counts in per_day.values() for r in counts})
    table = [(day, [per_day[day][r] for r in reasons]) for day in sorted(per_day, reverse=True)]
    return reasons, table


def recent_rejections(device: Device, limit: int = 20) -> list[RejectedPacket]:
    return list(db.session.scalars(sa.select(RejectedPacket).where(RejectedPacket.device_id == device.id)
                                   .order_by(RejectedPacket.received_at.desc(), RejectedPacket.id.desc())
                                   .limit(limit)))


def recent_packets(device: Device, limit: int = 10) -> list[ReceivedPacket]:
    return list(db.session.scalars(sa.select(ReceivedPacket).where(ReceivedPacket.device_id == device.id)
                                   .order_by(ReceivedPacket.id.desc()).limit(limit)))


def context(device: Device) -> dict:
    from portal.monitoring import silence

    reasons, table = rejections_by_day(device)
    return {"silences": silence.device_silences(device), "silence_hours": f"{silence.silence_hours():g}",
            "device": device, "where": endpoints(), "reasons": reasons, "rejection_days": table,
            "rejections": recent_rejections(device), "packets": recent_packets(device), "days": DAYS,
            "reason_label": reason_label}


REASON_LABELS = {
    "unknown_device": _l("Unknown MN"),
    "mn_request": _l("Asked for a platform-assigned MN (CN 1001)"),
    "wrong_password": _l("Wrong password"),
    "bad_crc": _l("CRC mismatch"),
    "crc_byte_swapped": _l("CRC sent with its two bytes swapped"),
    "crc_modbus": _l("Modbus CRC instead of the HJ 212 CRC"),
    "crc_modbus_swapped": _l("Modbus CRC with its bytes swapped"),
    "bad_time": _l("Implausible DataTime (check the logger's clock)"),
    "decrypt_failed": _l("Data area could not be decrypted (SM4 key)"),
    "no_sm4_key": _l("No SM4 key registered"),
    "protocol_mismatch": _l("Not sent as the registered HJ 212 edition"),
    "missing_field": _l("Required field missing"),
    "bad_length": _l("Length field does not match"),
    "bad_header": _l("Frame does not start with ##"),
    "bad_encoding": _l("Characters not allowed in this edition"),
    "bad_terminator": _l("Bytes after the frame"),
    "bad_datetime": _l("DataTime is not a valid date"),
    "malformed_field": _l("Malformed field"),
    "malformed_item": _l("Malformed data item"),
    "duplicate_field": _l("Field given twice"),
    "duplicate_item": _l("Key given twice in the data area"),
}


def reason_label(code: str) -> str:
    label = REASON_LABELS.get(code)
    return str(label) if label is not None else code
