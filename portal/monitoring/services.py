"""Self-monitoring use cases: devices, HJ 212 ingest, exceedance incidents and the gap job.

Services flush, never commit (views, CLI and the job runner commit).
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth import rules as auth_rules
from portal.auth.services import hash_password, verify_password
from portal.core.clock import china_today, china_tz
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.enterprises.models import Enterprise, Outlet, OutletLimit
from portal.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.monitoring import episodes, hj212, ingest, pgcopy, rules, sqlitebulk
from portal.monitoring.models import Basis, Device, ExceedanceIncident, IncidentState, MonitoringFinding, ReceivedPacket
from portal.reference.models import Pollutant

UTC = timezone.utc
_AUTH_CACHE: dict[tuple[str, str, str], bool] = {}


# ---------------------------------------------------------------- devices

def add_device(actor: Any, *, mn: str, password: str, uscc: str, outlet_code: str) -> Device:
    """Register a device for one outlet; MN + password authenticate its packets."""
    mn = (mn or "").strip()
    errors = {}
    if not mn or len(mn) > 24 or not mn.isascii() or not mn.isalnum():
        errors["mn"] = _("The MN must be 1 to 24 letters or digits, as configured in the data logger.")
    if not password or len(password) > 64 or not password.isascii():
        errors["password"] = _("The password must be 1 to 64 ASCII characters, as configured in the data logger.")
    enterprise = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == (uscc or "").strip().upper()))
    if enterprise is None:
        errors["uscc"] = _("No enterprise has this unified social credit code.")
    outlet = None
    if enterprise is not None:
        outlet = db.session.scalar(sa.select(Outlet).where(Outlet.enterprise_id == enterprise.id,
                                                           Outlet.code == (outlet_code or "").strip().upper()))
        if outlet is None:
            errors["outlet"] = _("This enterprise has no outlet with this code (for example DA001 or DW001).")
    if errors:
        raise ValidationFailed(errors)
    if db.session.scalar(sa.select(Device.id).where(Device.mn == mn)) is not None:
        raise Conflict(_("A device with MN %(mn)s is already registered.", mn=mn), field="mn")
    device = Device(mn=mn, password_hash=hash_password(password), enterprise_id=enterprise.id, outlet_id=outlet.id)
    db.session.add(device)
    db.session.flush()
    record(actor, "monitoring.device.add", device)
    return device


def jurisdiction_devices(jurisdiction_code: str | None) -> list[Device]:
    if not jurisdiction_code:
        return []
    stmt = (sa.select(Device).join(Enterprise, Device.enterprise_id == Enterprise.id)
            .where(Enterprise.region_code.startswith(jurisdiction_code)).order_by(Device.mn))
    return list(db.session.scalars(stmt))


def add_device_as_regulator(actor: Any, **kwargs: str) -> Device:
    """A regulator registers devices only for enterprises in their jurisdiction."""
    enterprise = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == (kwargs["uscc"] or "").strip()
                                                               .upper()))
    if enterprise is not None and not auth_rules.can_edit_registry(actor.role, actor.jurisdiction_code,
                                                                   enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."), field="uscc")
    return add_device(actor, **kwargs)


def _password_ok(device: Device, password: str) -> bool:
    """argon2 is deliberately slow; a verified (hash, password) pair is remembered so a busy device does not cost
    a hash per packet. The key includes the stored hash, so a password change invalidates it."""
    key = (device.mn, device.password_hash, hashlib.sha256(password.encode()).hexdigest())
    if key not in _AUTH_CACHE:
        if len(_AUTH_CACHE) > 10000:
            _AUTH_CACHE.clear()
        _AUTH_CACHE[key] = verify_password(device.password_hash, password)
    return _AUTH_CACHE[key]


# ---------------------------------------------------------------- limits

def limit_specs(outlet_ids: set[int]) -> dict[int, dict[str, rules.LimitSpec]]:
    specs: dict[int, dict[str, rules.LimitSpec]] = {i: {} for i in outlet_ids}
    if not outlet_ids:
        return specs
    for lim in db.session.scalars(sa.select(OutletLimit).where(OutletLimit.outlet_id.in_(outlet_ids))):
        specs[lim.outlet_id][lim.pollutant_code] = rules.LimitSpec(
            averaging=str(lim.averaging), pollutant_code=lim.pollutant_code,
            limit_value=_f(lim.limit_value), limit_min=_f(lim.limit_min), limit_max=_f(lim.limit_max),
            reference_o2=_f(lim.reference_o2))
    return specs


def _f(value) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------- HJ 212 ingest

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


def ingest_hj212(body: bytes, now: datetime | None = None) -> list[dict[str, Any]]:
    """Parse, authenticate and store every packet of a request body; one result per packet line."""
    now = now or utcnow()
    tz = china_tz()
    results: list[dict[str, Any]] = []
    parsed: list[tuple[int, hj212.Packet]] = []
    for number, frame in split_packets(body):
        try:
            parsed.append((number, hj212.parse_frame(frame)))
        except hj212.Hj212Error as exc:
            results.append(_result(number, exc.code, exc.message, **({"position": exc.position}
                                                                     if exc.position else {})))
    devices = {d.mn: d for d in db.session.scalars(sa.select(Device).where(
        Device.mn.in_({p.mn for _, p in parsed}), Device.is_active.is_(True)))} if parsed else {}
    accepted: list[tuple[int, hj212.Packet, Device]] = []
    seen: set[tuple[str, str]] = set()
    checked: dict[tuple[str, str], bool] = {}  # (MN, password) -> verdict, once per body
    for number, packet in parsed:
        base = {"mn": packet.mn, "qn": packet.qn}
        device = devices.get(packet.mn)
        if device is not None and (packet.mn, packet.pw) not in checked:
            checked[(packet.mn, packet.pw)] = _password_ok(device, packet.pw)
        if device is None:
            results.append(_result(number, "unknown_device", "No active device is registered with this MN.", **base))
        elif not checked[(packet.mn, packet.pw)]:
            results.append(_result(number, "wrong_password", "The password does not match this device.", **base))
        elif packet.cn not in rules.CN_PERIODS:
            results.append(_result(number, "unsupported_command",
                                   "Only data uploads are accepted (CN 2011, 2051, 2061, 2031).", **base))
        elif packet.data_time is None:
            results.append(_result(number, "missing_field", "The data packet has no DataTime.", **base))
        elif packet.qn and (packet.mn, packet.qn) in seen:  # one already stored is found by the insert
            results.append(_result(number, "duplicate", "This packet (same MN and QN) was already received.", **base))
        else:
            if packet.qn:
                seen.add((packet.mn, packet.qn))
            accepted.append((number, packet, device))
    results.extend(_store_packets(accepted, tz, now))
    results.sort(key=lambda r: r["line"])
    return results


def _known_codes() -> set[str]:
    return set(db.session.scalars(sa.select(Pollutant.code)))


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
        if conv is None and value is not None and o2 is not None:
            spec = specs.get(code)
            if spec is not None and spec.reference_o2 is not None:
                conv = rules.convert_to_reference_o2(float(value), float(o2), spec.reference_o2)
        rows.append({"enterprise_id": enterprise_id, "outlet_id": outlet_id, "pollutant_code": code,
                     "period": period, "measured_at": measured_at, "value": value, "value_min": get("Min"),
                     "value_max": get("Max"), "value_converted": conv, "flag": get("Flag", "N"),
                     "source": "auto", "packet_id": packet_id})
    return rows


@lru_cache(maxsize=4096)
def _utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A device's local DataTime in UTC; cached, since the packets of one request share a few instants."""
    return local.replace(tzinfo=tz).astimezone(UTC)


def _insert_packets(params: list[dict[str, Any]]) -> list[int | None]:
    """Insert packet records in bulk; a packet whose (MN, QN) is already stored (also by a concurrent request) gets
    None and is reported as a duplicate."""
    if not ingest.is_postgres():
        return sqlitebulk.insert_packets(params)
    ids: list[int | None] = [None] * len(params)
    with_qn = [i for i, p in enumerate(params) if p["qn"]]
    if with_qn:  # COPY: a long multi-row INSERT cost more to parse than to run
        found = pgcopy.insert_packets([params[i] for i in with_qn])
        for i in with_qn:
            ids[i] = found.get((params[i]["mn"], params[i]["qn"]))
    without_qn = [i for i, p in enumerate(params) if not p["qn"]]  # 2005-edition packets: RETURNING in order
    table = ReceivedPacket.__table__
    for start in range(0, len(without_qn), ingest.CHUNK):
        chunk = without_qn[start:start + ingest.CHUNK]
        stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        for i, (pid,) in zip(chunk, db.session.connection().execute(stmt, [params[i] for i in chunk])):
            ids[i] = pid
    return ids


def _store_packets(accepted: list[tuple[int, hj212.Packet, Device]], tz: ZoneInfo,
                   now: datetime) -> list[dict[str, Any]]:
    if not accepted:
        return []
    known = _known_codes()
    specs = limit_specs({d.outlet_id for _, _, d in accepted})
    unknown = [sorted(c for c in packet.items if c not in known) for _, packet, _ in accepted]
    ids = _insert_packets([{"mn": packet.mn, "qn": packet.qn, "cn": packet.cn, "device_id": device.id,
                            "received_at": now, "value_count": len(packet.items),
                            "unknown_codes": ",".join(codes)[:200]}
                           for (_, packet, device), codes in zip(accepted, unknown)])
    results, rows = [], []
    for (number, packet, device), codes, packet_id in zip(accepted, unknown, ids):
        if packet_id is None:
            results.append(_result(number, "duplicate", "This packet (same MN and QN) was already received.",
                                   mn=packet.mn, qn=packet.qn))
            continue
        rows.extend(_packet_rows(packet, device, specs[device.outlet_id], tz, packet_id))
        results.append(_result(number, "accepted", "", mn=packet.mn, qn=packet.qn, values=len(packet.items),
                               unknown_codes=codes))
    if rows:
        batch = ingest.ingest_values(rows, tz)
        detect_exceedances(batch, specs, tz, now)
    return results


# ---------------------------------------------------------------- exceedance

def detect_exceedances(batch: ingest.BatchResult, specs: dict[int, dict[str, rules.LimitSpec]], tz: ZoneInfo,
                       now: datetime) -> list[ExceedanceIncident]:
    """DOMAIN §5.8 on a freshly inserted batch: per-value checks (pH ranges, instant limits, manual samples),
    hourly means for hourly limits and daily means of ended days for daily limits; flagged data never count."""
    opened = []
    per_value = {(outlet_id, code) for outlet_id, by_code in specs.items() for code, spec in by_code.items()
                 if spec.is_range or spec.averaging == "instant"}  # other limits are judged on means only
    for row in batch.inserted:
        manual = row["period"] == "manual"
        if not manual and (row["outlet_id"], row["pollutant_code"]) not in per_value:
            continue
        spec = specs.get(row["outlet_id"], {}).get(row["pollutant_code"])
        if spec is None:
            continue
        if manual and not spec.is_range:
            verdict = rules.check(row["value_converted"] if spec.reference_o2 is not None and
                                  row["value_converted"] is not None else row["value"], spec) \
                if rules.is_valid_flag(row["flag"]) else None
            basis = Basis.MANUAL
        else:
            verdict = rules.value_checks(row["value"], row["value_min"], row["value_max"], row["flag"], spec)
            basis = Basis.RANGE if spec.is_range else Basis.INSTANT
        if verdict:
            start = rules.local_period_start(row["measured_at"], "hour", tz) if not manual else row["measured_at"]
            opened += _open(row["enterprise_id"], row["outlet_id"], row["pollutant_code"], basis, start, verdict)
    medium = outlet_media({k[0] for k in batch.touched_hours})
    opened += check_means(batch.touched_hours, "hour", Basis.HOURLY_MEAN, specs, medium, tz, now, batch.totals)
    opened += check_means(batch.touched_days, "day", Basis.DAILY_MEAN, specs, medium, tz, now, batch.totals)
    return opened


def outlet_media(outlet_ids: set[int]) -> dict[int, tuple[str, int]]:
    if not outlet_ids:
        return {}
    stmt = sa.select(Outlet.id, Outlet.code, Outlet.enterprise_id).where(Outlet.id.in_(outlet_ids))
    return {i: ("gas" if code.startswith("DA") else "water", ent) for i, code, ent in db.session.execute(stmt)}


def check_means(keys, resolution: str, basis: Basis, specs, media, tz: ZoneInfo, now: datetime,
                totals: dict | None = None) -> list:
    """Compare the valid (and O2-converted) means of the given periods with their limits; `totals` are the roll-up
    sums returned by the ingest upsert, else the roll-ups are read."""
    judged = {(outlet_id, code) for outlet_id, by_code in specs.items() if outlet_id in media
              for code, spec in by_code.items() if rules.mean_basis(spec, media[outlet_id][0]) == basis.value}
    wanted = set()
    for outlet_id, code, start in keys:
        if (outlet_id, code) not in judged:
            continue
        if resolution == "day" and rules.period_end(start, resolution, tz) > now:
            continue  # a daily mean is judged once the day is over (the hourly job catches up)
        wanted.add((outlet_id, code, start))
    if totals is not None:
        sums = {k: totals[(k[0], k[1], resolution, k[2])] for k in wanted if (k[0], k[1], resolution, k[2]) in totals}
    else:
        sums = {k: (r.n_valid, r.sum_valid, r.n_conv, r.sum_conv)
                for k, r in ingest.rollups_for(wanted, resolution).items()}
    opened = []
    for (outlet_id, code, start), (n_valid, sum_valid, n_conv, sum_conv) in sums.items():
        spec = specs[outlet_id][code]
        verdict = rules.check(rules.compared_mean(n_valid, sum_valid, n_conv, sum_conv, spec), spec)
        if verdict:
            opened += _open(media[outlet_id][1], outlet_id, code, basis, start, verdict)
    return opened


def find_episode(outlet_id: int, code: str, start: datetime) -> ExceedanceIncident | None:
    """The incident whose exceedance run this period joins (episodes.joins), if any."""
    outlet_code = db.session.scalar(sa.select(Outlet.code).where(Outlet.id == outlet_id)) or ""
    medium, tz = episodes.medium_of(outlet_code), china_tz()
    last = sa.func.coalesce(ExceedanceIncident.last_period_start, ExceedanceIncident.period_start)
    candidates = db.session.scalars(sa.select(ExceedanceIncident).where(
        ExceedanceIncident.outlet_id == outlet_id, ExceedanceIncident.pollutant_code == code,
        ExceedanceIncident.period_start <= start + episodes.SEARCH_REACH, last >= start - episodes.SEARCH_REACH)
        .order_by(ExceedanceIncident.period_start, ExceedanceIncident.id))
    for incident in candidates:
        if episodes.joins(medium, incident.period_start, incident.last_period_start or incident.period_start,
                          start, tz):
            return incident
    return None


def _extend(incident: ExceedanceIncident, basis: Basis, start: datetime, verdict: rules.Verdict) -> None:
    """A further exceedance of a running episode: the incident keeps its first period, learns its latest one and
    its peak, and its (still unconfirmed) finding says so. Judging the same period again changes nothing."""
    last = incident.last_period_start or incident.period_start
    peak = verdict.multiple is not None and (incident.multiple is None or verdict.multiple > incident.multiple)
    if start <= last and not peak:
        return
    before = snapshot(incident)
    if start > last:
        incident.last_period_start, incident.occurrences = start, incident.occurrences + 1
    if peak:
        incident.value, incident.limit_value, incident.multiple = verdict.value, verdict.limit_value, verdict.multiple
        incident.limit_min, incident.limit_max = verdict.limit_min, verdict.limit_max
    record(None, "monitoring.exceedance.extend", incident, before=before,
           after={**snapshot(incident), "basis": basis.value, "period_start": start.isoformat()})
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == f"exceedance:{incident.id}",
                                                           Evidence.kind == EvidenceKind.MONITORING_EXCEEDANCE))
    if evidence is not None and not evidence.is_verified and evidence.withdrawn_at is None:
        evidence.details = {**(evidence.details or {}), "occurrences": incident.occurrences,
                            "last_period_start": (incident.last_period_start or incident.period_start).isoformat(),
                            "value": incident.value, "multiple": incident.multiple}


def _open(enterprise_id: int, outlet_id: int, code: str, basis: Basis, start: datetime,
          verdict: rules.Verdict) -> list[ExceedanceIncident]:
    """Record one exceeding period (any basis: a manual sample, an instant or range value, an hourly, daily or
    other mean; `start` is the period's start, tz-aware). It opens an incident and its credit finding only when it
    starts a new exceedance episode of the outlet and pollutant (monitoring.episodes); within a running episode it
    extends that incident. Returns the incidents it opened (empty when it joined one)."""
    incident = find_episode(outlet_id, code, start)
    if incident is not None:
        _extend(incident, basis, start, verdict)
        return []
    incident = ExceedanceIncident(enterprise_id=enterprise_id, outlet_id=outlet_id, pollutant_code=code, basis=basis,
                                  period_start=start, last_period_start=start, occurrences=1, value=verdict.value,
                                  limit_value=verdict.limit_value, limit_min=verdict.limit_min,
                                  limit_max=verdict.limit_max, multiple=verdict.multiple)
    db.session.add(incident)
    db.session.flush()
    record(None, "monitoring.exceedance.open", incident)
    occurred = start.astimezone(china_tz()).date()
    add_evidence(enterprise_id=enterprise_id, kind=EvidenceKind.MONITORING_EXCEEDANCE,
                 source=EvidenceSource.MONITORING, source_ref=f"exceedance:{incident.id}", occurred_on=occurred,
                 title=f"{code} {basis.value} {verdict.value:g}", verified=False, finding=True,
                 details={"outlet_id": outlet_id, "pollutant_code": code, "basis": basis.value,
                          "value": verdict.value, "limit_value": verdict.limit_value,
                          "limit_min": verdict.limit_min, "limit_max": verdict.limit_max,
                          "multiple": verdict.multiple, "occurrences": 1})
    return [incident]


open_incident = _open  # the public name for other channels (HJ 212 daily/minute data)


def explain_incident(actor: Any, incident: ExceedanceIncident, *, cause: str, measures: str, reported_on) -> None:
    """The enterprise states cause, measures and the date it reported to the bureau (条例 art. 21)."""
    if incident.state == IncidentState.CLOSED:
        raise InvalidTransition(_("This incident is closed."))
    errors = {}
    if not (cause or "").strip():
        errors["cause"] = _("Describe the cause of the exceedance.")
    if not (measures or "").strip():
        errors["measures"] = _("Describe the measures taken.")
    if reported_on is None or reported_on > china_today():
        errors["reported_on"] = _("Give the date the exceedance was reported to the bureau (not in the future).")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(incident)
    incident.cause, incident.measures, incident.reported_on = cause.strip(), measures.strip(), reported_on
    incident.state, incident.explained_by_id = IncidentState.EXPLAINED, actor.id
    record(actor, "monitoring.exceedance.explain", incident, before=before)


def close_incident(actor: Any, incident: ExceedanceIncident) -> None:
    if incident.state != IncidentState.EXPLAINED:
        raise InvalidTransition(_("Only an explained incident can be closed."))
    before = snapshot(incident)
    incident.state, incident.closed_by_id = IncidentState.CLOSED, actor.id
    record(actor, "monitoring.exceedance.close", incident, before=before)


def incidents_for(enterprise_ids: list[int] | None = None, jurisdiction: str | None = None,
                  states: tuple[IncidentState, ...] = (IncidentState.OPEN, IncidentState.EXPLAINED),
                  limit: int = 200) -> list[ExceedanceIncident]:
    stmt = sa.select(ExceedanceIncident).where(ExceedanceIncident.state.in_(states))
    if enterprise_ids is not None:
        stmt = stmt.where(ExceedanceIncident.enterprise_id.in_(enterprise_ids))
    if jurisdiction is not None:
        stmt = stmt.join(Enterprise, ExceedanceIncident.enterprise_id == Enterprise.id).where(
            Enterprise.region_code.startswith(jurisdiction))
    return list(db.session.scalars(stmt.order_by(ExceedanceIncident.period_start.desc()).limit(limit)))


def recent_findings(jurisdiction: str, limit: int = 200) -> list[MonitoringFinding]:
    stmt = (sa.select(MonitoringFinding).join(Enterprise, MonitoringFinding.enterprise_id == Enterprise.id)
            .where(Enterprise.region_code.startswith(jurisdiction), MonitoringFinding.kind == "gap")
            .order_by(MonitoringFinding.detected_at.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def get_incident(incident_id: int) -> ExceedanceIncident:
    incident = db.session.get(ExceedanceIncident, incident_id)
    if incident is None:
        raise NotFound(_("No such incident."))
    return incident




def all_devices() -> list[Device]:
    return list(db.session.scalars(sa.select(Device).order_by(Device.mn)))
