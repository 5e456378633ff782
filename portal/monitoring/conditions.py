"""Operating conditions (工况) at manual sampling (生态环境监测条例 Art. 24, DOMAIN §5.5): the production load in per
cent of capacity and the state of the treatment facilities, one record per outlet and sampling time (every pollutant
of one sample shares it). Pure checks first, then the table and its writes (flush only)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db

FACILITY_STATES = ("running", "stopped", "abnormal")
FACILITY_LABELS = {"running": _l("running normally"), "stopped": _l("stopped"), "abnormal": _l("abnormal")}
# Accepted spellings in files (the template's Chinese words first).
FACILITY_ALIASES = {"正常运行": "running", "正常": "running", "运行": "running", "running": "running",
                    "停运": "stopped", "停止": "stopped", "stopped": "stopped",
                    "异常": "abnormal", "故障": "abnormal", "abnormal": "abnormal"}
MAX_LOAD = Decimal("150")  # overload operation happens; beyond 150 % of capacity is a typing error


def parse_load(value: Any) -> tuple[Decimal | None, str | None]:
    """Production load in per cent: a number from 0 to 150 (a trailing % is accepted). Returns (value, error)."""
    if isinstance(value, bool):
        return None, str(_l("must be a number from 0 to 150 (per cent of capacity)."))
    text = str(value if value is not None else "").strip().rstrip("%％").strip()
    try:
        load = Decimal(text)
    except InvalidOperation:
        return None, str(_l("must be a number from 0 to 150 (per cent of capacity)."))
    if not load.is_finite() or load < 0 or load > MAX_LOAD:
        return None, str(_l("must be a number from 0 to 150 (per cent of capacity)."))
    return load.quantize(Decimal("0.1")), None


def parse_facility(value: Any) -> tuple[str | None, str | None]:
    key = FACILITY_ALIASES.get(str(value if value is not None else "").strip().lower())
    if key is None:
        return None, str(_l("must be 正常运行 (running), 停运 (stopped) or 异常 (abnormal)."))
    return key, None


class SamplingCondition(db.Model):
    __tablename__ = "monitoring_sampling_conditions"
    __table_args__ = (sa.UniqueConstraint("outlet_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id"))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    production_load: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1))
    facility_status: Mapped[str] = mapped_column(sa.String(16))
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("monitoring_manual_submissions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def existing(outlet_times: Iterable[tuple[int, datetime]]) -> dict[tuple[int, datetime], SamplingCondition]:
    pairs = list(outlet_times)
    if not pairs:
        return {}
    outlets = {o for o, _t in pairs}
    times = {t for _o, t in pairs}
    stmt = sa.select(SamplingCondition).where(SamplingCondition.outlet_id.in_(outlets),
                                              SamplingCondition.sampled_at.in_(times))
    return {(c.outlet_id, c.sampled_at): c for c in db.session.scalars(stmt) if (c.outlet_id, c.sampled_at) in pairs}


def for_submissions(submission_ids: list[int]) -> dict[int, list[SamplingCondition]]:
    result: dict[int, list[SamplingCondition]] = {}
    if not submission_ids:
        return result
    stmt = (sa.select(SamplingCondition).where(SamplingCondition.submission_id.in_(submission_ids))
            .order_by(SamplingCondition.sampled_at))
    for c in db.session.scalars(stmt):
        result.setdefault(c.submission_id, []).append(c)
    return result


MAX_SAMPLE_DAYS = 366
MAX_SAMPLE_ROWS = 5000


def samples(enterprise_id: int, start: datetime, end: datetime) -> tuple[list[dict], bool]:
    """Manual samples of one enterprise in [start, end) with their results and 工况, newest first: one statement
    (the enterprise/time index), at most MAX_SAMPLE_ROWS results. Returns (samples, truncated)."""
    from portal.enterprises.models import Outlet
    from portal.monitoring.models import MonitoringValue, Source

    v, c = MonitoringValue, SamplingCondition
    stmt = (sa.select(Outlet.code, v.measured_at, v.pollutant_code, v.value, v.flag, c.production_load,
                      c.facility_status)
            .join(Outlet, Outlet.id == v.outlet_id)
            .join(c, sa.and_(c.outlet_id == v.outlet_id, c.sampled_at == v.measured_at), isouter=True)
            .where(v.enterprise_id == enterprise_id, v.source == Source.MANUAL, v.measured_at >= start,
                   v.measured_at < end)
            .order_by(v.measured_at.desc(), Outlet.code, v.pollutant_code).limit(MAX_SAMPLE_ROWS + 1))
    rows = db.session.execute(stmt).all()
    truncated = len(rows) > MAX_SAMPLE_ROWS
    grouped: dict[tuple[str, datetime], dict] = {}
    for code, measured_at, pollutant, value, flag, load, facility in rows[:MAX_SAMPLE_ROWS]:
        item = grouped.setdefault((code, measured_at), {
            "outlet": code, "sampled_at": measured_at, "production_load": float(load) if load is not None else None,
            "facility_status": facility, "results": []})
        item["results"].append({"pollutant": pollutant, "value": value, "flag": flag})
    return list(grouped.values()), truncated
