"""Reward use cases (DOMAIN §6.6): assess a complaint, propose the table's amount, a lead's four-eyes decision, the
payment record, the reward table, and what the reporter and the public see. Services flush; views commit.

Only the assigned handler and the jurisdiction's lead reach any of this (rules.can_see_reward); the identity is
decrypted by portal.complaints (crypto) for them alone and never copied into reward rows or audit records."""
from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.core.jsondata import load_json_field
from portal.audit.services import record, snapshot
from portal.complaints.crypto import decrypt_identity
from portal.complaints.models import Complaint, Findings
from portal.core.clock import china_today, china_tz
from portal.db import utcnow
from portal.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.rewards import rules
from portal.rewards.models import PaymentMethod, RewardCase, RewardStatus, RewardTable


def can_see(user, c: Complaint) -> bool:
    return rules.can_see_reward(user.role, user.id, c.handler_id, user.jurisdiction_code, c.region_code,
                                c.assigned_region_code)


def complaint_for(user, complaint_id: int) -> Complaint:
    c = db.session.get(Complaint, complaint_id)
    if c is None or not can_see(user, c):
        raise NotFound(_("No such case among those you handle."))
    return c


def reward_for(user, reward_id: int) -> RewardCase:
    reward = db.session.get(RewardCase, reward_id)
    if reward is None or not can_see(user, reward.complaint):
        raise NotFound(_("No such reward among those you handle."))
    return reward


def reward_of(c: Complaint) -> RewardCase | None:
    return db.session.scalar(sa.select(RewardCase).where(RewardCase.complaint_id == c.id))


def visible_rewards(user, limit: int = 300) -> list[RewardCase]:
    """The lead's jurisdiction, or the handler's own cases."""
    prefix = (user.jurisdiction_code or "\x00") + "%"
    stmt = (sa.select(RewardCase).join(Complaint, Complaint.id == RewardCase.complaint_id)
            .where(sa.or_(Complaint.region_code.like(prefix), Complaint.assigned_region_code.like(prefix)))
            .order_by(RewardCase.id.desc()).limit(limit))
    return [r for r in db.session.scalars(stmt) if can_see(user, r.complaint)]


# --- the table ----------------------------------------------------------------------------------------------------

def table_for(region_code: str) -> tuple[str | None, rules.Table]:
    """The table of the longest jurisdiction prefix covering the place, else the config default."""
    tables = {t.jurisdiction_prefix: t for t in db.session.scalars(sa.select(RewardTable))}
    prefix = rules.table_prefix_for(region_code, list(tables))
    data = tables[prefix].data if prefix else current_app.config["REWARD_TABLE_DEFAULT"]
    return prefix, rules.parse_table(data)


def table_text(user) -> str:
    own = db.session.scalar(sa.select(RewardTable).where(RewardTable.jurisdiction_prefix == user.jurisdiction_code))
    return json.dumps(own.data if own else current_app.config["REWARD_TABLE_DEFAULT"], ensure_ascii=False, indent=2)


def save_table(actor, text: str) -> RewardTable:
    """A lead sets the reward table of its own jurisdiction (published rules, 环办执法〔2020〕8号)."""
    if actor.role is None or actor.role.value != "regulator_lead" or not actor.jurisdiction_code:
        raise NotAllowed(_("Only a lead sets the reward table of its jurisdiction."))
    data = load_json_field(text, "table", rules.parse_table, (rules.TableError,))
    table = db.session.scalar(sa.select(RewardTable)
                              .where(RewardTable.jurisdiction_prefix == actor.jurisdiction_code))
    before = snapshot(table) if table else None
    if table is None:
        table = RewardTable(jurisdiction_prefix=actor.jurisdiction_code)
        db.session.add(table)
    table.data, table.updated_by_id = data, actor.id
    db.session.flush()
    record(actor, "reward_table.save", table, before=before)
    return table


# --- assessment ---------------------------------------------------------------------------------------------------

def facts_of(c: Complaint, *, insider: bool, already_known: bool) -> rules.Facts:
    """The complaint's side of eligibility: its reporter's real name, whether it was the first report of the matter
    (the case it follows and every case merged into that), and the findings of the case that was investigated."""
    root = db.session.get(Complaint, c.merged_into_id) if c.merged_into_id else c
    group = [(root.id, root.received_at)] + list(db.session.execute(
        sa.select(Complaint.id, Complaint.received_at).where(Complaint.merged_into_id == root.id)).all())
    return rules.Facts(real_name=rules.is_real_name(c.anonymous, decrypt_identity(c.reporter_token)),
                       first_reporter=rules.is_first_reporter(c.id, group), already_known=already_known,
                       substantiated=root.findings == Findings.SUBSTANTIATED, insider=insider)


def propose_reward(actor, c: Complaint, *, tier: str, insider: bool, already_known: bool,
                   already_known_note: str = "") -> RewardCase:
    """The handler (or the lead) records insider / already-known and the tier; the rule decides eligibility and
    the table the amount. An ineligible assessment is kept with its reasons and may be redone."""
    if not can_see(actor, c):
        raise NotFound(_("No such case among those you handle."))
    if already_known and len(already_known_note.strip()) < 5:
        raise ValidationFailed({"already_known_note": _("Say how the bureau already knew (case, inspection or "
                                                        "media report).")})
    reward = reward_of(c)
    facts = facts_of(c, insider=insider, already_known=already_known)
    reasons = rules.ineligibility(facts)
    target = RewardStatus.INELIGIBLE if reasons else RewardStatus.PROPOSED
    if reward is not None and not rules.can_transition(reward.status, target):
        raise InvalidTransition(_("This reward was already proposed; it can no longer be reassessed."))
    amount = None
    if not reasons:
        _prefix, table = table_for(c.region_code)
        try:
            amount = rules.proposed_amount(table, tier, insider)
        except rules.TableError as exc:
            raise ValidationFailed({"tier": str(exc)}) from exc
    before = snapshot(reward) if reward else None
    if reward is None:
        reward = RewardCase(complaint_id=c.id, region_code=c.region_code)
        db.session.add(reward)
    reward.is_insider, reward.already_known = insider, already_known
    reward.already_known_note = already_known_note.strip() if already_known else ""
    reward.tier = tier if not reasons else ""
    reward.is_real_name, reward.is_first_reporter = facts.real_name, facts.first_reporter
    reward.is_substantiated, reward.ineligibility = facts.substantiated, reasons
    reward.proposed_amount_yuan, reward.status = amount, target
    reward.proposed_by_id, reward.proposed_at = actor.id, utcnow()
    db.session.flush()
    record(actor, "reward.propose" if not reasons else "reward.ineligible", reward, before=before)
    return reward


def decide_reward(actor, reward: RewardCase, *, approve: bool, note: str = "") -> RewardCase:
    refusal = rules.approval_refusal(reward.status, actor.role, reward.proposed_by_id, actor.id)
    if refusal:
        raise NotAllowed(refusal)
    if not approve and len(note.strip()) < 5:
        raise ValidationFailed({"decision_note": _("Give the reason for rejecting the reward.")})
    before = snapshot(reward)
    reward.status = RewardStatus.APPROVED if approve else RewardStatus.REJECTED
    reward.decided_by_id, reward.decided_at, reward.decision_note = actor.id, utcnow(), note.strip()
    db.session.flush()
    record(actor, "reward.approve" if approve else "reward.reject", reward, before=before)
    return reward


def record_payment(actor, reward: RewardCase, *, paid_on: date | None, method: str, reference: str) -> RewardCase:
    decided_on = reward.decided_at.astimezone(china_tz()).date() if reward.decided_at else None
    errors = rules.payment_problems(reward.status, paid_on, china_today(), method, reference, decided_on)
    if "status" in errors:
        raise InvalidTransition(errors["status"])
    if method and method not in {m.value for m in PaymentMethod}:
        errors["payment_method"] = _("Choose how the reward was paid.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(reward)
    reward.status, reward.paid_on = RewardStatus.PAID, paid_on
    reward.payment_method, reward.payment_reference = PaymentMethod(method), reference.strip()
    reward.paid_recorded_by_id = actor.id
    db.session.flush()
    record(actor, "reward.pay", reward, before=before)
    return reward


# --- what the reporter and the public see -------------------------------------------------------------------------

def tracking_status(c: Complaint) -> dict[str, Any] | None:
    """For the reporter's tracking page (their own case number and query code): status, amount once approved,
    payment date once paid. No names, no internal notes."""
    reward = reward_of(c)
    if reward is None:
        return None
    shown = rules.public_status(reward.status)
    amount = reward.proposed_amount_yuan if reward.status in (RewardStatus.APPROVED, RewardStatus.PAID) else None
    return {"status": shown, "amount_yuan": amount, "paid_on": reward.paid_on,
            "reasons": list(reward.ineligibility or []) if shown == "not_eligible" else []}


def statistics(level: int = 4) -> list[dict[str, Any]]:
    """Rewards per year and jurisdiction (city by default, province with level=2): counts of approved and of paid
    rewards and the total paid, by the year of approval or payment. Nothing names a reporter or a case."""
    from portal.reference.models import Region

    rows: dict[tuple[int, str], dict[str, Any]] = {}
    stmt = sa.select(RewardCase.region_code, RewardCase.status, RewardCase.decided_at, RewardCase.paid_on,
                     RewardCase.proposed_amount_yuan).where(
        RewardCase.status.in_([RewardStatus.APPROVED, RewardStatus.PAID]))
    for region, status, decided_at, paid_on, amount in db.session.execute(stmt):
        prefix = region[:level]
        year = paid_on.year if paid_on else decided_at.astimezone(china_tz()).year
        row = rows.setdefault((year, prefix), {"year": year, "prefix": prefix, "approved": 0, "paid": 0,
                                               "paid_yuan": 0})
        row["approved"] += 1
        if status == RewardStatus.PAID:
            row["paid"] += 1
            row["paid_yuan"] += amount or 0
    codes = {p.ljust(6, "0") for _y, p in rows}
    names = {code: name for code, name in db.session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(codes)))}
    for row in rows.values():
        row["region"] = names.get(row["prefix"].ljust(6, "0"), row["prefix"])
    return sorted(rows.values(), key=lambda r: (-r["year"], r["prefix"]))
