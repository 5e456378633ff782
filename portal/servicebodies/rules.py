"""Pure service-body rules: who records and confirms what (four eyes), which evidence scores, the list status the
standing implies, and engagement periods. Scoring itself is the enterprise engine (credit.scoring) over the
service-body scheme's rules. No database, request or app here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from portal.auth.models import Role
from portal.auth.rules import in_jurisdiction
from portal.credit import scoring

SERIOUS_DISHONESTY = "serious_dishonesty"  # 严重失信名单


@dataclass(frozen=True)
class EvidenceRow:
    id: int
    kind: str
    occurred_on: date
    is_confirmed: bool
    is_withdrawn: bool


def scoring_facts(rows: list[EvidenceRow]) -> list[scoring.Fact]:
    """Only confirmed, not withdrawn findings count (an unconfirmed finding is one regulator's word)."""
    return [scoring.Fact(evidence_id=r.id, kind=r.kind, occurred_on=r.occurred_on) for r in rows
            if r.is_confirmed and not r.is_withdrawn]


def list_status(standing: scoring.Standing) -> str | None:
    """A counting veto (falsified data, untrue report) puts the body on the serious dishonesty list while it
    counts; it leaves the list when the entry stops counting or is withdrawn."""
    return SERIOUS_DISHONESTY if standing.is_vetoed else None


def can_manage(role: Role | None, jurisdiction: str | None, region_code: str) -> bool:
    """Regulators register bodies and record findings for bodies of their jurisdiction."""
    return role is not None and role.is_regulator and in_jurisdiction(jurisdiction, region_code)


def confirm_refusal(role: Role | None, user_id: int, jurisdiction: str | None, region_code: str,
                    recorder_id: int | None, is_confirmed: bool, is_withdrawn: bool) -> str | None:
    """Why this user may not confirm the finding, or None. Four eyes: a second regulator of the jurisdiction."""
    if not can_manage(role, jurisdiction, region_code):
        return str(_l("Only a regulator of the body's jurisdiction confirms findings."))
    if is_confirmed or is_withdrawn:
        return str(_l("This finding is already confirmed or withdrawn."))
    if recorder_id is not None and recorder_id == user_id:
        return str(_l("You recorded this finding; a second regulator must confirm it (four eyes)."))
    return None


def evidence_problems(title: str, document_no: str, occurred_on: date | None, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(title.strip()) < 4:
        errors["title"] = str(_l("Say what was found (at least 4 characters)."))
    if len(document_no.strip()) < 3:
        errors["document_no"] = str(_l("Give the number of the document that records the finding."))
    if occurred_on is None:
        errors["occurred_on"] = str(_l("Give the date of the document."))
    elif occurred_on > today:
        errors["occurred_on"] = str(_l("The document date cannot be in the future."))
    return errors


def engagement_problems(starts_on: date | None, ends_on: date | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if starts_on is None:
        errors["starts_on"] = str(_l("Give the first day of the service."))
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = str(_l("The service cannot end before it starts."))
    return errors


def serving_on(starts_on: date, ends_on: date | None, day: date) -> bool:
    return starts_on <= day and (ends_on is None or day <= ends_on)
