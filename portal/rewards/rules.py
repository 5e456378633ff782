"""Pure reward rules (DOMAIN §6.6; 环办执法〔2020〕8号 and the provincial schemes it asked for): eligibility from the
complaint's facts, the amount from the jurisdiction's table, the state machine and the four-eyes approval.
No database, request or app here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.auth.models import Role
from portal.auth.rules import in_jurisdiction
from portal.rewards.models import RewardStatus

# Reason codes of ineligibility, in the order the reporter and the lead read them.
NOT_REAL_NAME = "not_real_name"
NOT_FIRST = "not_first_reporter"
ALREADY_KNOWN = "already_known"
NOT_SUBSTANTIATED = "not_substantiated"
REASONS = (NOT_REAL_NAME, NOT_FIRST, ALREADY_KNOWN, NOT_SUBSTANTIATED)

S = RewardStatus
TRANSITIONS: dict[RewardStatus, frozenset[RewardStatus]] = {
    S.INELIGIBLE: frozenset({S.INELIGIBLE, S.PROPOSED}),  # reassessed when the facts change
    S.PROPOSED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.PAID}),
    S.REJECTED: frozenset(),
    S.PAID: frozenset(),
}


class TableError(ValueError):
    """A reward table is malformed; the message names the key at fault."""


@dataclass(frozen=True)
class Tier:
    code: str
    label: str
    label_en: str
    amount_yuan: int


@dataclass(frozen=True)
class Table:
    tiers: tuple[Tier, ...]
    insider_bonus_percent: int
    max_amount_yuan: int | None

    def tier(self, code: str) -> Tier | None:
        return next((t for t in self.tiers if t.code == code), None)


@dataclass(frozen=True)
class Facts:
    """What eligibility reads: from the complaint (real name, first reporter, substantiated) and from the handler
    (already known to the bureau, insider)."""

    real_name: bool
    first_reporter: bool
    already_known: bool
    substantiated: bool
    insider: bool = False


def is_real_name(anonymous: bool, identity: dict) -> bool:
    """实名举报: a name, an ID number (or USCC for an organisation) and a way to reach the reporter (Hunan 2025)."""
    if anonymous:
        return False
    has = lambda key: bool((identity.get(key) or "").strip())  # noqa: E731
    return has("name") and has("id_no") and (has("phone") or has("email"))


def is_first_reporter(case_id: int, group: list[tuple[int, datetime]]) -> bool:
    """The first report of the matter: earliest received in the case and every case merged into it (ties by id).
    Only the first reporter is rewarded (Shandong; DOMAIN §6.6)."""
    if not group:
        return True
    first = min(group, key=lambda item: (item[1], item[0]))
    return first[0] == case_id


def ineligibility(facts: Facts) -> list[str]:
    """Every reason the report cannot be rewarded (empty: eligible). The insider flag never refuses: it raises the
    amount (insider reports are encouraged)."""
    reasons = []
    if not facts.real_name:
        reasons.append(NOT_REAL_NAME)
    if not facts.first_reporter:
        reasons.append(NOT_FIRST)
    if facts.already_known:
        reasons.append(ALREADY_KNOWN)
    if not facts.substantiated:
        reasons.append(NOT_SUBSTANTIATED)
    return reasons


def proposed_amount(table: Table, tier_code: str, insider: bool) -> int:
    """The tier's amount, plus the insider bonus, capped at the table's maximum (whole yuan, rounded down)."""
    tier = table.tier(tier_code)
    if tier is None:
        raise TableError(str(_l("Choose one of the reward tiers of the table.")))
    amount = tier.amount_yuan
    if insider:
        amount = amount * (100 + table.insider_bonus_percent) // 100
    if table.max_amount_yuan is not None:
        amount = min(amount, table.max_amount_yuan)
    return amount


def _whole(data: dict, key: str, where: str, *, optional: bool = False) -> int | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TableError(f"{where}: '{key}' " + str(_l("must be a whole number of yuan, 0 or more")))
    return value


def parse_table(data: Any) -> Table:
    """Read a reward table's JSON; raises TableError naming the first bad key."""
    if not isinstance(data, dict):
        raise TableError("table: " + str(_l("must be an object")))
    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise TableError("tiers: " + str(_l("list at least one tier")))
    tiers, seen = [], set()
    for i, t in enumerate(raw_tiers):
        where = f"tiers[{i}]"
        if not isinstance(t, dict) or not str(t.get("code") or "").strip():
            raise TableError(f"{where}: 'code' " + str(_l("is required")))
        code = str(t["code"]).strip()
        if code in seen:
            raise TableError(f"{where}: 'code' " + str(_l("is used twice")))
        seen.add(code)
        tiers.append(Tier(code=code, label=str(t.get("label") or code), label_en=str(t.get("label_en") or code),
                          amount_yuan=_whole(t, "amount_yuan", where)))
    bonus = _whole(data, "insider_bonus_percent", "table", optional=True) or 0
    return Table(tiers=tuple(tiers), insider_bonus_percent=bonus,
                 max_amount_yuan=_whole(data, "max_amount_yuan", "table", optional=True))


def table_prefix_for(region_code: str, prefixes: list[str]) -> str | None:
    """The longest configured jurisdiction prefix covering the place."""
    covering = [p for p in prefixes if region_code.startswith(p)]
    return max(covering, key=len) if covering else None


def can_transition(current: RewardStatus, new: RewardStatus) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def can_see_reward(role: Role | None, user_id: int | None, handler_id: int | None, user_jurisdiction: str | None,
                   region_code: str, assigned_region: str | None) -> bool:
    """Reward data names a reporter: only the assigned handler and the jurisdiction's lead see it (DOMAIN §6.5)."""
    if role is None or not role.is_regulator:
        return False
    if not (in_jurisdiction(user_jurisdiction, region_code) or in_jurisdiction(user_jurisdiction, assigned_region)):
        return False
    return role == Role.REGULATOR_LEAD or (handler_id is not None and user_id == handler_id)


def approval_refusal(status: RewardStatus, role: Role | None, proposer_id: int | None, approver_id: int) -> str | None:
    """Why this user may not decide the proposal, or None. Four eyes: a lead decides, never the proposer."""
    if role != Role.REGULATOR_LEAD:
        return str(_l("Only a lead approves or rejects rewards."))
    if status != RewardStatus.PROPOSED:
        return str(_l("Only a proposed reward can be approved or rejected."))
    if proposer_id is not None and proposer_id == approver_id:
        return str(_l("You proposed this reward; another lead must decide it (four eyes)."))
    return None


def payment_problems(status: RewardStatus, paid_on: date | None, today: date, method: str, reference: str,
                     decided_on: date | None) -> dict[str, str]:
    """Field → message for a payment record: approved first, dated between approval and today, with a reference
    (bank or e-payment transaction number, or the certificate number of an honorary reward)."""
    errors: dict[str, str] = {}
    if status != RewardStatus.APPROVED:
        errors["status"] = str(_l("Only an approved reward can be paid."))
    if paid_on is None:
        errors["paid_on"] = str(_l("Give the payment date."))
    elif paid_on > today:
        errors["paid_on"] = str(_l("The payment date cannot be in the future."))
    elif decided_on is not None and paid_on < decided_on:
        errors["paid_on"] = str(_l("The payment date cannot be before the approval (%(day)s).",
                                   day=decided_on.isoformat()))
    if not method:
        errors["payment_method"] = str(_l("Choose how the reward was paid."))
    if len(reference.strip()) < 3:
        errors["payment_reference"] = str(_l("Give the payment reference (transaction or certificate number)."))
    return errors


def public_status(status: RewardStatus | None) -> str | None:
    """What the reporter's tracking page says (a rejected proposal reads the same as not eligible)."""
    if status is None:
        return None
    return {S.INELIGIBLE: "not_eligible", S.REJECTED: "not_eligible", S.PROPOSED: "under_review",
            S.APPROVED: "approved", S.PAID: "paid"}[status]
