"""The integrity-flag workflow and the rule data (DOMAIN §5.12).

A flag is a clue: regulators of the enterprise's jurisdiction review it and dismiss it with a reason or warn the
enterprise; the enterprise answers or corrects online (5 working days); an on-site check is recorded; the outcome
is recorded. Nothing here moves a grade: a confirmed outcome is offered to the credit rules as *unverified*,
non-public evidence, which a second regulator must confirm there. Functions flush; views and the CLI commit.
Every change is audited."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.rules import in_jurisdiction
from portal.core.clock import china_today
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.enterprises.models import Enterprise, Outlet
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.extensions import db
from portal.integrity import rules
from portal.integrity.models import (DeviceChannel, DeviceMaintainer, IntegrityFlag, IntegrityFlagEvent, LabSample,
                                     LabScope, SupervisoryResult)
from portal.integrity.rules import FlagState
from portal.monitoring.models import Device
from portal.reference.models import Pollutant

S = FlagState
MIN_NOTE = 5


def _audit(flag: IntegrityFlag) -> dict:
    return snapshot(flag, exclude=("created_at", "updated_at", "series", "params", "details"))


# ------------------------------------------------------------------------------------------------ who sees what

def can_regulate(user, flag: IntegrityFlag) -> bool:
    return (user.role is not None and user.role.is_regulator
            and in_jurisdiction(user.jurisdiction_code, flag.region_code))


def can_answer(user, flag: IntegrityFlag) -> bool:
    return (user.role is not None and user.role.is_enterprise and user.enterprise_id is not None
            and user.enterprise_id == flag.enterprise_id)


def regulator_queue(user, state: FlagState | None = None, rule_id: str | None = None) -> list[IntegrityFlag]:
    """The jurisdiction's flags, newest first; the open ones unless a state is asked for."""
    if not user.jurisdiction_code:
        return []
    stmt = sa.select(IntegrityFlag).where(IntegrityFlag.region_code.startswith(user.jurisdiction_code,
                                                                                autoescape=True))
    stmt = stmt.where(IntegrityFlag.state == state) if state else stmt.where(IntegrityFlag.state.in_(rules.OPEN_STATES))
    if rule_id in rules.RULES:
        stmt = stmt.where(IntegrityFlag.rule_id == rule_id)
    return list(db.session.scalars(stmt.order_by(IntegrityFlag.raised_at.desc(), IntegrityFlag.id.desc()).limit(500)))


def enterprise_flags(user) -> list[IntegrityFlag]:
    """The warnings the enterprise received (open or dismissed clues are never shown to it)."""
    if user.enterprise_id is None:
        return []
    return list(db.session.scalars(sa.select(IntegrityFlag).where(
        IntegrityFlag.enterprise_id == user.enterprise_id, IntegrityFlag.state.in_(rules.ENTERPRISE_VISIBLE))
        .order_by(IntegrityFlag.raised_at.desc()).limit(500)))


def get_for_regulator(user, flag_id: int) -> IntegrityFlag:
    flag = db.session.get(IntegrityFlag, flag_id)
    if flag is None or not can_regulate(user, flag):
        raise NotFound(_("No such integrity flag in your jurisdiction."))
    return flag


def get_for_enterprise(user, flag_id: int) -> IntegrityFlag:
    flag = db.session.get(IntegrityFlag, flag_id)
    if flag is None or not can_answer(user, flag) or flag.state not in rules.ENTERPRISE_VISIBLE:
        raise NotFound(_("No such warning for your enterprise."))
    return flag


# ------------------------------------------------------------------------------------------------ workflow

def _move(flag: IntegrityFlag, new: FlagState, actor, note: str) -> None:
    if not rules.can_transition(flag.state, new):
        raise InvalidTransition(_("This flag is no longer in a state that allows this step; reload the page."))
    before = _audit(flag)
    flag.state = new
    db.session.add(IntegrityFlagEvent(flag_id=flag.id, at=utcnow(), state=new, actor_id=actor.id, note=note))
    db.session.flush()
    record(actor, f"integrity.flag.{new.value}", flag, before=before, after=_audit(flag))


def _note(note: str, field: str = "note", minimum: int = MIN_NOTE) -> str:
    note = (note or "").strip()
    if len(note) < minimum:
        raise ValidationFailed({field: _("Write at least %(n)d characters.", n=minimum)})
    return note


def _regulator(actor, flag: IntegrityFlag) -> None:
    if not can_regulate(actor, flag):
        raise NotFound(_("No such integrity flag in your jurisdiction."))


def dismiss(flag: IntegrityFlag, actor, reason: str) -> IntegrityFlag:
    """No follow-up; the reason is kept so the rule's thresholds can be tuned."""
    _regulator(actor, flag)
    flag.reason = _note(reason, "reason")
    _move(flag, S.DISMISSED, actor, flag.reason)
    return flag


def warn(flag: IntegrityFlag, actor, note: str = "", today: date | None = None) -> IntegrityFlag:
    """The enterprise sees the flag from now on and answers within 5 working days."""
    from portal.workdays.rules import add_working_days
    from portal.workdays.services import is_workday

    _regulator(actor, flag)
    flag.answer_due_on = add_working_days(today or china_today(), rules.ANSWER_WORKING_DAYS, is_workday)
    _move(flag, S.WARNED, actor, (note or "").strip())
    return flag


def answer(flag: IntegrityFlag, actor, text: str) -> IntegrityFlag:
    """The enterprise's explanation or correction (corrected data themselves go through the monitoring pages)."""
    if not can_answer(actor, flag):
        raise NotFound(_("No such warning for your enterprise."))
    flag.answer = _note(text, "answer", 10)
    _move(flag, S.ANSWERED, actor, flag.answer)
    return flag


def resolve(flag: IntegrityFlag, actor, note: str) -> IntegrityFlag:
    """The answer satisfies the regulator: closed with no finding."""
    _regulator(actor, flag)
    flag.reason = _note(note)
    _move(flag, S.RESOLVED, actor, flag.reason)
    return flag


def record_inspection(flag: IntegrityFlag, actor, inspected_on: date | None, inspectors: str,
                      note: str) -> IntegrityFlag:
    """An on-site (个案) check, outside the routine-inspection cap (DOMAIN §8.6)."""
    _regulator(actor, flag)
    errors = {}
    if inspected_on is None or inspected_on > china_today():
        errors["inspected_on"] = _("Give the date of the check; it cannot be in the future.")
    elif inspected_on < flag.raised_at.date():
        errors["inspected_on"] = _("The check cannot be before the flag was raised.")
    if len((inspectors or "").strip()) < 2:
        errors["inspectors"] = _("Name the inspectors who made the check.")
    if len((note or "").strip()) < MIN_NOTE:
        errors["note"] = _("Write at least %(n)d characters.", n=MIN_NOTE)
    if errors:
        raise ValidationFailed(errors)
    flag.inspected_on, flag.inspectors = inspected_on, inspectors.strip()
    flag.inspection_note = note.strip()
    _move(flag, S.INSPECTED, actor, flag.inspection_note)
    return flag


def record_outcome(flag: IntegrityFlag, actor, confirmed: bool, note: str) -> IntegrityFlag:
    """The outcome of the check. A confirmed falsification becomes *unverified* credit evidence: it scores only
    after a second regulator confirms it in the credit pages (DOMAIN §2.6); nothing is published from here."""
    _regulator(actor, flag)
    flag.reason = _note(note)
    _move(flag, S.CONFIRMED if confirmed else S.CLEARED, actor, flag.reason)
    if confirmed:
        evidence = add_evidence(
            enterprise_id=flag.enterprise_id, kind=EvidenceKind.INSPECTION_FINDING, source=EvidenceSource.MONITORING,
            source_ref=f"integrity:{flag.id}", occurred_on=flag.inspected_on or china_today(),
            message=("integrity.confirmed", {"rule": flag.rule_id}), verified=False, actor=actor,
            details={"integrity_flag": flag.id, "rule": flag.rule_id, "note": flag.reason}, is_public=False)
        flag.evidence_id = evidence.id
        db.session.flush()
    return flag


# ------------------------------------------------------------------------------------------------ rule data

def enterprise_for_regulator(user, uscc: str) -> Enterprise:
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == (uscc or "").strip().upper()))
    if ent is None or not (user.role and user.role.is_regulator and in_jurisdiction(user.jurisdiction_code,
                                                                                     ent.region_code)):
        raise NotFound(_("No such enterprise in your jurisdiction."))
    return ent


def _device(ent: Enterprise, device_id: int | None) -> Device:
    device = db.session.get(Device, device_id) if device_id else None
    if device is None or device.enterprise_id != ent.id:
        raise ValidationFailed({"device_id": _("Choose one of this enterprise's devices.")})
    return device


def _outlet(ent: Enterprise, outlet_id: int | None) -> Outlet:
    outlet = db.session.get(Outlet, outlet_id) if outlet_id else None
    if outlet is None or outlet.enterprise_id != ent.id:
        raise ValidationFailed({"outlet_id": _("Choose one of this enterprise's outlets.")})
    return outlet


def _pollutant(code: str) -> str:
    code = (code or "").strip()
    if db.session.get(Pollutant, code) is None:
        raise ValidationFailed({"pollutant_code": _("Give a known HJ 212 pollutant code, e.g. w01018 or a21026.")})
    return code


def save_channel(actor, ent: Enterprise, *, device_id: int, pollutant_code: str, range_low: float,
                 range_high: float, detection_limit: float | None, unit: str = "") -> DeviceChannel:
    """Analyser range and method detection limit (R1, R2); one row per device and code, replaced on save."""
    device = _device(ent, device_id)
    code = _pollutant(pollutant_code)
    if range_high is None or range_low is None or range_high <= range_low:
        raise ValidationFailed({"range_high": _("The upper end of the range must be above the lower end.")})
    if detection_limit is not None and not 0 < detection_limit < range_high:
        raise ValidationFailed({"detection_limit": _("The detection limit must be above 0 and below the range.")})
    channel = db.session.scalar(sa.select(DeviceChannel).where(DeviceChannel.device_id == device.id,
                                                               DeviceChannel.pollutant_code == code))
    before = snapshot(channel) if channel else None
    if channel is None:
        channel = DeviceChannel(device_id=device.id, pollutant_code=code)
        db.session.add(channel)
    channel.range_low, channel.range_high = range_low, range_high
    channel.detection_limit, channel.unit = detection_limit, (unit or "").strip()
    db.session.flush()
    record(actor, "integrity.channel.save", channel, before=before, enterprise_id=ent.id)
    return channel


def add_maintainer(actor, ent: Enterprise, *, device_id: int, company_name: str, company_uscc: str,
                   contract_from: date, contract_to: date | None) -> DeviceMaintainer:
    device = _device(ent, device_id)
    if len((company_name or "").strip()) < 2:
        raise ValidationFailed({"company_name": _("Give the O&M company's name.")})
    if contract_to is not None and contract_from is not None and contract_to < contract_from:
        raise ValidationFailed({"contract_to": _("The contract cannot end before it starts.")})
    row = DeviceMaintainer(device_id=device.id, company_name=company_name.strip(),
                           company_uscc=(company_uscc or "").strip().upper(), contract_from=contract_from,
                           contract_to=contract_to)
    db.session.add(row)
    db.session.flush()
    record(actor, "integrity.maintainer.add", row, enterprise_id=ent.id)
    return row


def add_supervisory(actor, ent: Enterprise, *, outlet_id: int, pollutant_code: str, sampled_at: datetime,
                    value: float, agency: str, report_no: str = "") -> SupervisoryResult:
    outlet = _outlet(ent, outlet_id)
    code = _pollutant(pollutant_code)
    if value is None or value < 0:
        raise ValidationFailed({"value": _("Give the measured value (0 or more).")})
    if sampled_at is None or sampled_at > utcnow():
        raise ValidationFailed({"sampled_at": _("Give the sampling time; it cannot be in the future.")})
    if len((agency or "").strip()) < 2:
        raise ValidationFailed({"agency": _("Name the monitoring agency.")})
    row = SupervisoryResult(enterprise_id=ent.id, outlet_id=outlet.id, pollutant_code=code, sampled_at=sampled_at,
                            value=value, agency=agency.strip(), report_no=(report_no or "").strip(),
                            recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    record(actor, "integrity.supervisory.add", row)
    return row


def add_lab_sample(actor, ent: Enterprise, *, outlet_id: int, pollutant_code: str, lab_name: str, lab_cma_no: str,
                   method: str, samplers: str, sampling_start: datetime, sampling_end: datetime,
                   analysed_at: datetime | None, report_no: str, report_issued_at: datetime | None,
                   value_text: str) -> LabSample:
    """Sampling details of one lab result as the report states them (R11, R13). Impossible dates are stored as
    stated (they are what R11 looks for); only an unreadable or reversed sampling period is refused."""
    outlet = _outlet(ent, outlet_id)
    code = _pollutant(pollutant_code)
    errors = {}
    names = [n.strip() for n in (samplers or "").replace("，", ",").replace("、", ",").split(",") if n.strip()]
    if not names:
        errors["samplers"] = _("Name the sampler(s), separated by commas.")
    if sampling_start is None or sampling_end is None or sampling_end < sampling_start:
        errors["sampling_end"] = _("Sampling must end at or after its start.")
    if not (lab_cma_no or "").strip():
        errors["lab_cma_no"] = _("Give the laboratory's CMA certificate number.")
    if not (method or "").strip():
        errors["method"] = _("Give the analysis method, e.g. HJ 828-2017.")
    value = None
    if (value_text or "").strip():
        try:
            value = float(value_text.strip())
        except ValueError:
            errors["value_text"] = _("Write the value as a number, e.g. 12.30, exactly as on the report.")
    if errors:
        raise ValidationFailed(errors)
    row = LabSample(enterprise_id=ent.id, outlet_id=outlet.id, pollutant_code=code, lab_name=(lab_name or "").strip(),
                    lab_cma_no=lab_cma_no.strip().upper(), method=method.strip(), samplers=names,
                    sampling_start=sampling_start, sampling_end=sampling_end, analysed_at=analysed_at,
                    report_no=(report_no or "").strip(), report_issued_at=report_issued_at, value=value,
                    value_text=(value_text or "").strip(), recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    record(actor, "integrity.lab_sample.add", row)
    return row


def add_lab_scope(actor, *, cma_no: str, lab_name: str, method: str, valid_to: date | None) -> LabScope:
    cma_no, method = (cma_no or "").strip().upper(), (method or "").strip()
    errors = {}
    if not cma_no:
        errors["cma_no"] = _("Give the laboratory's CMA certificate number.")
    if not method:
        errors["method"] = _("Give the analysis method, e.g. HJ 828-2017.")
    if len((lab_name or "").strip()) < 2:
        errors["lab_name"] = _("Give the laboratory's name.")
    if errors:
        raise ValidationFailed(errors)
    if db.session.scalar(sa.select(LabScope.id).where(LabScope.cma_no == cma_no, LabScope.method == method)):
        raise ValidationFailed({"method": _("This method is already in the laboratory's scope.")})
    row = LabScope(cma_no=cma_no, lab_name=lab_name.strip(), method=method, valid_to=valid_to)
    db.session.add(row)
    db.session.flush()
    record(actor, "integrity.lab_scope.add", row)
    return row


def rule_data(ent: Enterprise) -> dict:
    """What the rules know about one enterprise's devices, outlets and lab reports."""
    devices = list(db.session.scalars(sa.select(Device).where(Device.enterprise_id == ent.id).order_by(Device.mn)))
    ids = [d.id for d in devices] or [-1]
    return {
        "devices": devices,
        "channels": list(db.session.scalars(sa.select(DeviceChannel).where(DeviceChannel.device_id.in_(ids))
                                            .order_by(DeviceChannel.device_id, DeviceChannel.pollutant_code))),
        "maintainers": list(db.session.scalars(sa.select(DeviceMaintainer).where(DeviceMaintainer.device_id.in_(ids))
                                               .order_by(DeviceMaintainer.contract_from.desc()))),
        "supervisory": list(db.session.scalars(sa.select(SupervisoryResult).where(
            SupervisoryResult.enterprise_id == ent.id).order_by(SupervisoryResult.sampled_at.desc()).limit(100))),
        "lab_samples": list(db.session.scalars(sa.select(LabSample).where(LabSample.enterprise_id == ent.id)
                                               .order_by(LabSample.sampling_start.desc()).limit(100))),
    }
