"""Monitoring plan (自行监测方案, DOMAIN §5.2) use cases: the enterprise drafts a version, a regulator of the
jurisdiction confirms it, the confirmed version is public and its limits become the outlet limits used for
exceedance. Every change is audited. Services flush, never commit."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth import rules as auth_rules
from portal.core.clock import china_today
from portal.db import utcnow
from portal.enterprises import rules as ent_rules
from portal.enterprises import services as ent_services
from portal.enterprises.models import Averaging, Enterprise, Outlet, OutletLimit, OutletType
from portal.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.monitoring import plan_rules
from portal.monitoring.models import Device, Frequency, MonitoringPlan, MonitoringPlanItem, PlanMode, PlanStatus
from portal.reference.models import Pollutant

OPEN = (PlanStatus.DRAFT, PlanStatus.SUBMITTED, PlanStatus.RETURNED)
EDITABLE = (PlanStatus.DRAFT, PlanStatus.RETURNED)
ITEM_FIELDS = ("mode", "frequency", "limit_value", "limit_min", "limit_max", "unit", "averaging", "reference_o2",
               "standard_code", "method")


def confirmed_plan(enterprise_id: int) -> MonitoringPlan | None:
    return db.session.scalar(sa.select(MonitoringPlan).where(MonitoringPlan.enterprise_id == enterprise_id,
                                                             MonitoringPlan.status == PlanStatus.CONFIRMED))


def open_plan(enterprise_id: int) -> MonitoringPlan | None:
    return db.session.scalar(sa.select(MonitoringPlan).where(MonitoringPlan.enterprise_id == enterprise_id,
                                                             MonitoringPlan.status.in_(OPEN)))


def _item_audit(item: MonitoringPlanItem) -> dict:
    data = snapshot(item)
    data["plan_version"] = item.plan.version if item.plan else None
    return data


def _default_frequency(ent: Enterprise, outlet: Outlet, code: str) -> str:
    table = current_app.config.get("MONITORING_MIN_FREQUENCIES") or None
    return plan_rules.minimum_frequency(key_unit=bool(ent.key_unit_types(china_today().year)),
                                        medium=outlet.medium, main_outlet=outlet.outlet_type == OutletType.MAIN,
                                        pollutant_code=code, table=table)


def default_frequency_for(ent: Enterprise, outlet: Outlet, code: str) -> str:
    return _default_frequency(ent, outlet, code)


def start_draft(actor: Any, ent: Enterprise) -> MonitoringPlan:
    """A new version, copied from the confirmed one, or for a first plan from the outlet limits on the registry
    (automatic where a device is registered for the outlet, else manual at the HJ 819 minimum frequency)."""
    if open_plan(ent.id) is not None:
        raise Conflict(_("A new version of the monitoring plan is already being prepared."))
    last = db.session.scalar(sa.select(sa.func.max(MonitoringPlan.version))
                             .where(MonitoringPlan.enterprise_id == ent.id)) or 0
    plan = MonitoringPlan(enterprise_id=ent.id, version=last + 1, status=PlanStatus.DRAFT)
    db.session.add(plan)
    db.session.flush()
    current = confirmed_plan(ent.id)
    if current is not None:
        for old in current.items:
            plan.items.append(MonitoringPlanItem(outlet_id=old.outlet_id, pollutant_code=old.pollutant_code,
                                                 **{f: getattr(old, f) for f in ITEM_FIELDS}))
    else:
        auto_outlets = set(db.session.scalars(sa.select(Device.outlet_id).where(Device.enterprise_id == ent.id,
                                                                                Device.is_active.is_(True))))
        for outlet in ent.outlets:
            for lim in outlet.limits:
                auto = outlet.id in auto_outlets
                plan.items.append(MonitoringPlanItem(
                    outlet_id=outlet.id, pollutant_code=lim.pollutant_code,
                    mode=PlanMode.AUTO if auto else PlanMode.MANUAL,
                    frequency=Frequency.CONTINUOUS if auto else _default_frequency(ent, outlet, lim.pollutant_code),
                    limit_value=lim.limit_value, limit_min=lim.limit_min, limit_max=lim.limit_max, unit=lim.unit,
                    averaging=str(lim.averaging), reference_o2=lim.reference_o2, standard_code=lim.standard_code,
                    method=""))
    db.session.flush()
    record(actor, "monitoring.plan.draft", plan, after={**snapshot(plan), "items": len(plan.items)},
           enterprise_id=ent.id)
    return plan


def _decimal(errors: dict, field: str, value: Any) -> Decimal | None:
    text = "" if value is None else str(value).strip()
    if not text or text == "None":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.setdefault(field, _("Enter a number, for example 100 or 0.5."))
        return None
    if not number.is_finite():
        errors.setdefault(field, _("Enter a number, for example 100 or 0.5."))
        return None
    return number


def validate_item(plan: MonitoringPlan, data: Mapping[str, Any], item_id: int | None = None) -> dict[str, Any]:
    """All field errors at once; the limit rules are the registry's (enterprises.rules)."""
    errors: dict[str, str] = {}
    outlet_id = str(data.get("outlet_id") or "").strip()
    outlet = db.session.get(Outlet, int(outlet_id)) if outlet_id.isdigit() else None
    if outlet is None or outlet.enterprise_id != plan.enterprise_id:
        errors["outlet_id"] = _("Choose one of your outlets.")
        outlet = None
    code = str(data.get("pollutant_code") or "").strip()
    pollutant = db.session.get(Pollutant, code) if code else None
    if pollutant is None:
        errors["pollutant_code"] = _("Choose a pollutant from the list.")
    elif outlet is not None and pollutant.medium in ("water", "gas") and pollutant.medium != outlet.medium:
        errors["pollutant_code"] = _("%(p)s is not measured at a %(o)s outlet.", p=pollutant.name, o=outlet.code)
    elif outlet is not None:
        other = db.session.scalar(sa.select(MonitoringPlanItem.id).where(
            MonitoringPlanItem.plan_id == plan.id, MonitoringPlanItem.outlet_id == outlet.id,
            MonitoringPlanItem.pollutant_code == code))
        if other is not None and other != item_id:
            errors["pollutant_code"] = _("The plan already has this pollutant at outlet %(o)s; edit that line.",
                                         o=outlet.code)
    mode = str(data.get("mode") or "")
    if mode not in {m.value for m in PlanMode}:
        errors["mode"] = _("Choose automatic or manual monitoring.")
    frequency = str(data.get("frequency") or "")
    problem = plan_rules.check_mode_frequency(mode, frequency) if "mode" not in errors else None
    if problem == "frequency":
        errors["frequency"] = _("Choose a monitoring frequency.")
    elif problem == "auto":
        errors["frequency"] = _("Automatic monitoring is continuous: choose “continuous”.")
    elif problem == "manual":
        errors["frequency"] = _("Manual monitoring needs a frequency (daily to yearly), not “continuous”.")
    value = _decimal(errors, "limit_value", data.get("limit_value"))
    low = _decimal(errors, "limit_min", data.get("limit_min"))
    high = _decimal(errors, "limit_max", data.get("limit_max"))
    if not {"limit_value", "limit_min", "limit_max"} & errors.keys():
        message = ent_rules.check_limit(value, low, high)
        if message:
            errors["limit_max" if low is not None or high is not None else "limit_value"] = message
    averaging = str(data.get("averaging") or "")
    if averaging not in {a.value for a in Averaging}:
        errors["averaging"] = _("Choose hourly, daily or instantaneous.")
    o2 = _decimal(errors, "reference_o2", data.get("reference_o2"))
    if outlet is not None and "reference_o2" not in errors:
        message = ent_rules.check_reference_o2(o2, outlet.medium)
        if message:
            errors["reference_o2"] = message
    texts = {}
    for field, size in (("unit", 16), ("standard_code", 64), ("method", 64)):
        texts[field] = str(data.get(field) or "").strip()
        if len(texts[field]) > size:
            errors[field] = _("At most %(n)d characters.", n=size)
    if pollutant is not None and outlet is not None and not {"limit_value", "limit_min", "limit_max",
                                                             "unit"} & errors.keys():
        fit = ent_rules.limit_fit_problems(pollutant.code, pollutant.medium, pollutant.unit, texts["unit"],
                                           outlet.medium, value, low, high)
        for field, message in fit.items():
            errors.setdefault(field, message)
        if "unit" not in fit and texts["unit"]:
            texts["unit"] = pollutant.unit
    if errors:
        raise ValidationFailed(errors)
    return {"outlet_id": outlet.id, "pollutant_code": code, "mode": mode, "frequency": frequency,
            "limit_value": value, "limit_min": low, "limit_max": high,
            "unit": texts["unit"] or (pollutant.unit if pollutant else ""), "averaging": averaging,
            "reference_o2": o2, "standard_code": texts["standard_code"], "method": texts["method"]}


def _editable(actor: Any, plan: MonitoringPlan) -> None:
    if getattr(actor, "enterprise_id", None) != plan.enterprise_id:
        raise NotAllowed(_("Only the enterprise edits its monitoring plan."))
    if plan.status not in EDITABLE:
        raise InvalidTransition(_("This version of the plan is no longer a draft."))


def save_item(actor: Any, plan: MonitoringPlan, data: Mapping[str, Any],
              item: MonitoringPlanItem | None = None) -> MonitoringPlanItem:
    _editable(actor, plan)
    if item is not None and item.plan_id != plan.id:
        raise NotFound(_("No such line in this plan."))
    clean = validate_item(plan, data, item.id if item else None)
    before = _item_audit(item) if item is not None else None
    if item is None:
        item = MonitoringPlanItem(plan_id=plan.id, **clean)
        plan.items.append(item)
    else:
        for key, value in clean.items():
            setattr(item, key, value)
    db.session.flush()
    record(actor, "monitoring.plan.item.save", item, before=before, after=_item_audit(item),
           enterprise_id=plan.enterprise_id)
    return item


def remove_item(actor: Any, plan: MonitoringPlan, item: MonitoringPlanItem) -> None:
    _editable(actor, plan)
    if item.plan_id != plan.id:
        raise NotFound(_("No such line in this plan."))
    record(actor, "monitoring.plan.item.remove", item, before=_item_audit(item), enterprise_id=plan.enterprise_id)
    plan.items.remove(item)
    db.session.flush()


def submit(actor: Any, plan: MonitoringPlan) -> None:
    _editable(actor, plan)
    if not plan.items:
        raise ValidationFailed({"items": _("Add at least one outlet and pollutant to the plan.")})
    before = snapshot(plan)
    plan.status, plan.submitted_at, plan.submitted_by_id = PlanStatus.SUBMITTED, utcnow(), actor.id
    plan.review_note = ""
    record(actor, "monitoring.plan.submit", plan, before=before, enterprise_id=plan.enterprise_id)


def _reviewable(actor: Any, plan: MonitoringPlan) -> None:
    if not auth_rules.can_edit_registry(actor.role, actor.jurisdiction_code, plan.enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    if plan.status != PlanStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted plan can be confirmed or returned."))


def return_plan(actor: Any, plan: MonitoringPlan, note: str) -> None:
    _reviewable(actor, plan)
    if not (note or "").strip():
        raise ValidationFailed({"note": _("Say what the enterprise must change.")})
    before = snapshot(plan)
    plan.status, plan.review_note = PlanStatus.RETURNED, note.strip()[:4000]
    record(actor, "monitoring.plan.return", plan, before=before, enterprise_id=plan.enterprise_id)


def confirm(actor: Any, plan: MonitoringPlan, note: str = "") -> None:
    """The plan comes into force: the previous version is superseded and the outlet limits follow the plan
    (created, updated, or removed when a pollutant left the plan), each change audited by the registry."""
    _reviewable(actor, plan)
    today = china_today()
    previous = confirmed_plan(plan.enterprise_id)
    if previous is not None:
        before = snapshot(previous)
        previous.status, previous.effective_to = PlanStatus.SUPERSEDED, today
        db.session.flush()
        record(actor, "monitoring.plan.supersede", previous, before=before, enterprise_id=plan.enterprise_id)
    before = snapshot(plan)
    plan.status, plan.confirmed_at, plan.confirmed_by_id = PlanStatus.CONFIRMED, utcnow(), actor.id
    plan.effective_from, plan.review_note = today, (note or "").strip()[:4000]
    db.session.flush()
    record(actor, "monitoring.plan.confirm", plan, before=before, enterprise_id=plan.enterprise_id)
    _sync_limits(actor, plan)


def _sync_limits(actor: Any, plan: MonitoringPlan) -> None:
    wanted = {(i.outlet_id, i.pollutant_code): i for i in plan.items}
    note = _("Monitoring plan version %(v)d confirmed", v=plan.version)
    current = db.session.scalars(sa.select(OutletLimit).join(Outlet, OutletLimit.outlet_id == Outlet.id)
                                 .where(Outlet.enterprise_id == plan.enterprise_id)).all()
    existing = {}
    for lim in current:
        db.session.refresh(lim.outlet, ["limits"])  # the registry works on the outlet's collection
        if (lim.outlet_id, lim.pollutant_code) not in wanted:
            ent_services.remove_limit(actor, lim, note)
        else:
            existing[(lim.outlet_id, lim.pollutant_code)] = lim
    for key, item in wanted.items():
        data = {"pollutant_code": item.pollutant_code, "limit_value": item.limit_value,
                "limit_min": item.limit_min, "limit_max": item.limit_max, "unit": item.unit,
                "averaging": item.averaging, "reference_o2": item.reference_o2, "standard_code": item.standard_code}
        lim = existing.get(key)
        if lim is None:
            ent_services.create_limit(actor, item.outlet, data, note)
        elif any(_same(getattr(lim, k), v) is False for k, v in data.items()):
            ent_services.update_limit(actor, lim, data, note)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return (a is None and b is None) or (a is not None and b is not None and Decimal(a) == Decimal(b))
    return str(a if a is not None else "") == str(b if b is not None else "")


def submitted_plans(jurisdiction: str | None) -> list[MonitoringPlan]:
    stmt = (sa.select(MonitoringPlan).join(Enterprise, MonitoringPlan.enterprise_id == Enterprise.id)
            .where(Enterprise.region_code.startswith(jurisdiction or "\x00"),
                   MonitoringPlan.status == PlanStatus.SUBMITTED)
            .order_by(MonitoringPlan.submitted_at))
    return list(db.session.scalars(stmt))


def plans_of(enterprise_id: int) -> list[MonitoringPlan]:
    return list(db.session.scalars(sa.select(MonitoringPlan).where(MonitoringPlan.enterprise_id == enterprise_id)
                                   .order_by(MonitoringPlan.version.desc())))
