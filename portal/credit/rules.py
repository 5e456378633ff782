"""Pure credit rules (no database, request or app): who may record, confirm or see what, which scheme a region uses,
what a regulator's evidence record must contain, and the state machines of scheme versions, evaluation runs,
objections, black and white lists and credit repair."""
from __future__ import annotations

from datetime import date, timedelta

from portal.auth.models import Role
from portal.auth.rules import can_view_enterprise_private, in_jurisdiction, jurisdiction_covers
from portal.credit.models import (EvidenceKind, ListKind, ListStatus, ObjectionStatus, RepairStatus, RunStatus,
                                  SchemeStatus)
from portal.credit.scoring import add_months

# Evidence a regulator records by hand (PRODUCT §2.4); the other kinds come from disclosures, monitoring, complaints.
REGULATOR_KINDS = (
    EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY, EvidenceKind.PRODUCTION_LIMIT, EvidenceKind.PRODUCTION_STOP,
    EvidenceKind.PERMIT_REVOKED, EvidenceKind.DETENTION, EvidenceKind.CRIMINAL, EvidenceKind.SUPERVISED_LISTING,
    EvidenceKind.INSPECTION_FINDING, EvidenceKind.INCIDENT, EvidenceKind.DISCLOSURE_DEFECTIVE,
    EvidenceKind.COMPLAINT_SUBSTANTIATED, EvidenceKind.COMMENDATION,
)
PENALTY_TYPES = ("warning", "fine", "confiscation", "order_to_correct", "seal_seizure", "other")
INCIDENT_LEVELS = ("general", "larger", "major", "especially_major")
AMOUNT_KINDS = (EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY)

SCHEME_TRANSITIONS = {
    SchemeStatus.DRAFT: (SchemeStatus.ACTIVE,),
    SchemeStatus.ACTIVE: (SchemeStatus.RETIRED,),
    SchemeStatus.RETIRED: (),
}


def can_record_evidence(role: Role | None, jurisdiction: str | None, region_code: str) -> bool:
    """Regulators record evidence only about enterprises in their jurisdiction."""
    return role is not None and role.is_regulator and in_jurisdiction(jurisdiction, region_code)


def verify_refusal(role: Role | None, user_id: int, jurisdiction: str | None, region_code: str,
                   recorded_by_id: int | None, is_verified: bool, is_withdrawn: bool) -> str | None:
    """Why this user may not confirm this evidence, or None. Four eyes: the recorder cannot confirm their own
    record unless they are a lead (DOMAIN §2.1: only verified information scores)."""
    if not can_record_evidence(role, jurisdiction, region_code):
        return "jurisdiction"
    if is_withdrawn:
        return "withdrawn"
    if is_verified:
        return "verified"
    if recorded_by_id == user_id and role != Role.REGULATOR_LEAD:
        return "own_record"
    return None


def can_see_what_if(role: Role | None, user_enterprise_id: int | None, jurisdiction: str | None,
                    enterprise_id: int, region_code: str) -> bool:
    """The what-if (expiry dates, earliest improvement) is for the enterprise itself and its regulators."""
    return can_view_enterprise_private(role, user_enterprise_id, jurisdiction, enterprise_id, region_code)


def scheme_prefix_for(region_code: str, prefixes: list[str]) -> str | None:
    """The most specific mapped jurisdiction prefix that contains the region, or None (national default)."""
    matching = [p for p in prefixes if p and region_code.startswith(p)]
    return max(matching, key=len) if matching else None


def evidence_problems(kind: EvidenceKind, occurred_on: date | None, today: date, document_no: str, authority: str,
                      amount_yuan: int | None, penalty_type: str, incident_level: str, findings: str) -> dict[str, str]:
    """Field → problem code for a regulator's evidence record (services turn the codes into messages)."""
    problems: dict[str, str] = {}
    if kind not in REGULATOR_KINDS:
        problems["kind"] = "kind"
    if occurred_on is None:
        problems["occurred_on"] = "required"
    elif occurred_on > today:
        problems["occurred_on"] = "future"
    if not document_no.strip():
        problems["document_no"] = "required"
    if not authority.strip():
        problems["authority"] = "required"
    if amount_yuan is not None and amount_yuan < 0:
        problems["amount_yuan"] = "negative"
    if kind == EvidenceKind.PENALTY:
        if penalty_type not in PENALTY_TYPES:
            problems["penalty_type"] = "required"
        elif penalty_type == "fine" and not amount_yuan:
            problems["amount_yuan"] = "fine_amount"
    if kind == EvidenceKind.DAILY_PENALTY and not amount_yuan:
        problems["amount_yuan"] = "fine_amount"
    if kind == EvidenceKind.INCIDENT and incident_level not in INCIDENT_LEVELS:
        problems["incident_level"] = "required"
    if kind == EvidenceKind.INSPECTION_FINDING and not findings.strip():
        problems["findings"] = "required"
    return problems


def can_transition_scheme(current: SchemeStatus, target: SchemeStatus) -> bool:
    return target in SCHEME_TRANSITIONS[current]


def can_edit_schemes(role: Role | None, jurisdiction: str | None) -> bool:
    """Scheme versions are edited and activated by provincial leads (a scheme applies province-wide or wider)."""
    return role == Role.REGULATOR_LEAD and bool(jurisdiction) and len(jurisdiction or "") <= 2


def can_map_scheme(role: Role | None, jurisdiction: str | None) -> bool:
    """A lead chooses which scheme its own jurisdiction uses."""
    return role == Role.REGULATOR_LEAD and bool(jurisdiction)


# --- evaluation runs (DOMAIN §2.5) ----------------------------------------------------------------------------------

RUN_TRANSITIONS = {
    RunStatus.COMPUTED: (RunStatus.COMPUTED, RunStatus.PUBLIC_NOTICE),  # recomputing a proposal is allowed
    RunStatus.PUBLIC_NOTICE: (RunStatus.FINAL,),
    RunStatus.FINAL: (),
}
MIN_NOTICE_DAYS, MAX_NOTICE_DAYS = 7, 30


def can_transition_run(current: RunStatus, target: RunStatus) -> bool:
    return target in RUN_TRANSITIONS[current]


def can_manage_run(role: Role | None, jurisdiction: str | None, run_prefix: str) -> bool:
    """A regulator manages runs for its own jurisdiction or a part of it (a county regulator not a city run)."""
    return role is not None and role.is_regulator and (
        jurisdiction_covers(jurisdiction, run_prefix) if run_prefix else False)


def can_finalise_run(role: Role | None, jurisdiction: str | None, run_prefix: str) -> bool:
    """Only a lead approves (审定) the results of a run in its jurisdiction."""
    return role == Role.REGULATOR_LEAD and can_manage_run(role, jurisdiction, run_prefix)


def notice_period(starts_on: date, days: int) -> tuple[date, date]:
    """Public notice of `days` natural days starting on `starts_on`: (first day, last day objections are taken)."""
    return starts_on, starts_on + timedelta(days=days - 1)


def finalise_refusal(status: RunStatus, notice_ends_on: date | None, today: date, open_objections: int) -> str | None:
    """Why a run cannot be finalised yet, or None: the notice must have ended and every objection be answered."""
    if status != RunStatus.PUBLIC_NOTICE:
        return "status"
    if notice_ends_on is not None and today <= notice_ends_on:
        return "notice_running"
    if open_objections:
        return "open_objections"
    return None


def objection_refusal(status: RunStatus, notice_ends_on: date | None, today: date, has_open: bool) -> str | None:
    """Objections are taken during the public notice, one open objection per result at a time."""
    if status != RunStatus.PUBLIC_NOTICE or notice_ends_on is None or today > notice_ends_on:
        return "closed"
    if has_open:
        return "open"
    return None


def can_answer_objection(status: ObjectionStatus, run_status: RunStatus) -> bool:
    return status == ObjectionStatus.OPEN and run_status == RunStatus.PUBLIC_NOTICE


# --- black and white lists (DOMAIN §4) ------------------------------------------------------------------------------

LIST_TRANSITIONS = {
    ListStatus.CANDIDATE: (ListStatus.PRIOR_NOTICE, ListStatus.REJECTED),
    ListStatus.PRIOR_NOTICE: (ListStatus.LISTED, ListStatus.REJECTED),
    ListStatus.LISTED: (ListStatus.REMOVED, ListStatus.EXPIRED, ListStatus.REVOKED),
    ListStatus.REJECTED: (), ListStatus.REMOVED: (), ListStatus.EXPIRED: (), ListStatus.REVOKED: (),
}
ACTIVE_LIST_STATUSES = (ListStatus.CANDIDATE, ListStatus.PRIOR_NOTICE, ListStatus.LISTED)
BAD_GRADES = ("red", "black")


def can_transition_list(current: ListStatus, target: ListStatus) -> bool:
    return target in LIST_TRANSITIONS[current]


def black_list_basis(vetoed_now: bool, last_final_grades: list[str]) -> str | None:
    """Why an enterprise is a black-list candidate: a veto event counts now, or its two latest final grades are
    both red or black (DOMAIN §4.1, §2.3 'red twice in a row')."""
    if vetoed_now:
        return "veto"
    if len(last_final_grades) >= 2 and all(g in BAD_GRADES for g in last_final_grades[:2]):
        return "bad_twice"
    return None


def white_list_basis(current_grade: str | None, last_final_grades: list[str],
                     deductions_in_two_years: int) -> str | None:
    """Positive-list candidate: green now and in its two latest final results, and no deduction in the last two
    years (DOMAIN §4.2: Fujian 2-year condition, Guangzhou Baiyun green two years running)."""
    if current_grade == "green" and len(last_final_grades) >= 2 and all(g == "green" for g in last_final_grades[:2]) \
            and deductions_in_two_years == 0:
        return "green_twice"
    return None


def listing_period(kind: ListKind, listed_on: date, months: dict[str, int]) -> tuple[date | None, date]:
    """(earliest removal, automatic expiry). Black: min/max months (default 12/36, the 2026 serious-dishonesty
    periods); white: no minimum, reviewed at the maximum (default 12)."""
    if kind == ListKind.BLACK:
        return add_months(listed_on, months["black_min"]), add_months(listed_on, months["black_max"])
    return None, add_months(listed_on, months["white_max"])


def decision_refusal(status: ListStatus, statement_due_on: date | None, has_statement: bool, today: date) -> str | None:
    """The lead decides only after the enterprise was told and had its say (statement given or time elapsed)."""
    if status != ListStatus.PRIOR_NOTICE:
        return "status"
    if not has_statement and statement_due_on is not None and today <= statement_due_on:
        return "statement_pending"
    return None


def removal_refusal(status: ListStatus, min_until: date | None, today: date) -> str | None:
    """A listing is removed (repaired) only after its minimum period; a revocation (decision annulled) any time."""
    if status != ListStatus.LISTED:
        return "status"
    if min_until is not None and today < min_until:
        return "min_period"
    return None


# --- credit repair (DOMAIN §3.2, §3.3) ------------------------------------------------------------------------------

REPAIR_TRANSITIONS = {
    RepairStatus.APPLIED: (RepairStatus.RETURNED, RepairStatus.VERIFYING),
    RepairStatus.RETURNED: (RepairStatus.APPLIED,),
    RepairStatus.VERIFYING: (RepairStatus.REJECTED, RepairStatus.PUBLIC_NOTICE),
    RepairStatus.PUBLIC_NOTICE: (RepairStatus.REPAIRED, RepairStatus.VERIFYING),
    RepairStatus.REPAIRED: (), RepairStatus.REJECTED: (),
}
OPEN_REPAIR_STATUSES = (RepairStatus.APPLIED, RepairStatus.RETURNED, RepairStatus.VERIFYING,
                        RepairStatus.PUBLIC_NOTICE)


def can_transition_repair(current: RepairStatus, target: RepairStatus) -> bool:
    return target in REPAIR_TRANSITIONS[current]


def repair_ineligibility(grade: str, repair: dict, run_final: bool, finalised_on: date | None, today: date,
                         is_vetoed: bool, black_listed: bool, repaired_within_year: bool,
                         has_open_application: bool) -> list[str]:
    """Every reason a final result cannot be repaired now (empty: eligible), shown before anyone applies:
    the scheme must allow repair of this grade, within its window after publication, and no exclusion applies
    (serious dishonesty: a veto or the black list; a repair in the last year; an application already open)."""
    reasons = []
    if not repair:
        return ["no_repair"]
    if grade not in repair["grades"]:
        reasons.append("grade")
    if not run_final or finalised_on is None:
        reasons.append("not_final")
    elif today > add_months(finalised_on, repair["apply_within_months"]):
        reasons.append("window")
    if is_vetoed:
        reasons.append("veto")
    if black_listed:
        reasons.append("black_list")
    if repaired_within_year:
        reasons.append("recent_repair")
    if has_open_application:
        reasons.append("open")
    return reasons


def repaired_grade(grade_codes: list[str], grade: str) -> str:
    """Repair raises the grade by one level (red → yellow, yellow → blue)."""
    index = grade_codes.index(grade)
    return grade_codes[max(index - 1, 0)]


def repair_decision_refusal(status: RepairStatus, notice_ends_on: date | None, today: date) -> str | None:
    if status != RepairStatus.PUBLIC_NOTICE:
        return "status"
    if notice_ends_on is not None and today <= notice_ends_on:
        return "notice_running"
    return None


# --- repair of one item of dishonesty information (DOMAIN §3.1, §3.3) ----------------------------------------------

# Minimum publication periods before an item may be repaired, from the decision date (2026 信用修复管理办法:
# general 3 months, serious 1 year). A veto event is serious dishonesty. Configurable (CREDIT_REPAIR_MIN_MONTHS).
EVIDENCE_REPAIR_MIN_MONTHS = {"general": 3, "serious": 12}


def evidence_repair_earliest(decided_on: date, serious: bool, min_months: dict[str, int]) -> date:
    return add_months(decided_on, min_months["serious" if serious else "general"])


def evidence_repair_ineligibility(scoring: bool, repaired: bool, deducts: bool, serious: bool, decided_on: date,
                                  today: date, min_months: dict[str, int], list_min_until: date | None,
                                  has_open_application: bool, scheme_allows: bool = True) -> list[str]:
    """Every reason an evidence item cannot be repaired now (empty: eligible): the enterprise's scheme must offer
    repair by application (Jiangsu: "no early repair of points", DOMAIN §2.3), the item must be confirmed, not
    withdrawn or already repaired, deduct points, have been published for its minimum period, and a black listing
    it caused must have reached its own minimum period; one open application per item."""
    if repaired:
        return ["repaired"]
    if not scheme_allows:
        return ["scheme"]
    if not scoring:
        return ["not_scoring"]
    reasons = []
    if not deducts:
        reasons.append("no_deduction")
    if today < evidence_repair_earliest(decided_on, serious, min_months):
        reasons.append("min_period")
    if list_min_until is not None and today < list_min_until:
        reasons.append("list_min_period")
    if has_open_application:
        reasons.append("open")
    return reasons


def listing_ended_by_repair(entry_evidence_id: int | None, basis: str, repaired_evidence_id: int,
                            still_vetoed: bool) -> bool:
    """A black listing ends when the evidence that is its reason is repaired. A veto listing recorded without its
    evidence ends when, after the repair, no veto event counts any more."""
    if entry_evidence_id is not None:
        return entry_evidence_id == repaired_evidence_id
    return basis == "veto" and not still_vetoed


# --- evidence attachments ----------------------------------------------------------------------------------------

ATTACHMENT_TYPES = {"application/pdf": ("pdf",), "image/jpeg": ("jpg", "jpeg"), "image/png": ("png",)}
MAX_ATTACHMENTS_PER_EVIDENCE = 10


def sniff_attachment(data: bytes) -> str | None:
    """The content type from the first bytes (never from the name or the browser's claim), or None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def attachment_public(is_public: bool, repaired: bool, withdrawn: bool) -> bool:
    """An attachment is public exactly when its evidence's details are: public, not repaired, not withdrawn."""
    return is_public and not repaired and not withdrawn


def can_download_attachment(public: bool, role: Role | None, jurisdiction: str | None, region_code: str) -> bool:
    """Anyone for public evidence; otherwise only regulators of the enterprise's jurisdiction."""
    return public or can_record_evidence(role, jurisdiction, region_code)


def evidence_action_refusals(role: Role | None, user_id: int, jurisdiction: str | None, region_code: str, *,
                             recorded_by_id: int | None, is_verified: bool, is_withdrawn: bool,
                             withdrawal_requested_by_id: int | None) -> dict[str, str | None]:
    """For the evidence desk: why each action ("confirm", "withdraw") is refused to this user right now, or None
    when it is allowed. The buttons are drawn disabled with the reason; the services refuse the same cases
    (services.confirm_evidence, findings.confirm, evidence.withdraw_evidence), so the page never decides alone.
    Codes: jurisdiction, withdrawn, verified, own_record, own_withdrawal."""
    if not can_record_evidence(role, jurisdiction, region_code):
        return {"confirm": "jurisdiction", "withdraw": "jurisdiction"}
    if is_withdrawn:
        return {"confirm": "withdrawn", "withdraw": "withdrawn"}
    # A detected finding has no recorder yet: the first regulator's confirmation records it (findings.confirm).
    confirm = verify_refusal(role, user_id, jurisdiction, region_code, recorded_by_id, is_verified, is_withdrawn)
    withdraw = "own_withdrawal" if is_verified and withdrawal_requested_by_id == user_id else None
    return {"confirm": confirm, "withdraw": withdraw}
