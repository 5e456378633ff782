"""Self-monitoring use cases: devices, HJ 212 ingest, exceedance incidents and the gap job.

Services flush, never commit (views, CLI and the job runner commit).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth import rules as auth_rules
from portal.core.clock import china_today, china_tz
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.enterprises.models import Enterprise, Outlet, OutletLimit
from portal.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.monitoring import devicekeys, episodes, hours, ingest, rules
from portal.monitoring.models import Basis, Device, ExceedanceIncident, IncidentState, MonitoringFinding

UTC = timezone.utc
_MN = re.compile(r"[A-Za-z0-9_-]{1,24}")


# ---------------------------------------------------------------- devices

def add_device(actor: Any, *, mn: str, password: str, uscc: str, outlet_code: str, protocol: str = "2017",
               sm4_key: str | None = None) -> Device:
    """Register a device for one outlet; MN + password authenticate its packets. A 2025 device gets an SM4 key
    (the one given, else a new random one); read it once from `device.new_sm4_key` to configure the logger."""
    mn = (mn or "").strip()
    protocol = (protocol or "2017").strip()
    errors = {}
    if not _MN.fullmatch(mn):
        errors["mn"] = _("The MN must be 1 to 24 letters, digits, “_” or “-”, as configured in the data logger.")
    if not password or len(password) > 64 or not password.isascii() or ";" in password or "&" in password:
        errors["password"] = _("The password must be 1 to 64 ASCII characters without “;” or “&”, as configured "
                               "in the data logger.")
    if protocol not in ("2017", "2025"):
        errors["protocol"] = _("The protocol must be 2017 or 2025 (HJ 212 edition the data logger speaks).")
    sm4_key = (sm4_key or "").strip()
    if sm4_key and not devicekeys.valid_sm4_key(sm4_key):
        errors["sm4_key"] = _("The SM4 key must be 32 hexadecimal digits (128 bits).")
    if sm4_key and protocol != "2025":
        errors["sm4_key"] = _("An SM4 key is only used by HJ 212-2025 devices: give --protocol 2025.")
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
    device = Device(mn=mn, password_hash=devicekeys.make_verifier(mn, password), enterprise_id=enterprise.id,
                    outlet_id=outlet.id, protocol=protocol)
    if protocol == "2025":
        key = sm4_key.upper() or devicekeys.new_sm4_key()
        device.sm4_key = devicekeys.seal_sm4_key(key)
        device.new_sm4_key = key  # not a column: shown once to whoever registers the device
    db.session.add(device)
    db.session.flush()
    record(actor, "monitoring.device.add", device, after=_device_snapshot(device))
    return device


def _device_snapshot(device: Device) -> dict:
    """The audited columns of a device, never its secrets (verifier, sealed SM4 key)."""
    return snapshot(device, exclude=("created_at", "updated_at", "password_hash", "sm4_key"))


def rotate_sm4_key(actor: Any, device: Device, sm4_key: str | None = None) -> str:
    """A new SM4 key for a 2025 device (returned once, stored encrypted); the logger must be given it too."""
    key = (sm4_key or "").strip().upper() or devicekeys.new_sm4_key()
    if not devicekeys.valid_sm4_key(key):
        raise ValidationFailed({"sm4_key": _("The SM4 key must be 32 hexadecimal digits (128 bits).")})
    if device.protocol != "2025":
        raise ValidationFailed({"protocol": _("Only HJ 212-2025 devices use an SM4 key.")})
    device.sm4_key = devicekeys.seal_sm4_key(key)
    record(actor, "monitoring.device.rotate_key", device, after=_device_snapshot(device))
    return key


def jurisdiction_devices_select(jurisdiction_code: str | None):
    """The jurisdiction's devices by MN, with their enterprise and outlet loaded in the same round trips (the
    regulator's device list pages over it)."""
    return (sa.select(Device).join(Enterprise, Device.enterprise_id == Enterprise.id)
            .where(Enterprise.region_code.startswith(jurisdiction_code or "\x00"))
            .options(selectinload(Device.enterprise), selectinload(Device.outlet))
            .order_by(Device.mn))


def jurisdiction_devices(jurisdiction_code: str | None) -> list[Device]:
    if not jurisdiction_code:
        return []
    return list(db.session.scalars(jurisdiction_devices_select(jurisdiction_code)))


def add_device_as_regulator(actor: Any, **kwargs: str) -> Device:
    """A regulator registers devices only for enterprises in their jurisdiction."""
    enterprise = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == (kwargs["uscc"] or "").strip()
                                                               .upper()))
    if enterprise is not None and not auth_rules.can_edit_registry(actor.role, actor.jurisdiction_code,
                                                                   enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."), field="uscc")
    return add_device(actor, **kwargs)


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

def ingest_hj212(body: bytes, now: datetime | None = None, **options: Any) -> list[dict[str, Any]]:
    """Parse, authenticate and store every packet of a request body (portal/monitoring/intake.py)."""
    from portal.monitoring import intake

    return intake.ingest_hj212(body, now, **options)


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
    opened += _check_device_means(batch, specs, tz)
    medium = outlet_media({k[0] for k in batch.touched_hours})
    opened += check_means(batch.touched_hours, "hour", Basis.HOURLY_MEAN, specs, medium, tz, now, batch.totals)
    opened += check_means(batch.touched_days, "day", Basis.DAILY_MEAN, specs, medium, tz, now, batch.totals)
    return opened


def _check_device_means(batch: ingest.BatchResult, specs, tz: ZoneInfo) -> list:
    """A device's own daily means (CN 2031) against daily limits. The incident key is the one the portal's
    recomputation from hourly data uses (outlet, pollutant, daily mean, China-local day), so the same exceedance
    is never counted twice whichever comes first."""
    rows = [r for r in batch.inserted if r["period"] == "day"]
    if not rows:
        return []
    media = outlet_media({r["outlet_id"] for r in rows})
    opened = []
    for row in rows:
        spec = specs.get(row["outlet_id"], {}).get(row["pollutant_code"])
        if spec is None or row["outlet_id"] not in media or not rules.is_valid_flag(row["flag"]):
            continue
        if rules.mean_basis(spec, media[row["outlet_id"]][0]) != Basis.DAILY_MEAN.value:
            continue
        value = row["value_converted"] if spec.reference_o2 is not None else row["value"]
        verdict = rules.check(value, spec)
        if verdict:
            start = rules.local_period_start(row["measured_at"], "day", tz)
            opened += _open(row["enterprise_id"], row["outlet_id"], row["pollutant_code"], Basis.DAILY_MEAN, start,
                            verdict)
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
    if resolution == "hour":  # the hour roll-ups hold manual samples only; hourly values are their own hour
        sums = hours.totals(wanted)
    elif totals is not None:
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
                 message=("monitoring.exceedance", {"pollutant": code, "basis": basis.value, "value": verdict.value}),
                 verified=False, finding=True,
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


def incidents_select(enterprise_ids: list[int] | None = None, jurisdiction: str | None = None,
                     states: tuple[IncidentState, ...] = (IncidentState.OPEN, IncidentState.EXPLAINED)):
    stmt = sa.select(ExceedanceIncident).where(ExceedanceIncident.state.in_(states))
    if enterprise_ids is not None:
        stmt = stmt.where(ExceedanceIncident.enterprise_id.in_(enterprise_ids))
    if jurisdiction is not None:
        stmt = stmt.join(Enterprise, ExceedanceIncident.enterprise_id == Enterprise.id).where(
            Enterprise.region_code.startswith(jurisdiction))
    return stmt.order_by(ExceedanceIncident.period_start.desc(), ExceedanceIncident.id.desc())


def incidents_for(enterprise_ids: list[int] | None = None, jurisdiction: str | None = None,
                  states: tuple[IncidentState, ...] = (IncidentState.OPEN, IncidentState.EXPLAINED),
                  limit: int = 200) -> list[ExceedanceIncident]:
    return list(db.session.scalars(incidents_select(enterprise_ids, jurisdiction, states).limit(limit)))


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




def device_by_mn(mn: str) -> Device | None:
    return db.session.scalar(sa.select(Device).where(Device.mn == (mn or "").strip()))


def all_devices() -> list[Device]:
    return list(db.session.scalars(sa.select(Device).order_by(Device.mn)))
