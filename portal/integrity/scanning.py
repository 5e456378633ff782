"""Running the integrity rules over stored data: on demand for an enterprise and range (`flask integrity scan`) and
incrementally as data arrive (the `integrity-scan` job keeps a per-outlet watermark, so no province is rescanned).

Functions flush; the CLI and the job runner commit. A flag is raised once per rule, outlet, code and overlapping
window; every new flag is audited."""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
from flask import current_app

from portal.audit.services import record
from portal.core.clock import china_tz
from portal.db import utcnow
from portal.enterprises.models import Enterprise, Outlet, OutletLimit
from portal.extensions import db
from portal.integrity import rules
from portal.integrity.models import (DeviceChannel, DeviceMaintainer, IntegrityFlag, IntegrityWatermark, LabScope,
                                     LabSample, SupervisoryResult)
from portal.integrity.rules import HOUR, Hit, Series
from portal.monitoring import hours
from portal.monitoring.models import Device, MonitoringValue, Period

FLOW_CODES = ("w00000", "a00000")
O2_CODE = "a19001"
COMPANIONS = {"a00000": "flow", "w00000": "flow", "a01012": "temperature", "a19001": "o2", "a01014": "moisture"}
LOOKBACK = timedelta(days=14)  # the longest series window (R5); R3 reloads whole months
STEP = timedelta(hours=24)  # an outlet is rescanned once a day of new hours has arrived
MAX_CHART_HOURS = 24 * 31


def _overrides() -> dict:
    return current_app.config.get("INTEGRITY_RULES") or {}


def params(rule_id: str) -> dict[str, float]:
    return rules.params_for(rule_id, _overrides())


def local_midnight(at: datetime) -> datetime:
    local = at.astimezone(china_tz())
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(at.tzinfo or china_tz())


def month_bounds(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """China-local calendar months cut to [start, end)."""
    out = []
    cur = start.astimezone(china_tz())
    while cur < end:
        nxt = (cur.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
        out.append((max(cur, start), min(nxt, end)))
        cur = nxt
    return out


@dataclass
class OutletData:
    outlet: Outlet
    start: datetime
    hours: int
    codes: dict[str, Series] = field(default_factory=dict)
    any_data: list[float | None] = field(default_factory=list)

    def values(self, code: str) -> list[float | None] | None:
        s = self.codes.get(code)
        return s.values if s else None

    def summed(self, prefix: str) -> list[float | None] | None:
        """The hourly sum of every code starting with `prefix` (ST=44 d2… production, d3… treatment power)."""
        cache = self.__dict__.setdefault("_sums", {})
        if prefix not in cache:
            series = [s.values for c, s in self.codes.items() if c.startswith(prefix)]
            if not series:
                cache[prefix] = None
            elif len(series) == 1:
                cache[prefix] = series[0]
            else:
                cache[prefix] = [None if all(v[i] is None for v in series) else sum(v[i] or 0.0 for v in series)
                                 for i in range(self.hours)]
        return cache[prefix]


def load_outlet(outlet: Outlet, start: datetime, end: datetime) -> OutletData:
    """Hourly values (CN 2061 and derived) of every code of one outlet, as dense series."""
    hours = int((end - start) // HOUR)
    data = OutletData(outlet, start, hours, any_data=[None] * hours)
    rows = db.session.execute(
        sa.select(MonitoringValue.pollutant_code, MonitoringValue.measured_at, MonitoringValue.value,
                  MonitoringValue.flag, MonitoringValue.value_converted)
        .where(MonitoringValue.outlet_id == outlet.id, MonitoringValue.period == Period.HOUR,
               MonitoringValue.measured_at >= start, MonitoringValue.measured_at < end))
    conv: dict[str, list] = {}
    for code, at, value, flag, converted in rows:
        i = int((at - start) // HOUR)
        if not 0 <= i < hours:
            continue
        s = data.codes.get(code)
        if s is None:
            s = data.codes[code] = Series(start, [None] * hours, [""] * hours)
        s.values[i], s.flags[i] = value, (flag or "N") if value is not None else (flag or "")
        data.any_data[i] = 1.0
        if converted is not None:
            conv.setdefault(code, [None] * hours)[i] = converted
    data.converted = conv  # type: ignore[attr-defined]
    return data


@dataclass
class Context:
    """Per-outlet facts the rules need besides the series."""

    limits: dict[str, float] = field(default_factory=dict)
    reference_o2: dict[str, float] = field(default_factory=dict)
    channels: dict[str, DeviceChannel] = field(default_factory=dict)
    device: Device | None = None
    group: str | None = None  # O&M company
    references: dict[str, list[rules.Reference]] = field(default_factory=lambda: defaultdict(list))
    peer_flag_median: dict[str, float] = field(default_factory=dict)
    # The device's Art. 23 reports near the window: (noticed_at, repaired_at, reported_at), for R12.
    anomaly_reports: list[tuple[datetime, datetime | None, datetime]] = field(default_factory=list)


def build_context(outlet: Outlet, start: datetime, end: datetime) -> Context:
    ctx = Context()
    for lim in db.session.scalars(sa.select(OutletLimit).where(OutletLimit.outlet_id == outlet.id)):
        if lim.limit_value is not None:
            ctx.limits[lim.pollutant_code] = float(lim.limit_value)
        if lim.reference_o2 is not None:
            ctx.reference_o2[lim.pollutant_code] = float(lim.reference_o2)
    ctx.device = db.session.scalar(sa.select(Device).where(Device.outlet_id == outlet.id).order_by(Device.id))
    if ctx.device is not None:
        ctx.channels = {c.pollutant_code: c for c in db.session.scalars(
            sa.select(DeviceChannel).where(DeviceChannel.device_id == ctx.device.id))}
        om = db.session.scalar(sa.select(DeviceMaintainer).where(
            DeviceMaintainer.device_id == ctx.device.id, DeviceMaintainer.contract_from <= end.date(),
            sa.or_(DeviceMaintainer.contract_to.is_(None), DeviceMaintainer.contract_to >= start.date()))
            .order_by(DeviceMaintainer.contract_from.desc()))
        if om is not None:
            ctx.group = om.company_uscc or om.company_name
        from portal.integrity.anomaly_rules import COVER_BEFORE
        from portal.integrity.models import TransmissionAnomalyReport as Report

        ctx.anomaly_reports = [tuple(row) for row in db.session.execute(
            sa.select(Report.noticed_at, Report.repaired_at, Report.reported_at).where(
                Report.device_id == ctx.device.id, Report.noticed_at >= start - COVER_BEFORE,
                Report.noticed_at < end).order_by(Report.noticed_at))]
    for r in db.session.scalars(sa.select(SupervisoryResult).where(
            SupervisoryResult.outlet_id == outlet.id, SupervisoryResult.sampled_at >= start,
            SupervisoryResult.sampled_at < end)):
        ctx.references[r.pollutant_code].append(rules.Reference(r.sampled_at, r.value, "supervisory",
                                                                f"supervisory:{r.id}"))
    manual = db.session.execute(sa.select(MonitoringValue.id, MonitoringValue.pollutant_code,
                                          MonitoringValue.measured_at, MonitoringValue.value).where(
        MonitoringValue.outlet_id == outlet.id, MonitoringValue.period == Period.MANUAL,
        MonitoringValue.measured_at >= start, MonitoringValue.measured_at < end))
    for vid, code, at, value in manual:
        if value is not None:
            ctx.references[code].append(rules.Reference(at, value, "lab", f"manual:{vid}"))
    return ctx


def peer_flag_medians(outlets: Iterable[Outlet], start: datetime, end: datetime) -> dict[tuple[str, str], float]:
    """Per city (region prefix of 4) and code: the median of M/C/D hours over the outlets reporting that code."""
    prefixes = {o.enterprise.region_code[:4] for o in outlets}
    out: dict[tuple[str, str], float] = {}
    for prefix in prefixes:
        base = (sa.select(MonitoringValue.outlet_id, MonitoringValue.pollutant_code,
                          sa.func.sum(sa.case((MonitoringValue.flag.in_(rules.PEER_FLAGS), 1), else_=0)))
                .join(Enterprise, Enterprise.id == MonitoringValue.enterprise_id)
                .where(Enterprise.region_code.startswith(prefix, autoescape=True),
                       MonitoringValue.period == Period.HOUR,
                       MonitoringValue.measured_at >= start, MonitoringValue.measured_at < end)
                .group_by(MonitoringValue.outlet_id, MonitoringValue.pollutant_code))
        per_code: dict[str, list[int]] = defaultdict(list)
        for _outlet, code, n in db.session.execute(base):
            per_code[code].append(int(n or 0))
        for code, counts in per_code.items():
            out[(prefix, code)] = float(statistics.median(counts))
    return out


def judged_codes(data: OutletData, ctx: Context) -> list[str]:
    """Pollutants with a permit limit or a registered analyser channel; flow, O2 and ST=44/45 codes are companions."""
    return sorted(c for c in data.codes if c in ctx.limits or c in ctx.channels)


def producing_mask(data: OutletData) -> list[bool] | None:
    """Producing = flow > 0, or ST=44 production power on where the outlet sends it (DOMAIN §5.12)."""
    power = data.summed("d2")
    flow = next((data.values(c) for c in FLOW_CODES if c in data.codes), None)
    if power is None and flow is None:
        return None
    on = rules.production_on(power, params("R9")["on_share"]) if power is not None else [False] * data.hours
    return [(flow is not None and flow[i] is not None and flow[i] > 0) or on[i] for i in range(data.hours)]


def series_hits(data: OutletData, ctx: Context, *, months: bool = True) -> list[tuple[str, Hit, dict]]:
    """Every series rule over one outlet's loaded window: (code, hit, extra chart series)."""
    out: list[tuple[str, Hit, dict]] = []
    producing = producing_mask(data)
    production, treatment = data.summed("d2"), data.summed("d3")
    state = production if production is not None else data.summed("p")  # ST=44 power, else ST=45 marks
    o2 = data.values(O2_CODE)
    for code in judged_codes(data, ctx):
        s = data.codes[code]
        limit = ctx.limits.get(code)
        channel = ctx.channels.get(code)
        for h in rules.detect_r1(s, params("R1"), analyser_range=channel.span if channel else None,
                                 producing=producing):
            out.append((code, h, {}))
        for h in rules.detect_r2(s, params("R2"), mdl=channel.detection_limit if channel else None,
                                 producing=producing):
            out.append((code, h, {}))
        if months:
            for m0, m1 in month_bounds(data.start, data.start + data.hours * HOUR):
                a, b = int((m0 - data.start) // HOUR), int((m1 - data.start) // HOUR)
                sub = Series(m0, s.values[a:b], s.flags[a:b])
                out += [(code, h, {}) for h in rules.detect_r3(sub, params("R3"), limit=limit)]
        for h in rules.detect_r4(s, params("R4"), limit=limit, load=production, producing=producing):
            out.append((code, h, {"load": production} if h.details.get("kind") == "high_load" else {}))
        out += [(code, h, {}) for h in rules.detect_r5(s, params("R5"), producing=producing)]
        companions = {COMPANIONS[c]: data.values(c) for c in COMPANIONS if c in data.codes and c != code}
        for h in rules.detect_r6(s, params("R6"), companions=companions, state=state, o2=o2,
                                 combustion=code.startswith("a") and code in ctx.reference_o2,
                                 converted=getattr(data, "converted", {}).get(code),
                                 reference_o2=ctx.reference_o2.get(code), producing=producing):
            name = h.details.get("parameter") or h.details.get("series")
            out.append((code, h, {name: companions.get(name) or o2} if name else {}))
        out += [(code, h, {}) for h in rules.detect_r8(s, params("R8"), ctx.references.get(code, []))]
        peer = ctx.peer_flag_median.get(code)
        for h in rules.detect_r9(s, params("R9"), peer_median_flag_hours=peer, production=production, limit=limit):
            out.append((code, h, {"production": production} if h.details.get("series") else {}))
    if production is not None and treatment is not None:
        for h in rules.detect_r10(data.start, params("R10"), production=production, treatment=treatment):
            out.append(("", h, {"production": production, "treatment": treatment}))
    if ctx.device is not None:
        since = max(data.start, ctx.device.created_at)
        offset = max(int((since - data.start) // HOUR), 0)
        activity = Series(data.start + offset * HOUR, data.any_data[offset:])
        out += [("", h, {}) for h in rules.detect_r12(activity, params("R12"), reported=ctx.anomaly_reports)]
    return out


def _window(values: list | None, start: datetime, a: datetime, b: datetime) -> list:
    if values is None:
        return []
    i, j = int((a - start) // HOUR), int((b - start) // HOUR)
    return [None if v is None else round(v, 6) for v in values[max(i, 0):max(j, 0)]]


def chart_series(data: OutletData, code: str, hit: Hit, extra: dict) -> dict:
    """The data window the rule saw, a day either side, at most 31 days (the page draws it)."""
    a = max(hit.start - 24 * HOUR, data.start)
    b = min(hit.end + 24 * HOUR, data.start + data.hours * HOUR, a + MAX_CHART_HOURS * HOUR)
    s = data.codes.get(code)
    out = {"start": a.isoformat(), "values": _window(s.values if s else None, data.start, a, b),
           "flags": (s.flags[int((a - data.start) // HOUR):int((b - data.start) // HOUR)] if s else []),
           "extra": {name: _window(v, data.start, a, b) for name, v in extra.items() if v is not None}}
    if not s:
        out["values"] = _window(data.any_data, data.start, a, b)
    return out


def raise_flag(rule_id: str, enterprise: Enterprise, hit: Hit, *, outlet_id: int | None, code: str,
               device_id: int | None, series: dict, key: str) -> IntegrityFlag | None:
    """Create a flag unless one of this rule already covers an overlapping window of the same outlet and code."""
    overlap = db.session.scalar(sa.select(IntegrityFlag.id).where(
        IntegrityFlag.rule_id == rule_id, IntegrityFlag.enterprise_id == enterprise.id,
        IntegrityFlag.outlet_id.is_(None) if outlet_id is None else IntegrityFlag.outlet_id == outlet_id,
        IntegrityFlag.pollutant_code == code, IntegrityFlag.window_start < hit.end,
        IntegrityFlag.window_end > hit.start, IntegrityFlag.dedupe_key.startswith(key.split("@")[0] + "@",
                                                                                    autoescape=True)).limit(1))
    if overlap is not None:
        return None
    flag = IntegrityFlag(rule_id=rule_id, dedupe_key=key, enterprise_id=enterprise.id,
                         region_code=enterprise.region_code, outlet_id=outlet_id, device_id=device_id,
                         pollutant_code=code, window_start=hit.start, window_end=hit.end, measure=hit.measure,
                         threshold=hit.threshold, params=params(rule_id), details=hit.details, series=series)
    db.session.add(flag)
    db.session.flush()
    record(None, "integrity.flag.raise", flag, after={"rule": rule_id, "outlet_id": outlet_id, "code": code,
                                                      "window": [hit.start.isoformat(), hit.end.isoformat()]})
    return flag


def _key(outlet_id, code: str, hit: Hit) -> str:
    kind = hit.details.get("kind", "")
    return f"{outlet_id}:{code}:{kind}@{hit.start.astimezone(china_tz()):%Y%m%d%H}"


@dataclass
class ScanResult:
    outlets: int = 0
    flags: list[IntegrityFlag] = field(default_factory=list)

    def count(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for f in self.flags:
            out[f.rule_id] += 1
        return dict(sorted(out.items()))


def scan_outlets(outlets: list[Outlet], start: datetime, end: datetime, *, keep_after: datetime | None = None,
                 recycled: rules.RecycledIndex | None = None, months: bool = True) -> ScanResult:
    """Run R1–R10 and R12 over each outlet's hourly data in [start, end); hits ending at or before keep_after were
    judged by an earlier scan and are not raised again."""
    result = ScanResult()
    start = local_midnight(start)
    peers = peer_flag_medians(outlets, start, end) if outlets else {}
    recycled = recycled or rules.RecycledIndex(params("R7"))
    for outlet in outlets:
        data = load_outlet(outlet, start, end)
        if not data.codes:
            continue
        result.outlets += 1
        ctx = build_context(outlet, start, end)
        ctx.peer_flag_median = {code: med for (prefix, code), med in peers.items()
                                if prefix == outlet.enterprise.region_code[:4]}
        hits = series_hits(data, ctx, months=months)
        for code in judged_codes(data, ctx):
            hits += [(code, h, {}) for h in recycled.add((outlet.id, code), data.codes[code], ctx.group)]
        for code, hit, extra in hits:
            if keep_after is not None and hit.end <= keep_after:
                continue
            flag = raise_flag(hit.rule, outlet.enterprise, hit, outlet_id=outlet.id, code=code,
                              device_id=ctx.device.id if ctx.device else None,
                              series=chart_series(data, code, hit, extra), key=_key(outlet.id, code, hit))
            if flag is not None:
                result.flags.append(flag)
    return result


def scan_lab_samples(enterprises: list[Enterprise], start: datetime, end: datetime) -> list[IntegrityFlag]:
    """R11 over the lab samples of the enterprises (compared with every lab sample of the period) and R13 per
    enterprise-year, raised only beside another rule's flag of that year."""
    pad = timedelta(days=1)
    samples = list(db.session.scalars(sa.select(LabSample).where(LabSample.sampling_start >= start - pad,
                                                                 LabSample.sampling_start < end + pad)))
    scopes: dict[str, set[str]] = defaultdict(set)
    for sc in db.session.scalars(sa.select(LabScope)):
        if sc.valid_to is None or sc.valid_to >= start.date():
            scopes[sc.cma_no.strip().upper()].add(_norm(sc.method))
    records = [rules.LabRecord(key=x.id, site=x.outlet_id, client=x.enterprise_id, lab=x.lab_cma_no or x.lab_name,
                               samplers=tuple(x.samplers or ()), sampling_start=x.sampling_start,
                               sampling_end=x.sampling_end, analysed_at=x.analysed_at, issued_at=x.report_issued_at,
                               method=x.method, pollutant=x.pollutant_code, value=x.value,
                               in_scope=(_norm(x.method) in scopes[x.lab_cma_no.strip().upper()]
                                         if scopes.get(x.lab_cma_no.strip().upper()) else None))
               for x in samples]
    ids = {e.id: e for e in enterprises}
    by_id = {x.id: x for x in samples}
    flags = []
    for key, hit in rules.detect_r11(records, params("R11")):
        sample = by_id[key]
        if sample.enterprise_id not in ids or not (start <= sample.sampling_start < end):
            continue
        flag = raise_flag("R11", ids[sample.enterprise_id], hit, outlet_id=sample.outlet_id,
                          code=sample.pollutant_code, device_id=None, series={},
                          key=f"{sample.outlet_id}:{sample.pollutant_code}:{hit.details['kind']}:{sample.id}@x")
        if flag is not None:
            flags.append(flag)
    for ent in enterprises:
        flags += _r13(ent, start, end)
    return flags


def _norm(method: str) -> str:
    return "".join(method.upper().split()).replace("—", "-").replace("－", "-")


def _r13(ent: Enterprise, start: datetime, end: datetime) -> list[IntegrityFlag]:
    out = []
    for year in range(start.astimezone(china_tz()).year, end.astimezone(china_tz()).year + 1):
        y0 = datetime(year, 1, 1, tzinfo=china_tz())
        y1 = datetime(year + 1, 1, 1, tzinfo=china_tz())
        others = db.session.scalar(sa.select(sa.func.count()).select_from(IntegrityFlag).where(
            IntegrityFlag.enterprise_id == ent.id, IntegrityFlag.rule_id != "R13",
            IntegrityFlag.window_start >= y0, IntegrityFlag.window_start < y1))
        if not others:
            continue  # a weak signal, never alone (DOMAIN §5.12)
        texts = list(db.session.scalars(sa.select(LabSample.value_text).where(
            LabSample.enterprise_id == ent.id, LabSample.sampling_start >= y0, LabSample.sampling_start < y1,
            LabSample.value_text != "")))
        stats = rules.detect_r13(texts, params("R13"))
        if stats is None:
            continue
        hit = Hit("R13", y0, y1, max(stats["chi2_first"], stats["chi2_last"]), None, stats)
        flag = raise_flag("R13", ent, hit, outlet_id=None, code="", device_id=None, series={},
                          key=f"{ent.id}:{year}@y")
        if flag is not None:
            out.append(flag)
    return out


def scan(uscc: str | None = None, start: datetime | None = None, end: datetime | None = None) -> ScanResult:
    """On demand: every outlet of one enterprise (or of all) over [start, end) (default: the last 31 days)."""
    end = end or utcnow().replace(minute=0, second=0, microsecond=0)
    start = start or end - timedelta(days=31)
    stmt = sa.select(Enterprise).order_by(Enterprise.id)
    if uscc:
        stmt = stmt.where(Enterprise.uscc == uscc)
    enterprises = list(db.session.scalars(stmt))
    outlets = [o for e in enterprises for o in e.outlets]
    result = scan_outlets(outlets, start, end)
    result.flags += scan_lab_samples(enterprises, start, end)
    return result


def _is_month_start(at: datetime) -> bool:
    local = at.astimezone(china_tz())
    return local.day == 1 and local.hour == 0 and local.minute == 0


def month_r3(outlet: Outlet, m0: datetime, m1: datetime) -> list[IntegrityFlag]:
    """R3 over one completed China-local month of one outlet."""
    data = load_outlet(outlet, m0, m1)
    ctx = build_context(outlet, m0, m1)
    flags = []
    for code in judged_codes(data, ctx):
        for hit in rules.detect_r3(data.codes[code], params("R3"), limit=ctx.limits.get(code)):
            flag = raise_flag("R3", outlet.enterprise, hit, outlet_id=outlet.id, code=code,
                              device_id=ctx.device.id if ctx.device else None,
                              series=chart_series(data, code, hit, {}), key=_key(outlet.id, code, hit))
            if flag is not None:
                flags.append(flag)
    return flags


def run_incremental(now: datetime | None = None) -> str:
    """The job: outlets whose newest hourly data passed their watermark by a day are scanned from the watermark
    (with the rules' look-back); R3 runs on each month that completed; the watermark moves to the newest hour."""
    now = now or utcnow()
    latest = hours.newest_per_outlet(now - LOOKBACK, now)  # hourly values and manual samples' hour roll-ups
    marks = {w.outlet_id: w for w in db.session.scalars(sa.select(IntegrityWatermark))}
    due = []
    for outlet_id, newest in latest.items():
        new_end = newest + HOUR
        mark = marks.get(outlet_id)
        if mark is None:
            mark = IntegrityWatermark(outlet_id=outlet_id, scanned_to=new_end - LOOKBACK)
            db.session.add(mark)
            marks[outlet_id] = mark
        if new_end - mark.scanned_to >= STEP:
            due.append((outlet_id, mark.scanned_to, new_end))
    result = ScanResult()
    recycled = rules.RecycledIndex(params("R7"))
    enterprises = {}
    for outlet_id, scanned_to, new_end in due:
        outlet = db.session.get(Outlet, outlet_id)
        part = scan_outlets([outlet], scanned_to - LOOKBACK, new_end, keep_after=scanned_to, recycled=recycled,
                            months=False)
        for m0, m1 in month_bounds(scanned_to - timedelta(days=62), new_end):
            whole = _is_month_start(m0) and _is_month_start(m1)  # not a month cut at either end of the range
            if whole and scanned_to < m1 <= new_end:
                part.flags += month_r3(outlet, m0, m1)
        result.outlets += part.outlets
        result.flags += part.flags
        enterprises[outlet.enterprise_id] = outlet.enterprise
        marks[outlet_id].scanned_to, marks[outlet_id].updated_at = new_end, now
        db.session.flush()
    if enterprises:
        first = min(s for _, s, _ in due)
        result.flags += scan_lab_samples(list(enterprises.values()), first - LOOKBACK, now)
    return f"scanned {result.outlets} outlets, raised {len(result.flags)} flags {result.count()}"
